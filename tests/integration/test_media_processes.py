"""Retrieval's heavy work runs in media processes of their own (veo31.media.processes): real spawned processes,
real signals. What a user would notice: errors arrive with their reasons, a media process that dies does not take
the server down or lose the job, and none is left behind when the server is killed."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from veo31.errors import InvalidMediaError, MediaProcessError
from veo31.media import processes
from veo31.media.probe import probe_video
from veo31.media.testpattern import render_test_pattern


def refuse(field: str) -> None:
    raise InvalidMediaError("not a video", field=field)


def die_unless_marked(marker: str) -> int:
    """Dies the first time (as an out-of-memory kill would), works the second: the retry in a fresh pool."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


def always_die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_job_runs_in_another_process_and_its_errors_keep_their_reasons(tmp_path: Path) -> None:
    video = render_test_pattern(tmp_path / "clip.mp4", width=320, height=240, seconds=1.0)
    poster = tmp_path / "clip.jpg"

    async def scenario() -> None:
        assert await processes.run(os.getpid) != os.getpid()
        info = await processes.run(functools.partial(probe_video, video, poster=poster))
        assert (info.width, info.height) == (320, 240) and info.frames > 0 and poster.stat().st_size > 0
        with pytest.raises(InvalidMediaError) as caught:
            await processes.run(functools.partial(refuse, "video"))
        assert caught.value.message == "not a video" and caught.value.field == "video"

    asyncio.run(scenario())


def test_a_media_process_that_dies_costs_neither_the_job_nor_the_server(tmp_path: Path) -> None:
    async def scenario() -> None:
        survivor = await processes.run(functools.partial(die_unless_marked, str(tmp_path / "died-once")))
        assert survivor != os.getpid()
        with pytest.raises(MediaProcessError) as caught:
            await processes.run(always_die)
        assert "died twice" in caught.value.message
        assert await processes.run(os.getpid) != os.getpid()  # fresh processes for the next job

    asyncio.run(scenario())


ORPHANED = """
import asyncio, functools, os, time
from veo31.media import processes
from tests.integration.test_media_processes import pid_after

async def main():
    processes.configure(2)
    pids = await asyncio.gather(*(processes.run(functools.partial(pid_after, 0.5)) for _ in range(2)))
    print(" ".join(map(str, sorted(pids))), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_media_processes_leave_when_their_server_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANED], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    try:
        assert parent.stdout is not None
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(set(children)) == 2 and all(alive(pid) for pid in children)
        parent.send_signal(signal.SIGKILL)  # no chance to stop its pool
        parent.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in children), "media processes outlived their server"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


def environment_variable(name: str) -> str | None:
    return os.environ.get(name)


def test_media_processes_do_not_inherit_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIE_API_KEY", "kie-secret-0000")
    monkeypatch.setenv("VEO31_DATABASE_URL", "postgresql://veo31:db-secret@db/veo31")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    processes.configure(3)  # a fresh pool, started with this environment

    async def scenario() -> list[str | None]:
        names = ("KIE_API_KEY", "VEO31_DATABASE_URL", "HTTPS_PROXY", "PATH")
        return [await processes.run(functools.partial(environment_variable, name)) for name in names]

    key, database, proxy, path = asyncio.run(scenario())
    assert key is None and database is None
    assert proxy == "http://proxy.internal:3128" and path  # what downloads need is passed on
