"""A throwaway PostgreSQL server: a cluster made with initdb in a temporary directory, on a free
local port, run as the ``postgres`` user (initdb refuses root), stopped and removed afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    return (BIN / "initdb").is_file() and shutil.which("runuser") is not None


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields the SQLAlchemy URL of a new database on a new server."""
    # Its own directory under /tmp: the postgres user cannot enter pytest's root-only tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="adder-postgres-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    try:
        subprocess.run(_as_postgres(str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"), **run)
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
        start = [str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"]
        subprocess.run(_as_postgres(*start), **run)
        try:
            create = [str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "adder"]
            subprocess.run(_as_postgres(*create), **run)
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/adder"
        finally:
            subprocess.run(_as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"), **run)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
