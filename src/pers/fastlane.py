"""The fast lane: the successful case of the hottest operations in one database statement.

A request to a registered ``(method, path)`` is first offered to its fast handler, which either
answers it completely (the operation succeeded and committed) or declines (``None``) having
written nothing. A declined request goes through FastAPI as if the lane did not exist, with the
body it sent, so validation, credentials, business rules, idempotency and every error answer
stay in one place: the regular path. The lane only ever answers what the regular path would
have answered with success (docs/decisions.md, "The fast lane").

It sits inside ``RequestIdMiddleware``, so its answers carry the request id and are logged.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pers.auth import service as auth_service
from pers.auth.service import FastCredential
from pers.kit.amounts import ExactFloat
from pers.runtime import Runtime

# Requests with these never take the lane: the regular path owns idempotency records.
DECLINING_HEADERS = frozenset({"idempotency-key"})


@dataclass(frozen=True, slots=True)
class FastRequest:
    headers: dict[str, str]  # lower-case names, first value of each
    body: bytes
    now: datetime

    def json(self) -> Any:
        """The body parsed as the regular path parses it (numbers kept exact); ValueError
        when it is not JSON."""
        return json.loads(self.body, parse_float=ExactFloat)

    def bearer(self) -> str | None:
        """The token of ``Authorization: Bearer <token>``, as the regular path reads it."""
        header = self.headers.get("authorization")
        if header is None:
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return None
        return value


@dataclass(frozen=True, slots=True)
class FastAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"


FastHandler = Callable[[Runtime, FastRequest], Awaitable[FastAnswer | None]]
M = TypeVar("M", bound=BaseModel)


def read_call(
    rt: Runtime, request: FastRequest, token: str | None, model: type[M]
) -> tuple[FastCredential, M] | None:
    """The caller's PERS token (checked as authentication checks it) and the body read with the
    route's own model; None when either is missing or not what the lane takes."""
    if token is None:
        return None
    credential = auth_service.fast_credential(rt, token, request.now)
    if credential is None:
        return None
    try:
        return credential, model.model_validate(request.json())
    except (ValueError, ValidationError):
        return None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json"


class FastLane:
    """ASGI middleware offering registered requests to their fast handler first."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Runtime,
        routes: dict[tuple[str, str], FastHandler],
        outcomes: Counter[tuple[str, bool]],
    ) -> None:
        """``outcomes`` counts, per path, the requests answered (True) and declined (False)."""
        self.app = app
        self.runtime = runtime
        self.routes = routes
        self.outcomes = outcomes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = self.routes.get((scope["method"], scope["path"]))
        if handler is None:
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name not in headers:
                headers[name] = raw_value.decode("latin-1")
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        answer = None
        if not DECLINING_HEADERS.intersection(headers) and _is_json(headers.get("content-type")):
            answer = await handler(
                self.runtime, FastRequest(headers, body, self.runtime.clock.now())
            )
        self.outcomes[scope["path"], answer is not None] += 1
        if answer is None:
            await self.app(scope, _replay([body], None, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type.encode("latin-1")),
                    (b"content-length", str(len(answer.body)).encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})


def _replay(chunks: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body the lane already read, then defers to the
    server's (a disconnect, when the client goes away)."""
    queue: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": False} for chunk in chunks
    ]
    if pending is not None:
        queue.append(pending)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
