"""create_app(): middleware, error handlers, and the /v1.7 and /v2 surfaces."""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pers import __version__
from pers.errors import PROBLEM_CONTENT_TYPE, PersError, finish_problem
from pers.fastlane import FastLane
from pers.logs import RequestIdMiddleware
from pers.runtime import Runtime

log = logging.getLogger(__name__)

V1 = "/v1.7"
V2 = "/v2"

HTTP_CODES = {
    400: ("BAD_REQUEST", "Bad request", "VALIDATION"),
    401: ("UNAUTHORIZED", "Missing or invalid credentials", "SECURITY"),
    403: ("FORBIDDEN", "Not allowed", "SECURITY"),
    404: ("NOT_FOUND", "Not found", "DOMAIN_RULE"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed", "VALIDATION"),
    409: ("CONFLICT", "Conflict", "DOMAIN_RULE"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large", "VALIDATION"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", "VALIDATION"),
}


def problem_response(
    request: Request,
    body: dict[str, Any],
    *,
    category: str,
    retryable: bool,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    finish_problem(
        body,
        path=request.url.path,
        category=category,
        retryable=retryable,
        request_id=getattr(request.state, "request_id", None),
    )
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PersError)
    async def pers_error(request: Request, exc: PersError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            request, exc.to_problem(), category=exc.category, retryable=exc.retryable,
            headers=headers,
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field_path(err.get("loc", ())),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "value_error"),
            }
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        body = {
            "type": "https://pers.dev/problems/validation-error",
            "title": "Request validation failed",
            "status": 400,
            "detail": f"invalid fields: {fields}" if fields else "invalid request",
            "code": "VALIDATION_ERROR",
            "errors": errors,
        }
        return problem_response(request, body, category="VALIDATION", retryable=False)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title, category = HTTP_CODES.get(
            exc.status_code, ("HTTP_ERROR", "HTTP error", "TECHNICAL")
        )
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route for {request.method} {request.url.path}"
        body = {
            "type": f"https://pers.dev/problems/{code.lower().replace('_', '-')}",
            "title": title,
            "status": exc.status_code,
            "detail": detail,
            "code": code,
        }
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(request, body, category=category, retryable=False, headers=headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error answered as 409: %s", exc.orig)
        body = {
            "type": "https://pers.dev/problems/conflict",
            "title": "Conflict",
            "status": 409,
            "detail": "the request conflicts with the current state (a unique value is taken)",
            "code": "CONFLICT",
        }
        return problem_response(request, body, category="DOMAIN_RULE", retryable=False)

    # Unexpected exceptions are answered by RequestIdMiddleware, which still knows the request id.


SECURITY_SCHEMES = {
    "projectKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-project-key",
        "description": "The tenant's projectApiKey (mainnet) or testnetProjectApiKey (testnet).",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A tenant system API key (POST /tenant/admin/api-key) or business key.",
    },
    "platformApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "The deployment's platform operator key (PERS_PLATFORM_API_KEY).",
    },
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A PERS JWT: user or admin access token, or the tenant admin JWT.",
    },
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details (application/problem+json).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable SCREAMING_SNAKE error code"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _without_native_telemetry() -> dict[str, Any]:
    """FastAPI 0.165+ checks on every request whether OpenTelemetry is configured (reading
    ``os.environ`` for providers): about 5% of a claim's server CPU. pers configures no
    OpenTelemetry, so the check is switched off where FastAPI has it (docs/decisions.md)."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(runtime: Runtime, *, own_runtime: bool = True) -> FastAPI:
    """The ASGI app. ``own_runtime``: close the runtime (pool, HTTP client) on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_runtime:
            await runtime.close()

    app = FastAPI(
        title="pers",
        version=__version__,
        summary="Self-hostable PERS loyalty and rewards backend",
        description=(
            "The PERS v1.7.2 contract under `/v1.7` (and the v2 surface under `/v2`). "
            "Errors are `application/problem+json` with a stable `code`. Every POST accepts an "
            "`Idempotency-Key` header."
        ),
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        **_without_native_telemetry(),
    )
    app.state.runtime = runtime
    app.state.fast_lane_outcomes = Counter()
    if runtime.settings.fast_lane:
        from pers.claims import http_fast as claims_fast
        from pers.redemptions import http_fast as redemptions_fast
        from pers.transactions import http_fast as transactions_fast

        # Inside RequestIdMiddleware (added after it, so it runs within it).
        fast_routes = {
            (method, V1 + path): handler
            for routes in (transactions_fast.ROUTES, claims_fast.ROUTES, redemptions_fast.ROUTES)
            for (method, path), handler in routes.items()
        }
        app.add_middleware(
            FastLane, runtime=runtime, routes=fast_routes, outcomes=app.state.fast_lane_outcomes
        )
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    from pers.admins import http_v1 as admins_v1
    from pers.auth import http_v1 as auth_v1
    from pers.auth import http_v2 as auth_v2
    from pers.balances import http_v1 as balances_v1
    from pers.businesses import http_v1 as businesses_v1
    from pers.campaigns import http_v1 as campaigns_v1
    from pers.chains import http_v1 as chains_v1
    from pers.claims import http_v1 as claims_v1
    from pers.contract_deployments import http_v1 as deployments_v1
    from pers.purchases import http_v1 as purchases_v1
    from pers.redemptions import http_v1 as redemptions_v1
    from pers.root import http_v1 as root_v1
    from pers.settlement import http_v1 as settlement_v1
    from pers.tenants import http_v1 as tenants_v1
    from pers.tokens import http_v1 as tokens_v1
    from pers.transactions import http_v1 as transactions_v1
    from pers.users import http_v1 as users_v1

    app.include_router(auth_v1.well_known)
    # Requests are matched against the routers in this order, route by route: FastAPI (0.165)
    # tries every route of every earlier router first, about 2 microseconds each (measured:
    # the root router moved from first to ninth place costs GET /v1.7/ 0.2 ms). So the hot
    # paths come first: movements, claims, redeems, balances. The prefixes are disjoint except
    # where noted; those keep their relative order (docs/decisions.md, "Route order").
    v1_routers = (
        transactions_v1.router,
        claims_v1.router,  # before campaigns: /campaign/admin/claim is no campaign id
        redemptions_v1.router,
        balances_v1.router,
        campaigns_v1.router,
        users_v1.router,
        purchases_v1.router,
        businesses_v1.router,
        root_v1.router,
        tenants_v1.router,
        deployments_v1.router,  # before tokens: /token/admin/deploy is no token id
        tokens_v1.router,
        auth_v1.router,
        admins_v1.router,
        chains_v1.chain_router,
        chains_v1.contract_router,
        settlement_v1.router,
    )
    for router in v1_routers:
        app.include_router(router, prefix=V1)
    app.include_router(auth_v2.router, prefix=V2)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            schemas = components.setdefault("schemas", {})
            schemas["Problem"] = PROBLEM_SCHEMA
            # Validation answers 400 Problem; FastAPI's 422 schemas are never sent.
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    responses = operation.get("responses", {})
                    if "422" in responses and not _declares_422(operation):
                        del responses["422"]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _declares_422(operation: dict[str, Any]) -> bool:
    """FastAPI adds a 422 HTTPValidationError we never send (validation is 400)."""
    response = operation.get("responses", {}).get("422", {})
    return PROBLEM_CONTENT_TYPE in response.get("content", {})
