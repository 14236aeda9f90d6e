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


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _until(what: str, check: Any, seconds: float = 120.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not reached in {seconds} s")


def _call(server: Server, to: str, data: str) -> int:
    return int(_rpc(server, "eth_call", [{"to": to, "data": data}, "latest"]), 16)


def _balance_of(server: Server, token: str, holder: str, token_id: int | None = None) -> int:
    address = holder[2:].lower().rjust(64, "0")
    if token_id is None:  # ERC-20 balanceOf(address)
        return _call(server, token, "0x70a08231" + address)
    # ERC-1155 balanceOf(address,uint256)
    return _call(server, token, "0x00fdd58e" + address + hex(token_id)[2:].rjust(64, "0"))


def test_serve_settles_a_claim_a_redeem_and_a_transfer_and_they_stay_settled(
    data_dir: Path,
) -> None:
    """DESIGN §7 end to end: `pers serve` on a fresh data directory deploys the tenant's
    contracts and settles a claim, a redeem and a transfer through its own worker; the
    contracts hold what the ledger says, before and after a restart."""
    server = Server(data_dir)
    server.start()
    base = f"{server.base}/v1.7"
    try:
        platform_key = (data_dir / "keys" / "platform_api_key").read_text().strip()
        tenant = _ok(
            httpx.post(f"{base}/tenant", json={"projectName": "Settled"},
                       headers={"x-api-key": platform_key}),
            201,
        )  # fmt: skip
        admin = {"Authorization": f"Bearer {tenant['jwt']}"}
        project = {"x-project-key": tenant["testnetProjectApiKey"]}
        _ok(httpx.put(f"{base}/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True},
                      headers=admin))  # fmt: skip

        def deploy(body: dict[str, Any]) -> dict[str, Any]:
            requested = _ok(httpx.post(f"{base}/token/admin/deploy", json=body, headers=admin), 202)

            def done() -> Any:
                found = _ok(
                    httpx.get(f"{base}/token/admin/deploy/{requested['id']}", headers=admin)
                )
                assert found["status"] != "failed", found
                return found if found["status"] == "succeeded" else None

            return dict(_until("deployment", done))

        credit = deploy({"type": "ERC20", "name": "Points", "symbol": "PTS", "decimals": 0})
        reward = deploy({"type": "ERC1155", "name": "Rewards", "symbol": "RWD"})
        item = _ok(httpx.post(f"{base}/token/admin/{reward['tokenId']}/metadata",
                              json={"name": "Voucher"}, headers=admin), 201)  # fmt: skip
        item_id = int(item.get("metadata", [item])[-1]["tokenMetadataIncrementalId"])

        # A campaign a user claims: 30 credits.
        campaign = _ok(httpx.post(f"{base}/campaign/admin", json={"name": "Welcome"},
                                  headers=admin), 201)  # fmt: skip
        unit = {"tokenId": credit["tokenId"], "amount": 30}
        _ok(httpx.post(f"{base}/campaign/admin/{campaign['id']}/token-units", json=unit,
                       headers=admin), 201)  # fmt: skip
        trigger = _ok(httpx.post(f"{base}/campaign/admin/trigger", json={"name": "Hello"},
                                 headers=admin), 201)  # fmt: skip
        _ok(httpx.put(f"{base}/campaign/admin/{campaign['id']}/trigger/{trigger['id']}",
                      headers=admin))  # fmt: skip
        _ok(httpx.put(f"{base}/campaign/admin/{campaign['id']}/activate", headers=admin))
        # A redemption: 10 credits for a voucher.
        redemption = _ok(httpx.post(f"{base}/redemption/admin",
                                    json={"name": "Coffee", "creditTokenAmount": 10},
                                    headers=admin), 201)  # fmt: skip
        _ok(httpx.post(f"{base}/redemption/admin/{redemption['id']}/token-units",
                       json={"tokenId": reward["tokenId"], "tokenMetadataIncrementalId": item_id,
                             "amount": 1}, headers=admin), 201)  # fmt: skip
        _ok(httpx.put(f"{base}/redemption/admin/{redemption['id']}/toggle-active",
                      headers=admin))  # fmt: skip
        # A partner business the user pays.
        business = _ok(httpx.post(f"{base}/business/admin", json={"displayName": "Cafe"},
                                  headers=admin), 201)  # fmt: skip
        _ok(httpx.put(f"{base}/business/admin/activate/{business['id']}",
                      json={"isActive": True}, headers=admin))  # fmt: skip

        login = _ok(httpx.post(f"{base}/auth/token", json={"rawLoginData": {"n": 1}},
                               headers=project))  # fmt: skip
        user = {**project, "Authorization": f"Bearer {login['accessToken']}"}
        me = _ok(httpx.get(f"{base}/user/auth/me", headers=user))
        claim = _ok(httpx.post(f"{base}/campaign/auth/claim",
                               json={"campaignId": campaign["id"]}, headers=user), 201)  # fmt: skip
        redeem_body = {"redemptionId": redemption["id"]}
        redeem = _ok(httpx.post(f"{base}/redemption/auth/redeem", json=redeem_body,
                                headers=user), 201)  # fmt: skip
        transfer = _ok(httpx.post(f"{base}/transaction/auth/transfer/credits",
                                  json={"businessId": business["id"], "amount": 5,
                                        "chainId": credit["chainId"]},
                                  headers=user), 201)  # fmt: skip

        # The claim's mint, the redeem's spend and receive, the transfer.
        ids = {*claim["transactionIds"], *redeem["transactionIds"], transfer["id"]}
        assert len(ids) == 4

        def all_settled() -> Any:
            rows = [_ok(httpx.get(f"{base}/transaction/{i}", headers=admin)) for i in ids]
            assert not [r for r in rows if r["status"] == "failed"], rows
            return rows if all(r["status"] == "succeeded" for r in rows) else None

        settled = _until("settlement", all_settled)
        for row in settled:
            assert row["transactionHash"].startswith("0x")
            receipt = _rpc(server, "eth_getTransactionReceipt", [row["transactionHash"]])
            assert receipt["status"] == "0x1"

        def ledger(holder: str, token: str) -> int:
            body = _ok(httpx.get(f"{base}/balance/account/{holder}", headers=project))
            return sum(int(b["balance"]) for b in body["tokenBalances"]
                       if b["contractAddress"] == token)  # fmt: skip

        holder = me["accountAddress"]
        shop = business["accountAddress"]
        expected = {
            (credit["contractAddress"], holder, None): 30 - 10 - 5,
            (credit["contractAddress"], shop, None): 5,
            (reward["contractAddress"], holder, item_id): 1,
        }
        for (token, who, token_id), amount in expected.items():
            assert _balance_of(server, token, who, token_id) == amount
            assert ledger(who, token) == amount
    finally:
        server.stop()

    assert stop_embedded(data_dir)
    server.start()
    try:
        for (token, who, token_id), amount in expected.items():
            assert _balance_of(server, token, who, token_id) == amount
        for row in settled:
            again = _ok(httpx.get(f"{base}/transaction/{row['id']}", headers=admin))
            assert again["status"] == "succeeded"
            assert again["transactionHash"] == row["transactionHash"]
            receipt = _rpc(server, "eth_getTransactionReceipt", [row["transactionHash"]])
            assert receipt["status"] == "0x1"
    finally:
        server.stop()
