"""ADMIN: Mint token from URL: rows from a real HTTP server, results per row, exact balances."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pers.runtime import Runtime
from tests.transactions.conftest import DEV_CHAIN_ID, Economy, problem

MINT_URL = "/v1.7/transaction/admin/mint/token/url"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
JSON = "application/json"


@dataclass
class Served:
    status: int = 200
    content_type: str | None = CSV
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send only this many bytes of the body, then drop the connection.
    cut_after: int | None = None
    # Send the body in chunked transfer encoding, without a Content-Length.
    chunked: bool = False


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up early (size cap, refused redirect) is what some tests do


class FileServer:
    """Files served over real HTTP from 127.0.0.1, registered per test."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                requests.append(self.path)
                served = files.get(self.path, Served(status=404, body=b"not found"))
                self.send_response(served.status)
                if served.content_type:
                    self.send_header("Content-Type", served.content_type)
                if served.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(served.body)))
                for name, value in served.headers.items():
                    self.send_header(name, value)
                if served.cut_after is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if served.chunked:
                    for start in range(0, len(served.body), 64):
                        piece = served.body[start : start + 64]
                        self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                elif served.cut_after is None:
                    self.wfile.write(served.body)
                else:
                    self.wfile.write(served.body[: served.cut_after])
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, body: bytes | str, content_type: str | None = CSV, **options: Any) -> str:
        path = f"/{uuid.uuid4().hex}"
        data = body.encode() if isinstance(body, str) else body
        self.files[path] = Served(content_type=content_type, body=data, **options)
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def allow_private(runtime: Runtime) -> Iterator[None]:
    """The test server is on loopback, which production refuses."""
    settings = runtime.settings
    saved = (settings.allow_private_urls, settings.mint_url_max_bytes, settings.mint_url_max_rows)
    settings.allow_private_urls = True
    yield
    (settings.allow_private_urls, settings.mint_url_max_bytes, settings.mint_url_max_rows) = saved


def email() -> str:
    return f"{uuid.uuid4().hex}@shop.example"


async def mint_url(
    economy: Economy,
    url: str,
    token: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    token = token or economy.credit
    body = {"url": url, "tokenAddress": token["contractAddress"], "chainId": DEV_CHAIN_ID, **fields}
    return await economy.client.post(
        MINT_URL, json=body, headers={**economy.admin, **(headers or {})}
    )


async def minted(economy: Economy, url: str, **fields: Any) -> list[dict[str, Any]]:
    response = await mint_url(economy, url, **fields)
    assert response.status_code == 201, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def user_address(economy: Economy, identifier: str, value: str) -> str | None:
    response = await economy.client.post(
        "/v1.7/user/info", json={identifier: value}, headers=economy.admin
    )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return str(response.json()["accountAddress"])


async def test_csv_rows_mint_to_new_and_existing_users(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    known = email()
    first = await economy.mint_credits(known, 1)
    new = email()
    url = file_server.serve(
        f"email,amount,note\n{known},2.5,regular\n{new},,gets the default\n"
        f"No-Name-{new.upper()},0.01,x\n"
    )
    rows = await minted(economy, url, amount=10)
    assert [(r["row"], r["result"], r["amount"]) for r in rows] == [
        (1, "minted", 2.5),
        (2, "minted", 10),
        (3, "minted", 0.01),
    ]
    assert rows[0]["recipientAddress"] == first["recipientAddress"]
    for row in rows:
        assert row["type"] == "MINT"
        assert row["status"] == "created"
        assert row["triggerProcessType"] == "ADMIN_TRIGGERED"
        assert row["senderOwnerType"] == "tenant"
        assert row["recipientOwnerType"] == "user"
        assert row["tokenAddress"] == economy.credit["contractAddress"]
    assert await economy.credit_balance(first["recipientAddress"]) == 3.5
    assert await economy.credit_balance(rows[1]["recipientAddress"]) == 10
    assert await user_address(economy, "email", new) == rows[1]["recipientAddress"]
    # The answer's transactions are the stored ones.
    stored = await economy.client.get(f"/v1.7/transaction/{rows[1]['id']}", headers=economy.admin)
    assert stored.status_code == 200, stored.text
    assert {k: v for k, v in rows[1].items() if k not in ("row", "result")} == stored.json()


async def test_ndjson_rows_name_recipients_every_way(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    _headers, guest = await economy.user()
    cafe = await economy.business("Cafe")
    crm = f"crm-{uuid.uuid4().hex[:8]}"
    insta = f"ig_{uuid.uuid4().hex[:8]}"
    lines = [
        {"recipient": guest["accountAddress"].lower(), "amount": 1},
        {"accountAddress": cafe["accountAddress"], "amount": "2"},
        {"id": guest["id"], "amount": 0.25},
        {"externalId": crm, "amount": 4},
        {"instagram_account_id": insta, "amount": 5},
        {"recipient": crm, "amount": 1},
        {"recipient": guest["id"]},
    ]
    url = file_server.serve("\n".join(json.dumps(line) for line in lines) + "\n", NDJSON)
    rows = await minted(economy, url, amount=0.5)
    assert [r["result"] for r in rows] == ["minted"] * 7
    assert rows[1]["recipientOwnerType"] == "business"
    assert rows[1]["recipientId"] == cafe["id"]
    assert rows[3]["recipientAddress"] == rows[5]["recipientAddress"]
    assert await economy.credit_balance(guest["accountAddress"]) == 1.75
    assert await economy.credit_balance(cafe["accountAddress"]) == 2
    assert await economy.credit_balance(rows[3]["recipientAddress"]) == 5
    assert await user_address(economy, "instagramAccountId", insta) == rows[4]["recipientAddress"]


async def test_a_json_array_is_streamed_row_by_row(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    recipients = [email() for _ in range(3)]
    body = json.dumps([{"email": r, "amount": 1.1} for r in recipients])
    rows = await minted(economy, file_server.serve(body, JSON))
    assert [r["row"] for r in rows] == [1, 2, 3]
    for row in rows:
        assert await economy.credit_balance(row["recipientAddress"]) == 1.1
    sniffed = await minted(economy, file_server.serve(body, None))
    assert [r["result"] for r in sniffed] == ["minted"] * 3


async def test_bad_rows_fail_alone_and_good_rows_are_minted(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    good = email()
    body = "\n".join(
        [
            "recipient,amount",
            f"{good},1",  # 1
            f"{email()},0.001",  # 2: more decimals than the token has
            f"{email()},0",  # 3
            f"{email()},-5",  # 4
            f"{email()},lots",  # 5
            f"{uuid.uuid4()},1",  # 6: unknown user id
            "0x0000000000000000000000000000000000000001,1",  # 7: no such account
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD,1",  # 8: bad checksum
            f"{good},2",  # 9
            ",3",  # 10: no recipient
            f"{email()}",  # 11: no amount, no default
            f"{good},1,too,many",  # 12
        ]
    )
    rows = await minted(economy, file_server.serve(body))
    outcome = [(r["row"], r["result"], r.get("error", {}).get("code")) for r in rows]
    assert outcome == [
        (1, "minted", None),
        (2, "failed", "INVALID_AMOUNT"),
        (3, "failed", "INVALID_AMOUNT"),
        (4, "failed", "INVALID_AMOUNT"),
        (5, "failed", "INVALID_AMOUNT"),
        (6, "failed", "USER_NOT_FOUND"),
        (7, "failed", "ACCOUNT_NOT_FOUND"),
        (8, "failed", "ACCOUNT_NOT_FOUND"),
        (9, "minted", None),
        (10, "failed", "INVALID_ROW"),
        (11, "failed", "INVALID_AMOUNT"),
        (12, "failed", "INVALID_ROW"),
    ]
    failed = rows[1]
    assert failed["status"] == "failed"
    assert failed["recipient"].endswith("@shop.example")
    assert "decimal" in failed["error"]["detail"]
    assert await economy.credit_balance(rows[0]["recipientAddress"]) == 3
    # Failed rows create nobody.
    assert await user_address(economy, "email", body.split("\n")[2].split(",")[0]) is None


async def test_bad_json_rows_fail_alone(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    good = email()
    lines = [
        json.dumps({"email": good, "amount": 2}),
        "{not json",
        "[1, 2]",
        json.dumps({"email": good, "externalId": "x", "amount": 1}),  # two recipients
        json.dumps({"email": "not-an-email", "amount": 1}),
        json.dumps({"email": email(), "amount": True}),
        json.dumps({"email": {"nested": 1}, "amount": 1}),
        json.dumps({"externalId": 12345, "amount": 1}),  # ids kept as numbers are text
    ]
    rows = await minted(economy, file_server.serve("\n".join(lines), NDJSON))
    outcome = [(r["result"], r.get("error", {}).get("code")) for r in rows]
    assert outcome == [
        ("minted", None),
        ("failed", "INVALID_ROW"),
        ("failed", "INVALID_ROW"),
        ("failed", "INVALID_ROW"),
        ("failed", "INVALID_USER_IDENTIFIER"),
        ("failed", "INVALID_AMOUNT"),
        ("failed", "INVALID_ROW"),
        ("minted", None),
    ]
    assert await user_address(economy, "externalId", "12345") == rows[7]["recipientAddress"]


async def test_duplicate_rows_are_separate_mints_to_one_user(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    person = email()
    body = f"email,amount\n{person},1\n{person.upper()},2\n{person},3\n"
    rows = await minted(economy, file_server.serve(body))
    assert [r["result"] for r in rows] == ["minted"] * 3
    assert len({r["id"] for r in rows}) == 3
    assert len({r["recipientAddress"] for r in rows}) == 1
    assert await economy.credit_balance(rows[0]["recipientAddress"]) == 6
    history = await economy.client.get(
        "/v1.7/transaction/admin",
        params={"accountType": "USER", "accountAddress": rows[0]["recipientAddress"]},
        headers=economy.admin,
    )
    assert history.status_code == 200, history.text
    assert sorted(t["amount"] for t in history.json()) == [1, 2, 3]


async def test_a_replay_with_the_same_idempotency_key_mints_nothing_twice(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    person = email()
    # Over 64 KiB of answer: stored compressed, replayed byte for byte.
    rows = "".join(f"{email()},0.01\n" for _ in range(100))
    url = file_server.serve(f"email,amount\n{person},4\n{person},1\n{rows}")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await mint_url(economy, url, headers=key)
    assert first.status_code == 201, first.text
    assert len(first.content) > 64 * 1024
    # Even if the file changes, the replay answers what was done.
    path = url.removeprefix(file_server.base)
    file_server.files[path].body = f"email,amount\n{person},100\n".encode()
    second = await mint_url(economy, url, headers=key)
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert await economy.credit_balance(first.json()[0]["recipientAddress"]) == 5


async def test_erc1155_rows_mint_the_named_item(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    reward = await economy.token("ERC1155")
    item = await economy.item(reward["id"], "Free coffee")
    _headers, guest = await economy.user()
    url = file_server.serve(f"accountAddress,amount\n{guest['accountAddress']},2\n")
    needs_item = await mint_url(economy, url, reward, amount=1)
    problem(needs_item, 422, "TOKEN_METADATA_ID_REQUIRED")
    rows = await minted(economy, url, token=reward, tokenMetadataIncrementalId=item)
    assert rows[0]["contractTokenId"] == str(item)
    assert rows[0]["tokenMetadataIncrementalId"] == item
    assert rows[0]["tokenType"] == "ERC1155"
    lines = (await economy.balances(guest["accountAddress"]))["tokenBalances"]
    assert [(line["tokenId"], line["balance"]) for line in lines] == [(str(item), 2)]


async def test_erc721_rows_each_mint_a_new_token_id(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    status = await economy.token("ERC721")
    gold = await economy.item(status["id"], "Gold")
    person = email()
    url = file_server.serve(f"email,amount\n{person},\n{person},1\n{email()},2\n")
    rows = await minted(economy, url, token=status, tokenMetadataIncrementalId=gold, amount=1)
    assert [r["result"] for r in rows] == ["minted", "minted", "failed"]
    assert rows[2]["error"]["code"] == "INVALID_AMOUNT"
    assert rows[0]["contractTokenId"] != rows[1]["contractTokenId"]
    lines = (await economy.balances(rows[0]["recipientAddress"]))["tokenBalances"]
    assert sorted(line["tokenId"] for line in lines) == sorted(
        r["contractTokenId"] for r in rows[:2]
    )
    assert {line["tokenMetadataIncrementalId"] for line in lines} == {gold}


async def test_loopback_is_refused_unless_the_operator_allows_it(
    economy: Economy, file_server: FileServer, runtime: Runtime
) -> None:
    assert runtime.settings.allow_private_urls is False
    person = email()
    for url in (
        file_server.serve(f"email,amount\n{person},1\n"),
        file_server.base.replace("127.0.0.1", "localhost") + "/x",
        "http://[::1]:9/rows.csv",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/rows.csv",
    ):
        refused = await mint_url(economy, url, amount=1)
        problem(refused, 422, "URL_NOT_ALLOWED")
    assert file_server.requests.count(url) == 0
    assert await user_address(economy, "email", person) is None


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/rows.csv", "file:///etc/passwd", "rows.csv"])
async def test_only_http_urls_are_fetched(economy: Economy, allow_private: None, url: str) -> None:
    problem(await mint_url(economy, url, amount=1), 422, "URL_NOT_ALLOWED")


async def test_a_failed_fetch_is_422_and_mints_nothing(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    missing = await mint_url(economy, file_server.base + "/no-such-file", amount=1)
    body = problem(missing, 422, "URL_FETCH_FAILED")
    assert "404" in body["detail"]
    closed_port = "http://127.0.0.1:9/rows.csv"
    problem(await mint_url(economy, closed_port, amount=1), 422, "URL_FETCH_FAILED")


async def test_a_download_that_breaks_off_rolls_everything_back(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    people = [email() for _ in range(2500)]
    data = ("email,amount\n" + "".join(f"{p},1\n" for p in people)).encode()
    # More than two chunks of rows arrive (and are written) before the connection drops.
    url = file_server.serve(data, cut_after=len(data) - 100)
    broken = await mint_url(economy, url)
    problem(broken, 422, "URL_FETCH_FAILED")
    assert await user_address(economy, "email", people[0]) is None


async def test_size_and_row_limits(
    economy: Economy, file_server: FileServer, allow_private: None, runtime: Runtime
) -> None:
    people = [email() for _ in range(30)]
    data = "email,amount\n" + "".join(f"{p},1\n" for p in people)
    url = file_server.serve(data)
    runtime.settings.mint_url_max_bytes = 200
    problem(await mint_url(economy, url), 422, "URL_CONTENT_TOO_LARGE")
    # Without a Content-Length, the cap stops the stream.
    chunked = file_server.serve(data, chunked=True)
    problem(await mint_url(economy, chunked), 422, "URL_CONTENT_TOO_LARGE")
    runtime.settings.mint_url_max_bytes = 1 << 20
    runtime.settings.mint_url_max_rows = 29
    problem(await mint_url(economy, url), 422, "TOO_MANY_ROWS")
    assert await user_address(economy, "email", people[0]) is None
    runtime.settings.mint_url_max_rows = 30
    assert len(await minted(economy, url)) == 30


async def test_unreadable_files_are_422(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    broken = file_server.serve(f'[{{"email": "{email()}", "amount": 1}}, {{"email": ', JSON)
    problem(await mint_url(economy, broken), 422, "URL_CONTENT_INVALID")
    empty = await minted(economy, file_server.serve(b"", CSV), amount=1)
    assert empty == []


async def test_the_request_itself_is_checked_before_fetching(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    url = file_server.serve(f"email\n{email()}\n")
    before = len(file_server.requests)
    problem(await mint_url(economy, url, amount=0.001), 400, "INVALID_AMOUNT")
    problem(await mint_url(economy, url, amount=1, chainId=1), 422, "CHAIN_MISMATCH")
    wrong_sender = await mint_url(
        economy, url, amount=1, senderAddress="0x0000000000000000000000000000000000000001"
    )
    problem(wrong_sender, 422, "SENDER_NOT_ISSUER")
    assert len(file_server.requests) == before
    missing_url = await economy.client.post(
        MINT_URL,
        json={"tokenAddress": economy.credit["contractAddress"], "chainId": DEV_CHAIN_ID},
        headers=economy.admin,
    )
    problem(missing_url, 400, "VALIDATION_ERROR")


async def test_only_admins_mint_from_a_url(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    headers, _guest = await economy.user()
    cafe = await economy.business("Cafe", canMintToken=True)
    url = file_server.serve(f"email\n{email()}\n")
    body = {"url": url, "tokenAddress": economy.credit["contractAddress"], "chainId": DEV_CHAIN_ID}
    for caller in (headers, cafe["headers"]):
        refused = await economy.client.post(MINT_URL, json={**body, "amount": 1}, headers=caller)
        problem(refused, 403, "PRINCIPAL_NOT_ALLOWED")


async def test_redirects_are_followed_and_checked(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    target = file_server.serve(f"email,amount\n{email()},1\n")
    hop = file_server.serve(b"", None, status=302, headers={"Location": target})
    rows = await minted(economy, hop)
    assert [r["result"] for r in rows] == ["minted"]
    to_ftp = file_server.serve(b"", None, status=302, headers={"Location": "ftp://x/y"})
    problem(await mint_url(economy, to_ftp), 422, "URL_NOT_ALLOWED")


async def test_ten_thousand_rows(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    """Not a timed assertion (see bench/): prints the figure for `pytest -s`."""
    data = "email,amount\n" + "".join(
        f"{uuid.uuid4().hex}@bulk.example,1.5\n" for _ in range(10_000)
    )
    url = file_server.serve(data)
    started = time.perf_counter()
    rows = await minted(economy, url)
    elapsed = time.perf_counter() - started
    print(f"\nmint from URL: 10,000 rows (new users) in {elapsed:.2f} s")
    assert len(rows) == 10_000
    assert all(r["result"] == "minted" for r in rows)
    assert await economy.credit_balance(rows[-1]["recipientAddress"]) == 1.5


async def test_a_deactivated_user_fails_only_its_row(
    economy: Economy, file_server: FileServer, allow_private: None
) -> None:
    sleeping, awake = email(), email()
    first = await economy.mint_credits(sleeping, 1)
    toggled = await economy.client.put(
        f"/v1.7/user/admin/{first['recipientId']}/toggle-active", headers=economy.admin
    )
    assert toggled.status_code == 200, toggled.text
    url = file_server.serve(f"email,amount\n{sleeping},2\n{awake},3\n")
    rows = await minted(economy, url)
    assert [(r["row"], r["result"]) for r in rows] == [(1, "failed"), (2, "minted")]
    assert rows[0]["error"]["code"] == "USER_NOT_ACTIVE"
    assert await economy.credit_balance(first["recipientAddress"]) == 1
    assert await economy.credit_balance(rows[1]["recipientAddress"]) == 3
