"""The quality gate on its labelled evaluation set (tests/quality_set.py): how well it separates good clips from
bad ones, per kind of defect, and what it costs.

Builds the set (good clips: pans, a push-in, a roll, a turn, a light change, a low bitrate, two scenes; bad ones:
hue, label, logo, shape, another product, the product missing, black, frozen, silent, wrong size), checks every
clip as `POST /v1/checks` does (technical checks and product fidelity, no judge model), and prints:
  - the confusion table (good/bad × passed/failed) and the share of bad clips caught, per kind;
  - the separation of each kind from the good clips by the report's score (ROC AUC: 1.0 = every bad clip scores
    below every good one);
  - CPU seconds per second of video, the decode included.

    python bench/quality.py [--size 1280x720]

Goals (the quality-gate issue): no good clip fails; ≥ 90 % of bad clips fail, each kind ≥ 80 %; ≤ 0.25 s of CPU
per second of 720p video on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.quality_set import build  # noqa: E402

from veo31.quality.gate import check_references, check_video  # noqa: E402


def auc(good: list[float], bad: list[float]) -> float:
    """P(a good clip scores above a bad one), ties counting half."""
    pairs = [(g > b) + 0.5 * (g == b) for g in good for b in bad]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1280x720", help="the clips' size, WxH (default 1280x720)")
    parser.add_argument("--seconds", type=float, default=8.0, help="each clip's length (default 8: Veo's)")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="veo31-quality-") as folder:
        began = time.perf_counter()
        cases = build(Path(folder), size=(width, height), seconds=args.seconds)
        took = time.perf_counter() - began
        print(f"built {len(cases)} clips of {args.seconds:g} s at {width}×{height} in {took:.0f} s\n")
        scores: dict[str, list[float]] = defaultdict(list)
        caught: dict[str, list[bool]] = defaultdict(list)
        cpu, seconds = 0.0, 0.0
        for case in cases:
            references = check_references([case.reference()])
            started = time.process_time()
            report = check_video(str(case.clip), case.asked, references)
            cpu += time.process_time() - started
            seconds += args.seconds
            kind = case.defect or "good"
            scores[kind].append(report.score)
            caught[kind].append(not report.passed)
            failed = ", ".join(check.kind.value for check in report.failures()) or "-"
            verdict = "passed" if report.passed else "FAILED"
            print(f"  {case.name:12} {kind:14} {verdict:7} score {report.score:.2f}  {failed}")
    good_failed = sum(caught["good"])
    bad = [flag for kind, flags in caught.items() if kind != "good" for flag in flags]
    print("\n              passed  failed")
    print(f"  good clips  {len(caught['good']) - good_failed:6}  {good_failed:6}   (goal: 0 failed)")
    print(f"  bad clips   {len(bad) - sum(bad):6}  {sum(bad):6}   caught {sum(bad) / len(bad):.0%} (goal ≥ 90 %)\n")
    print("  defect          caught   ROC AUC (score, against the good clips)")
    for kind in sorted(kind for kind in caught if kind != "good"):
        share = sum(caught[kind]) / len(caught[kind])
        print(f"  {kind:14} {share:7.0%}   {auc(scores['good'], scores[kind]):.3f}")
    print(f"\n  CPU {cpu / seconds:.3f} s per second of {width}×{height} video (goal ≤ 0.25 at 720p; 2 cores)")


if __name__ == "__main__":
    main()
