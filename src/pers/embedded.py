"""The embedded PostgreSQL (pgserver) used when ``PERS_DATABASE_URL`` is unset."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "pers"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _server(data_dir: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes.
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]


def enable_app_login(data_dir: Path, role: str) -> None:
    """Let the app role log in (over the local socket, trust auth), so the API never logs in
    as the owner: a session can always ``SET ROLE`` back to its login role."""
    if not _IDENTIFIER.match(role):
        raise ValueError(f"unsafe role name {role!r}")
    _server(data_dir).psql(f"ALTER ROLE {role} LOGIN;")


def start_embedded(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server in ``data_dir/pg``; return an owner URL.

    The server keeps running after this process exits (``cleanup_mode=None``), so restarts
    and several processes on one data directory share one PostgreSQL and its data.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes.
        warnings.simplefilter("ignore")
        import pgserver

    if not _IDENTIFIER.match(database):
        raise ValueError(f"unsafe database name {database!r}")

    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server: Any = pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created embedded database %s", database)
    uri: str = server.get_uri(database)
    # pgserver returns postgresql://postgres:@/db?host=/socket; asyncpg wants no empty password.
    return uri.replace("postgresql://postgres:@", "postgresql://postgres@")


def stop_embedded(data_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the embedded server (fast shutdown: SIGINT to the postmaster); False if not running.

    The data stays; the next ``start_embedded`` on the same directory starts it again.
    """
    pid_file = (data_dir / "pg" / "postmaster.pid").resolve()
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while pid_file.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"embedded PostgreSQL (pid {pid}) did not stop")
        time.sleep(0.05)
    return True
