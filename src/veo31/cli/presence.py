"""Which veo31 server serves a data folder. While `veo31 serve` runs it says so in `<data folder>/server.json`;
the other commands then send their work to it (saying so) instead of running a pipeline of their own beside it,
and the links they print are that server's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

FILE = "server.json"


def local_url(host: str, port: int) -> str:
    """How a command on this machine reaches a server bound to `host`."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def announce(data_dir: Path, url: str) -> Path:
    """Say that this process serves `data_dir` at `url` (written whole: a reader never sees half a file)."""
    path = Path(data_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    scratch.replace(path)
    return path


def withdraw(path: Path) -> None:
    """Take the announcement back, if it is still this process's (another server may have started since)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        return


def running_server(data_dir: Path) -> str | None:
    """The URL of the veo31 server that serves `data_dir`, if one is running and answering; else None."""
    try:
        announced = json.loads((Path(data_dir) / FILE).read_text(encoding="utf-8"))
        url, pid = str(announced["url"]), int(announced["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # still running? (signal 0 only asks)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # running, as another user
    try:
        answered = httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return None
    return url if answered else None
