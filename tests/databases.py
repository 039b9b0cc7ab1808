"""Which database the tests run on: SQLite files (the default) or, with VEO31_TEST_DATABASE=postgresql, a throwaway
PostgreSQL cluster of their own — Debian's `initdb` + `pg_ctl` on a loopback port, trust auth, in a temporary
folder that is removed when the run ends. Never a shared server.

`database_for(data_dir)` gives every veo31 data folder its own database (the same one each time it is asked for
that folder), so tests stay as isolated as with one SQLite file per folder.
"""

from __future__ import annotations

import atexit
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

KIND = os.environ.get("VEO31_TEST_DATABASE", "sqlite").strip().lower()
if KIND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"VEO31_TEST_DATABASE={KIND!r}: use sqlite or postgresql")


class Cluster:
    """A PostgreSQL cluster for this test run only."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (scripts/test.sh does it)")
        self.bin = Path(binaries[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="veo31-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=400"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def create_database(self) -> str:
        name = f"veo31_{secrets.token_hex(6)}"
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


_cluster: Cluster | None = None
_by_folder: dict[str, str] = {}


def cluster() -> Cluster:
    global _cluster
    if _cluster is None:
        _cluster = Cluster()
        atexit.register(_cluster.stop)
    return _cluster


def database_for(data_dir: str | Path) -> str | None:
    """The database URL for veo31 with this data folder: None on SQLite (the folder's own file)."""
    if KIND == "sqlite":
        return None
    key = str(Path(data_dir).resolve())
    if key not in _by_folder:
        _by_folder[key] = cluster().create_database()
    return _by_folder[key]


def database_env(data_dir: str | Path) -> dict[str, str]:
    """The environment a veo31 process needs for this folder's database."""
    url = database_for(data_dir)
    return {"VEO31_DATABASE_URL": url} if url else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
