"""The veo31 command as the CLI tests run it: a real subprocess with a clean environment of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.databases import database_env

VEO31 = [sys.executable, "-m", "veo31"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GEMINI_", "GOOGLE_", "VEO31_"))}
    env = dict(env or {})
    if "VEO31_DATABASE_URL" not in env:  # the data folder's own database (a SQLite file, or one on the test cluster)
        env.update(database_env(env.get("VEO31_DATA_DIR") or Path(cwd or os.getcwd()) / "data"))
    return subprocess.run(
        [*VEO31, *args],
        env={**clean, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
