"""HTTP plumbing shared by every router: the unit of work per request, access declarations,
idempotency, and the OpenAPI security and error documentation derived from them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import InvalidToken
from pers.auth.resolve import Credentials, resolve_context
from pers.db import PLATFORM_TENANT_ID, is_retryable, set_tenant
from pers.errors import PROBLEM_CONTENT_TYPE, PersError
from pers.idempotency import service as idempotency
from pers.kit.amounts import ExactFloat
from pers.kit.crypto import sha256_hex
from pers.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SHARED_PRINCIPALS = frozenset({PrincipalKind.PUBLIC, PrincipalKind.ANONYMOUS})
IDEMPOTENCY_HEADER = "idempotency-key"


class ReplayStoredResponse(Exception):
    def __init__(self, replay: idempotency.Replay) -> None:
        self.replay = replay


def runtime_of(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


def session_of(request: Request) -> AsyncSession:
    return cast(AsyncSession, request.state.session)


# Dependencies are coroutines: FastAPI runs plain functions in a worker thread.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_session(request: Request) -> AsyncSession:
    return session_of(request)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'")
    return value.strip()


class Access:
    """Declares who may call an operation and resolves the RequestContext.

    ``Depends(Access(PrincipalKind.ADMIN))`` in a route both enforces the rule and documents the
    operation's security in OpenAPI.
    """

    def __init__(self, *kinds: PrincipalKind, bearer_is_credential: bool = True) -> None:
        """``bearer_is_credential=False``: the operation reads ``Authorization`` itself (an
        identity provider's ID token in admin login), so it is not resolved as a PERS token."""
        if not kinds:
            raise ValueError("declare at least one principal kind")
        self.kinds = frozenset(kinds)
        self.bearer_is_credential = bearer_is_credential

    async def __call__(self, request: Request) -> RequestContext:
        rt = runtime_of(request)
        session = session_of(request)
        creds = Credentials(
            project_key=request.headers.get("x-project-key"),
            api_key=request.headers.get("x-api-key"),
            raw_authorization=request.headers.get("authorization"),
            bearer=_bearer(request) if self.bearer_is_credential else None,
        )
        ctx = await resolve_context(
            session,
            rt,
            creds,
            allowed=self.kinds,
            now=rt.clock.now(),
            request_id=str(getattr(request.state, "request_id", "")),
        )
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and request.method == "POST":
            tenant_id = ctx.tenant_id or PLATFORM_TENANT_ID
            if ctx.tenant_id is None:
                await set_tenant(session, PLATFORM_TENANT_ID)
            body = await request.body()
            outcome = await idempotency.begin(
                session,
                tenant_id=tenant_id,
                scope=_idempotency_scope(ctx, creds),
                key=key,
                request_hash=idempotency.request_fingerprint(
                    request.method, request.url.path, request.url.query, body
                ),
                now=ctx.now,
            )
            if isinstance(outcome, idempotency.Replay):
                raise ReplayStoredResponse(outcome)
            request.state.idempotency = outcome
        return ctx

    def openapi_security(self) -> list[dict[str, list[str]]]:
        options: list[dict[str, list[str]]] = []
        for kind in sorted(self.kinds):
            option: dict[str, list[str]]
            match kind:
                case PrincipalKind.ANONYMOUS:
                    option = {}
                case PrincipalKind.PUBLIC:
                    option = {"projectKey": []}
                case PrincipalKind.PLATFORM:
                    option = {"platformApiKey": []}
                case PrincipalKind.ADMIN:
                    option = {"bearerAuth": []}
                case PrincipalKind.USER:
                    option = {"bearerAuth": [], "projectKey": []}
                case PrincipalKind.SYSTEM | PrincipalKind.BUSINESS:
                    option = {"apiKey": [], "projectKey": []}
            if option not in options:
                options.append(option)
        return options


def _idempotency_scope(ctx: RequestContext, creds: Credentials) -> str:
    """Whose key this is. Principals without an identity of their own (a project key alone,
    nobody at all) are told apart by what they presented, so one caller's login response is
    never replayed to another."""
    if ctx.principal.id is not None or ctx.principal.kind not in SHARED_PRINCIPALS:
        return ctx.principal.scope
    presented = "\n".join(
        [creds.project_key or "", creds.api_key or "", creds.raw_authorization or ""]
    )
    return f"{ctx.principal.scope}:{sha256_hex(presented)}"


def _find_access(dependant: Dependant) -> Access | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Access):
            return dep.call
        found = _find_access(dep)
        if found is not None:
            return found
    return None


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}},
    }


async def _parse_json_exactly(request: Request) -> None:
    """Parse a JSON body once, with numbers kept exact (see pers.kit.amounts.ExactFloat);
    FastAPI then reads this parse. A malformed body is left for FastAPI to report."""
    headers = request.headers
    if "json" not in headers.get("content-type", "json"):
        return
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return  # no body (most GETs): nothing to read
    body = await request.body()
    if not body:
        return
    try:
        request._json = json.loads(body, parse_float=ExactFloat)
    except ValueError:
        return


class PersRoute(APIRoute):
    """Runs each request in one unit of work and documents security and errors."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        access = _find_access(self.dependant)
        extra = dict(self.openapi_extra or {})
        errors: dict[int | str, dict[str, Any]] = {
            400: _problem("Malformed request or invalid fields")
        }
        if access is not None:
            extra.setdefault("security", access.openapi_security())
            errors[401] = _problem("Missing or invalid credentials")
            errors[403] = _problem("The principal (or the tenant's settings) does not allow this")
        else:
            extra.setdefault("security", [])
        if "{" in path:
            errors[404] = _problem("Not found, or belongs to another tenant")
        if (self.methods or set()) & {"POST", "PUT", "DELETE", "PATCH"}:
            errors[409] = _problem("Conflict (state, or Idempotency-Key in flight)")
            errors[422] = _problem("A business rule rejected the request")
        for status, spec in errors.items():
            self.responses.setdefault(status, spec)
        self.openapi_extra = extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            rt = runtime_of(request)
            await _parse_json_exactly(request)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                session = rt.db.sessionmaker()
                request.state.session = session
                request.state.idempotency = None
                try:
                    try:
                        response = await inner(request)
                    except ReplayStoredResponse as replay:
                        await session.rollback()
                        stored = replay.replay
                        headers = dict(stored.headers)
                        headers["idempotent-replayed"] = "true"
                        return Response(stored.body, stored.status, headers=headers)
                    except PersError as exc:
                        if exc.commit_effects:
                            await session.commit()
                        else:
                            await session.rollback()
                        raise
                    if response.status_code >= 400:
                        await session.rollback()
                        return response
                    pending = request.state.idempotency
                    if pending is not None:
                        await idempotency.finish(
                            session,
                            pending,
                            status=response.status_code,
                            content_type=response.headers.get("content-type"),
                            body=response.body,
                            now=rt.clock.now(),
                        )
                    # Commit before answering: a commit failure reaches the client as an error.
                    await session.commit()
                    return response
                except Exception as exc:
                    await session.rollback()
                    if attempt < MAX_ATTEMPTS and is_retryable(exc):
                        log.info("retrying after %s (attempt %d)", type(exc).__name__, attempt)
                        continue
                    raise
                finally:
                    await session.close()
            raise AssertionError("unreachable")

        return handler
