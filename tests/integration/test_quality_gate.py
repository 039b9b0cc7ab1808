"""The quality gate through a real `veo31 serve` and the Kie emulator, which renders its results from the product
photo it was given (8 s with sound, as Veo makes them) — or, with the fault `hue_shift`, shows the product in
another colour: a video that decodes fine and shows the wrong product.

`hold` ends such a video `needs_review` with the reasons, approve → completed, reject → failed with the video kept;
`retry` submits exactly once more and stops; `report` completes with the report."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.clips import PHOTO
from tests.conftest import KIE_TEST_KEY, ServeProcess
from tests.integration.conftest import free_port, kie_process, settled
from veo31.media.probe import probe_video


@pytest.fixture(scope="module")
def kie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kie_process(tmp_path_factory.mktemp("kie"), clip_seconds=8, generation_seconds=1) as url:
        yield url


def serve(kie: str, folder: Path, policy: str, **extra: str) -> ServeProcess:
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": kie,
            "KIE_UPLOAD_BASE_URL": kie,
            "VEO31_FIRST_POLL_SECONDS": "0.5",
            "VEO31_MAX_POLL_SECONDS": "0.5",
            "VEO31_QUEUE_POLL_SECONDS": "0.2",
            "VEO31_QUALITY_GATE": policy,
            **extra,
        },
        free_port(),
        str(folder),
    )
    server.start()
    return server


def bad_results(kie: str, count: int | None) -> None:
    """The next `count` tasks (None: every one) show the product in another colour."""
    httpx.post(f"{kie}/_emulator/reset", timeout=10).raise_for_status()  # and its call counts start again
    fault = {"kind": "hue_shift", "count": count}
    httpx.post(f"{kie}/_emulator/faults", json=fault, timeout=10).raise_for_status()


def generate(server: ServeProcess) -> dict:
    files = [("images", ("mug.jpg", PHOTO.read_bytes(), "image/jpeg"))]
    answer = httpx.post(
        f"{server.url}/v1/generations", files=files, data={"product_name": "Blue Mug", "mode": "reference"}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def veo31(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veo31", *args], capture_output=True, text=True, timeout=60)


def generate_calls(kie: str) -> int:
    return int(httpx.get(f"{kie}/_emulator/state", timeout=10).json()["calls"].get("generate", 0))


def failed_kinds(generation: dict) -> set[str]:
    return {check["kind"] for check in generation["quality"]["checks"] if not check["passed"]}


def test_hold_keeps_a_wrong_product_for_review(kie: str, tmp_path: Path) -> None:
    bad_results(kie, 2)
    server = serve(kie, tmp_path / "data", "hold")
    try:
        held, rejected = (settled(server.url, generate(server)["id"]) for _ in range(2))
        good = settled(server.url, generate(server)["id"])
        assert good["status"] == "completed" and good["quality"]["passed"] is True, good["quality"]
        assert [c["status"] for c in good["history"]][-2:] == ["checking", "completed"]

        assert held["status"] == "needs_review", held["history"]
        assert "colour" in failed_kinds(held), held["quality"]
        reason = held["history"][-1]["detail"]
        assert reason.startswith("needs review:") and "colour" in reason.lower(), reason
        assert held["video_url"] and httpx.get(held["video_url"]).status_code == 200, "a held video stays available"
        frame = httpx.get(held["quality"]["frame"])
        assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
        assert {"approve", "reject"} <= set(held["links"]) and "cancel" not in held["links"]
        assert httpx.post(f"{server.url}/v1/generations/{held['id']}/cancel").status_code == 409
        old_page = httpx.get(f"{server.url}/veo31/kie-status/{held['id']}").json()  # what the old page polls
        assert old_page["status"] == "failed" and old_page["stage"] == "needs_review", "it stops waiting…"
        assert "needs review" in old_page["error"] and "approve" in old_page["error"], "…and says why and where"

        drive_by = {"Origin": "https://evil.example"}  # another site's page cannot approve what a person must judge
        refused = httpx.post(f"{server.url}/v1/generations/{held['id']}/approve", headers=drive_by)
        assert refused.status_code == 403
        too_long = httpx.post(f"{server.url}/v1/generations/{held['id']}/approve", json={"note": "x" * 501})
        assert too_long.status_code == 422 and "500" in too_long.text
        approved = httpx.post(f"{server.url}/v1/generations/{held['id']}/approve", json={"note": "colour is fine"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "completed"
        assert approved.json()["history"][-1]["detail"] == "approved in review: colour is fine"
        again = httpx.post(f"{server.url}/v1/generations/{held['id']}/reject")
        assert again.status_code == 409 and "only one that needs review" in again.json()["detail"]

        shown = veo31("status", rejected["id"][:8], "--server", server.url)
        assert shown.returncode == 1, "held: not done"
        assert "needs_review" in shown.stdout and "quality failed" in shown.stdout and "✗ colour" in shown.stdout
        cli = veo31("reject", rejected["id"], "--note", "wrong blue", "--server", server.url)
        assert cli.returncode == 0, cli.stderr
        after = httpx.get(f"{server.url}/v1/generations/{rejected['id']}").json()
        assert after["status"] == "failed" and after["error"]["kind"] == "rejected"
        assert "wrong blue" in after["error"]["message"]
        assert httpx.get(after["video_url"]).status_code == 200, "a rejected video is kept: it was paid for"
        assert generate_calls(kie) == 3, "nothing was submitted again"
    finally:
        server.stop()


def test_retry_submits_once_more_with_a_new_seed_and_stops(kie: str, tmp_path: Path) -> None:
    bad_results(kie, 1)
    server = serve(kie, tmp_path / "data", "retry")
    try:
        fixed = settled(server.url, generate(server)["id"])
        assert fixed["status"] == "completed" and fixed["quality"]["passed"] is True, fixed["history"]
        assert generate_calls(kie) == 2
        [attempt] = fixed["attempts"]
        assert "colour" in {c["kind"] for c in attempt["quality"]["checks"] if not c["passed"]}
        assert attempt["seed"] is None, "the request named no seed"
        assert isinstance(fixed["spec"]["seed"], int), "the retry was sent with one of its own"
        assert attempt["task_id"] != fixed["provider_task_id"]
        kept = httpx.get(attempt["video_url"])
        assert kept.status_code == 200 and kept.content != httpx.get(fixed["video_url"]).content
        assert fixed["cost"]["earlier_attempts_usd"] == pytest.approx(attempt["cost_usd"]) and attempt["cost_usd"] > 0
        retried = [c["detail"] for c in fixed["history"] if "attempt 2 of 2" in (c["detail"] or "")]
        assert retried and "seed" in retried[0], fixed["history"]

        bad_results(kie, None)
        stuck = settled(server.url, generate(server)["id"])
        assert stuck["status"] == "needs_review" and len(stuck["attempts"]) == 1, stuck["history"]
        assert generate_calls(kie) == 2, "exactly one more paid attempt, then a person decides"
        assert "no retry left" in stuck["history"][-1]["detail"]
        total = httpx.get(f"{server.url}/v1/generations", params={"status": "needs_review"}).json()["cost_total_usd"]
        assert total == pytest.approx(stuck["cost"]["reported_usd"] + stuck["cost"]["earlier_attempts_usd"])
    finally:
        server.stop()


def test_report_completes_with_the_report(kie: str, tmp_path: Path) -> None:
    bad_results(kie, 1)
    data = tmp_path / "data"
    server = serve(kie, data, "report")
    try:
        done = settled(server.url, generate(server)["id"])
    finally:
        server.stop()
    assert done["status"] == "completed" and done["quality"]["passed"] is False
    assert "colour" in failed_kinds(done)
    assert done["history"][-1]["detail"].startswith("completed; quality:"), done["history"]
    assert done["attempts"] == [] and generate_calls(kie) == 1
    assert probe_video(data / "blobs" / "videos" / f"{done['id']}.mp4").frames > 0


def test_a_crash_while_checking_is_resumed_and_pays_once(kie: str, tmp_path: Path) -> None:
    bad_results(kie, 1)
    server = serve(kie, tmp_path / "data", "hold")
    try:
        generation_id = generate(server)["id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/v1/generations/{generation_id}", timeout=10).json()["status"] != "checking":
            assert time.monotonic() < deadline, "it never reached the quality gate"
            time.sleep(0.03)
        server.kill()  # -9, in the middle of the check
        server.start()
        held = settled(server.url, generation_id)
    finally:
        server.stop()
    assert held["status"] == "needs_review" and "colour" in failed_kinds(held), held["history"]
    assert [c["status"] for c in held["history"]].count("needs_review") == 1
    assert generate_calls(kie) == 1, "the check was run again; the video was not paid for again"


def test_retry_never_passes_the_budget(kie: str, tmp_path: Path) -> None:
    bad_results(kie, None)
    # One Kie.ai fast video costs $0.84 here: the first attempt fits under $1.20, a second would not.
    server = serve(kie, tmp_path / "data", "retry", VEO31_BUDGET_LIMIT="1.20")
    try:
        held = settled(server.url, generate(server)["id"])
    finally:
        server.stop()
    assert held["status"] == "needs_review" and held["attempts"] == [], held["history"]
    assert "no retry" in held["history"][-1]["detail"] and "VEO31_BUDGET_LIMIT" in held["history"][-1]["detail"]
    assert generate_calls(kie) == 1, "the retry that would pass the spend cap was never paid for"
