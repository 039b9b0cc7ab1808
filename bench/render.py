"""The local renderer against its floor and against FFmpeg's zoompan, side by side in one run.

An 8 s clip (30 fps) from 3 photos, at 720p and 1080p, made four ways:
  ours      veo31's renderer (media/render.py), the "fast" tier's encoder settings
  floor     the same encoder, settings and threads fed the very same frames, precomputed in memory
  zoompan+  FFmpeg's zoompan with the ~8000 px pre-scale people add against its jitter (what people use today)
  zoompan   the same zoompan without the pre-scale
Each runs in its own process (so peak memory is its own), with the same x264 preset, CRF and an AAC track. For
each output it prints the time, the ratios, the peak RSS and a jitter figure: the spread (px) of the product's
frame-to-frame motion around its smoothed course, measured by tracking points within the first photo's shot.

    python bench/render.py [--repeat 3] [--look studio|flat]

The studio look (the local provider's: product and backdrop drawn as two layers, a light sweep, a music bed) draws
more per frame than the flat one (the emulators': one warp of a photo over a blurred fill), which is what issue 7's
goals were set for; `--look flat` measures that one.

Goals (issue 7): ours ≤ 1.3× the floor at both sizes, ≥ 3× faster than zoompan+, smoother than zoompan, and peak
memory ≤ 400 MB at 1080p. Needs the dev extra (imageio-ffmpeg ships the ffmpeg binary).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np

if TYPE_CHECKING:
    from veo31.media.render import RenderSpec

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = [
    ROOT / "tests" / "fixtures" / name for name in ("product-in-scene.jpg", "product-on-white.jpg", "tall-photo.jpg")
]
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS, SECONDS = 30, 8
FADE = 0.6
WAYS = ("ours", "floor", "zoompan+", "zoompan")


def spec_for(size: str) -> RenderSpec:
    from veo31.media.render import Look, RenderSpec
    from veo31.providers.local import ENCODER

    preset, crf = ENCODER["fast"]
    width, height = SIZES[size]
    look = Look(os.environ.get("VEO31_BENCH_LOOK", "studio"))
    return RenderSpec(
        width, height, fps=FPS, duration=SECONDS, use_case="hero_image", crf=crf, x264_preset=preset, look=look
    )


def run_ours(size: str, out: Path) -> float:
    from veo31.media.render import render_video

    photos = [path.read_bytes() for path in PHOTOS]
    started = time.perf_counter()
    render_video(photos, spec_for(size), out)
    return time.perf_counter() - started


def run_floor(size: str, out: Path) -> float:
    from veo31.media.render import encode, frames

    spec = spec_for(size)
    ready = list(frames([path.read_bytes() for path in PHOTOS], spec))
    started = time.perf_counter()
    encode(iter(ready), spec, out)
    return time.perf_counter() - started


def zoompan_graph(size: str, prescale: bool) -> str:
    """Per photo: fit into 16:9 (pre-scaled to 8000 px wide or not), the same push-in as ours (zoom 1 → 1.12 over
    the shot), then crossfades of 0.6 s between the shots."""
    width, height = SIZES[size]
    shot = (FPS * SECONDS + round(FADE * FPS) * (len(PHOTOS) - 1)) / len(PHOTOS)
    frames = round(shot)
    step = 0.12 / frames
    parts = []
    for index, photo in enumerate(PHOTOS):
        with av.open(str(photo)) as container:
            stream = container.streams.video[0]
            pw, ph = stream.codec_context.width, stream.codec_context.height
        canvas_w = 8000 if prescale else max(pw, round(ph * 16 / 9))
        canvas_w -= canvas_w % 2
        canvas_h = round(canvas_w * 9 / 16) // 2 * 2
        parts.append(
            f"[{index}:v]scale={canvas_w}:{canvas_h}:force_original_aspect_ratio=decrease,"
            f"pad={canvas_w}:{canvas_h}:(ow-iw)/2:(oh-ih)/2,setsar=1,"
            f"zoompan=z='min(1+{step:.6f}*on,1.12)':d={frames}:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
            f":s={width}x{height}:fps={FPS},format=yuv420p[s{index}]"
        )
    last = "s0"
    for index in range(1, len(PHOTOS)):
        offset = index * (frames - round(FADE * FPS)) / FPS
        parts.append(f"[{last}][s{index}]xfade=transition=fade:duration={FADE}:offset={offset:.3f}[x{index}]")
        last = f"x{index}"
    parts.append(f"[{last}]trim=end_frame={FPS * SECONDS}[v]")
    return ";".join(parts)


def run_zoompan(size: str, out: Path, prescale: bool) -> float:
    import imageio_ffmpeg

    spec = spec_for(size)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error"]
    for photo in PHOTOS:
        command += ["-i", str(photo)]
    command += ["-f", "lavfi", "-t", str(SECONDS), "-i", "anullsrc=r=48000:cl=stereo"]
    command += ["-filter_complex", zoompan_graph(size, prescale), "-map", "[v]", "-map", f"{len(PHOTOS)}:a"]
    command += ["-c:v", "libx264", "-preset", spec.x264_preset, "-crf", str(spec.crf), "-c:a", "aac"]
    command += ["-movflags", "+faststart", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def one(way: str, size: str, out: Path) -> dict[str, float]:
    """Run one way in this process and report its time and this process' (or its ffmpeg's) peak RSS."""
    if way == "ours":
        seconds = run_ours(size, out)
    elif way == "floor":
        seconds = run_floor(size, out)
    else:
        seconds = run_zoompan(size, out, prescale=way == "zoompan+")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": max(own, child) / 1024}


def jitter(path: Path) -> float:
    """Spread (px) of the per-frame motion of tracked points around its 7-frame moving average, over the first
    photo's shot (crossfades excluded), so uneven steps show and a smooth push-in does not."""
    shot_end = round((FPS * SECONDS + round(FADE * FPS) * 2) / 3) - round(FADE * FPS)
    grays = []
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= shot_end:
                break
            grays.append(frame.to_ndarray(format="gray"))
    motion = []
    for before, after in zip(grays[2:], grays[3:], strict=False):
        points = cv2.goodFeaturesToTrack(before, maxCorners=400, qualityLevel=0.01, minDistance=8)
        moved, found, _ = cv2.calcOpticalFlowPyrLK(before, after, points, None)
        steps = (moved - points).reshape(-1, 2)[found.ravel() == 1]
        motion.append(float(np.median(np.linalg.norm(steps, axis=1))))
    series = np.array(motion)
    smooth = np.convolve(series, np.ones(7) / 7, mode="valid")
    return float(np.std(series[3:-3] - smooth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way; the best time counts")
    parser.add_argument("--look", choices=["studio", "flat"], default="studio", help="the renderer's look")
    parser.add_argument("--one", nargs=3, metavar=("WAY", "SIZE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], Path(args.one[2]))))
        return
    os.environ["VEO31_BENCH_LOOK"] = args.look  # the runs below are child processes: they read it from there
    print(f"the {args.look} look")
    with tempfile.TemporaryDirectory(prefix="veo31-bench-render-") as folder:
        for size in SIZES:
            results: dict[str, dict[str, float]] = {}
            for way in WAYS:
                out = Path(folder) / f"{way}-{size}.mp4"
                runs = []
                for _ in range(args.repeat):  # interleaving would be fairer still; repeats take the best
                    answer = subprocess.run(
                        [sys.executable, __file__, "--one", way, size, str(out)],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    runs.append(json.loads(answer.stdout))
                best = min(runs, key=lambda run: run["seconds"])
                results[way] = {**best, "peak_mb": max(run["peak_mb"] for run in runs), "jitter": jitter(out)}
            report(size, results)


def report(size: str, results: dict[str, dict[str, float]]) -> None:
    ours = results["ours"]["seconds"]
    print(f"\n{size}: 8 s at {FPS} fps from {len(PHOTOS)} photos")
    print(f"  {'way':<10}{'seconds':>9}{'ours ×':>9}{'peak MB':>9}{'jitter px':>11}")
    for way, result in results.items():
        ratio = result["seconds"] / ours
        print(f"  {way:<10}{result['seconds']:>9.2f}{ratio:>9.2f}{result['peak_mb']:>9.0f}{result['jitter']:>11.3f}")
    print(
        f"  ours / floor = {ours / results['floor']['seconds']:.2f} (goal ≤ 1.3); "
        f"zoompan+ / ours = {results['zoompan+']['seconds'] / ours:.2f} (goal ≥ 3); "
        f"jitter ours {results['ours']['jitter']:.3f} vs zoompan {results['zoompan']['jitter']:.3f} px"
    )


if __name__ == "__main__":
    main()
