"""`pers serve` end to end: a fresh data directory, the API and docs answer, and tenants,
keys and data survive a restart of the server and of the embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pers.embedded import stop_embedded
from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.chain_port = _free_port()
        self.chain = f"http://127.0.0.1:{self.chain_port}"
        self.process: subprocess.Popen[str] | None = None
        self.output = ""

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERS_")} | {
            "PERS_DATA_DIR": str(self.data_dir),
            "PERS_PORT": str(self.port),
            "PERS_DEVCHAIN_PORT": str(self.chain_port),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pers.cli", "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pers serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/v1.7/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("pers serve did not answer in time")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        self.output += out
        self.process = None


RECEIVER = "0x000000000000000000000000000000000000dEaD"


def _rpc(server: Server, method: str, params: list[Any]) -> Any:
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = httpx.post(server.chain, json=call, timeout=10).json()
    assert "result" in answer, answer
    return answer["result"]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = ROOT / ".pers-test" / f"serve-{uuid.uuid4().hex[:8]}"
    yield path
    stop_embedded(path)
    shutil.rmtree(path, ignore_errors=True)


def test_serve_answers_on_a_fresh_data_dir_and_keeps_data_across_restarts(
    data_dir: Path,
) -> None:
    server = Server(data_dir)
    server.start()
    try:
        assert httpx.get(f"{server.base}/docs").status_code == 200
        assert httpx.get(f"{server.base}/openapi.json").json()["paths"]
        platform_key = (data_dir / "keys" / "platform_api_key").read_text().strip()
        created = httpx.post(
            f"{server.base}/v1.7/tenant",
            json={"projectName": "Survivor"},
            headers={"x-api-key": platform_key},
        )
        assert created.status_code == 201, created.text
        tenant = created.json()
        funded = _rpc(server, "pers_fund", [RECEIVER, "0x2a"])
    finally:
        server.stop()
    assert f"{server.base}/docs" in server.output
    assert f"dev chain: {server.chain}" in server.output
    assert platform_key in server.output

    # A machine restart: the embedded PostgreSQL stops too.
    assert stop_embedded(data_dir)
    server.start()
    try:
        public = httpx.get(
            f"{server.base}/v1.7/tenant/public",
            headers={"x-project-key": tenant["testnetProjectApiKey"]},
        )
        assert public.status_code == 200, public.text
        assert public.json()["id"] == tenant["id"]
        # The signing key survived too: the one-time admin JWT still works.
        admin = httpx.get(
            f"{server.base}/v1.7/tenant/admin",
            headers={"Authorization": f"Bearer {tenant['jwt']}"},
        )
        assert admin.status_code == 200, admin.text
        assert (data_dir / "keys" / "platform_api_key").read_text().strip() == platform_key
        # The embedded dev chain kept its transactions.
        assert _rpc(server, "eth_getTransactionReceipt", [funded])["status"] == "0x1"
        assert _rpc(server, "eth_getBalance", [RECEIVER, "latest"]) == "0x2a"
    finally:
        server.stop()
