"""The Purchase tests' world: a local stand-in for the Stripe API (the real SDK talks HTTP to
it), webhook payloads signed as Stripe signs them, and a shop selling the economy's credits."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from pers.runtime import Runtime
from tests.transactions.conftest import Economy, economy  # noqa: F401 - fixture

PURCHASE = "/v1.7/purchase"
WEBHOOK = f"{PURCHASE}/stripe-webhook"


class FakeStripe:
    """The PaymentIntents endpoints pers uses, over HTTP like api.stripe.com. Intents belong to
    the secret key that created them (another key does not find them); keys starting with
    ``sk_bad`` are refused (401)."""

    def __init__(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self) -> None:
        with self.lock:
            self.intents.clear()
            self.owner.clear()
            self.requests.clear()

    # -- test controls: what the customer does at Stripe --
    def pay(self, intent_id: str, *, amount: int | None = None) -> dict[str, Any]:
        with self.lock:
            intent = self.intents[intent_id]
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"] if amount is None else amount
            return dict(intent)

    def decline(self, intent_id: str) -> dict[str, Any]:
        with self.lock:
            intent = self.intents[intent_id]
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"code": "card_declined", "message": "declined"}
            return dict(intent)

    def snapshot(self, intent_id: str) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.intents[intent_id]))  # type: ignore[no-any-return]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, kind: str, code: str | None, message: str) -> None:
                self._answer(status, {"error": {"type": kind, "code": code, "message": message}})

            def _key(self) -> str | None:
                auth = self.headers.get("Authorization", "")
                key = auth.removeprefix("Bearer ").strip()
                if not key or key.startswith("sk_bad"):
                    self._error(401, "invalid_request_error", None, "Invalid API Key provided")
                    return None
                return key

            def _form(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                pairs = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
                form: dict[str, Any] = {"metadata": {}}
                for name, value in pairs:
                    if name.startswith("metadata[") and name.endswith("]"):
                        form["metadata"][name[9:-1]] = value
                    else:
                        form[name] = value
                return form

            def _intent(self, key: str, intent_id: str) -> dict[str, Any] | None:
                intent = fake.intents.get(intent_id)
                if intent is None or fake.owner[intent_id] != key:
                    self._error(
                        404, "invalid_request_error", "resource_missing",
                        f"No such payment_intent: '{intent_id}'",
                    )  # fmt: skip
                    return None
                return intent

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                key = self._key()
                if key is None:
                    return
                parts = self.path.split("?")[0].strip("/").split("/")
                with fake.lock:
                    if len(parts) == 3 and parts[:2] == ["v1", "payment_intents"]:
                        intent = self._intent(key, parts[2])
                        if intent is not None:
                            self._answer(200, intent)
                        return
                self._error(404, "invalid_request_error", None, "Unrecognized request URL")

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                key = self._key()
                if key is None:
                    return
                form = self._form()
                parts = self.path.split("?")[0].strip("/").split("/")
                with fake.lock:
                    if parts == ["v1", "payment_intents"]:
                        intent_id = "pi_" + secrets.token_hex(12)
                        intent = {
                            "id": intent_id, "object": "payment_intent",
                            "amount": int(form["amount"]), "amount_received": 0,
                            "currency": form["currency"], "status": "requires_payment_method",
                            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                            "metadata": form["metadata"],
                            "receipt_email": form.get("receipt_email"),
                            "description": form.get("description"), "last_payment_error": None,
                        }  # fmt: skip
                        fake.intents[intent_id] = intent
                        fake.owner[intent_id] = key
                        self._answer(200, intent)
                        return
                    if len(parts) >= 3 and parts[:2] == ["v1", "payment_intents"]:
                        intent = self._intent(key, parts[2])
                        if intent is None:
                            return
                        if len(parts) == 4 and parts[3] == "cancel":
                            intent["status"] = "canceled"
                            self._answer(200, intent)
                            return
                        if "amount" in form and intent["status"] == "succeeded":
                            self._error(
                                400, "invalid_request_error", "payment_intent_unexpected_state",
                                "This PaymentIntent's amount could not be updated",
                            )  # fmt: skip
                            return
                        intent["metadata"].update(form.pop("metadata"))
                        for name, value in form.items():
                            intent[name] = int(value) if name == "amount" else value
                        self._answer(200, intent)
                        return
                self._error(404, "invalid_request_error", None, "Unrecognized request URL")

        return Handler


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    fake.thread.start()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def fake_stripe(stripe_server: FakeStripe, runtime: Runtime) -> Iterator[FakeStripe]:
    """The stand-in, emptied, with the SDK pointed at it for this test."""
    stripe_server.reset()
    previous = runtime.settings.stripe_api_base
    runtime.settings.stripe_api_base = stripe_server.url
    yield stripe_server
    runtime.settings.stripe_api_base = previous


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's ``Stripe-Signature`` header: ``t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(event_type: str, intent: dict[str, Any], event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": intent},
    }
    return json.dumps(body).encode()


@dataclass
class Shop:
    economy: Economy
    stripe: FakeStripe
    api_key: str
    webhook_secret: str
    purchase_type: dict[str, Any]
    purchase_token: dict[str, Any]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.economy.client

    @property
    def admin(self) -> dict[str, str]:
        return self.economy.admin

    async def intent(self, headers: dict[str, str], amount: int = 1000) -> dict[str, Any]:
        response = await self.client.post(
            f"{PURCHASE}/payment-intent",
            json={"amount": amount, "currency": "eur", "receiptEmail": "a@b.example",
                  "description": "credits"},
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def purchase(
        self, headers: dict[str, str], quantity: Any = 10, **extra: Any
    ) -> dict[str, Any]:
        intent = await self.intent(headers)
        response = await self.client.post(
            f"{PURCHASE}/auth",
            json={"quantity": quantity, "paymentIntentId": intent["paymentIntentId"],
                  "purchaseTokenId": self.purchase_token["id"], **extra},
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def deliver(
        self, payload: bytes, *, secret: str | None = None, query: str = ""
    ) -> httpx.Response:
        return await self.client.post(
            WEBHOOK + query,
            content=payload,
            headers={"Stripe-Signature": sign(payload, secret or self.webhook_secret),
                     "Content-Type": "application/json"},
        )  # fmt: skip

    async def my_purchases(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.client.get(f"{PURCHASE}/auth", headers=headers)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body


async def configure_stripe(
    client: httpx.AsyncClient, admin: dict[str, str], api_key: str, secret: str
) -> None:
    response = await client.put(
        "/v1.7/tenant/admin",
        json={"stripeApiKey": api_key, "stripeWebhookSecret": secret},
        headers=admin,
    )
    assert response.status_code == 200, response.text


async def make_catalog(
    client: httpx.AsyncClient, admin: dict[str, str], token_id: str, rate: Any = 50
) -> tuple[dict[str, Any], dict[str, Any]]:
    created = await client.post(
        f"{PURCHASE}/admin/type", json={"conversionRate": rate, "currency": "eur"}, headers=admin
    )
    assert created.status_code == 201, created.text
    purchase_type: dict[str, Any] = created.json()
    token = await client.post(
        f"{PURCHASE}/admin/token",
        json={"tokenId": token_id, "description": "Top up", "purchaseTypeId": purchase_type["id"]},
        headers=admin,
    )
    assert token.status_code == 201, token.text
    return purchase_type, token.json()


@pytest.fixture
async def shop(economy: Economy, fake_stripe: FakeStripe) -> Shop:  # noqa: F811
    """The economy's credits (2 decimals) on sale at 50 cents each, Stripe configured."""
    api_key = "sk_test_" + secrets.token_hex(12)
    secret = "whsec_" + secrets.token_hex(16)
    await configure_stripe(economy.client, economy.admin, api_key, secret)
    purchase_type, purchase_token = await make_catalog(
        economy.client, economy.admin, economy.credit["id"]
    )
    return Shop(economy, fake_stripe, api_key, secret, purchase_type, purchase_token)
