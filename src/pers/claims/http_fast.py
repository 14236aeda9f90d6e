"""The fast lane of claims (pers.fastlane): a user's claim and a system's claim for a user,
answered in one statement when they succeed. Each handler reads the request as the regular
route does (the same body model, the same response model) and declines (None) whenever anything
is not the plain successful case."""

from __future__ import annotations

from pers.auth.context import PrincipalKind
from pers.claims import service
from pers.claims.http_v1 import ClaimForUserBody, UserClaimBody, _request, claimed_json
from pers.fastlane import FastAnswer, FastHandler, FastRequest, read_call
from pers.runtime import Runtime


async def _claim(
    rt: Runtime,
    request: FastRequest,
    *,
    token: str | None,
    principal: PrincipalKind,
    body_model: type[UserClaimBody],
) -> FastAnswer | None:
    project_key = request.headers.get("x-project-key")
    if project_key is None:
        return None
    call = read_call(rt, request, token, body_model)
    if call is None or call[0].principal is not principal:
        return None
    credential, body = call
    record = await service.fast_claim(
        rt, credential, project_key=project_key, request=_request(body), now=request.now
    )
    if record is None:
        return None
    return FastAnswer(201, claimed_json(record))


async def user_claim(rt: Runtime, request: FastRequest) -> FastAnswer | None:
    """``POST /v1.7/campaign/auth/claim`` with a user's bearer token and the project key."""
    if "x-api-key" in request.headers:
        return None
    return await _claim(
        rt, request, token=request.bearer(), principal=PrincipalKind.USER,
        body_model=UserClaimBody,
    )  # fmt: skip


async def system_claim(rt: Runtime, request: FastRequest) -> FastAnswer | None:
    """``POST /v1.7/campaign/system/claim`` with a system key in ``x-api-key`` and the project
    key."""
    if "authorization" in request.headers:
        return None
    return await _claim(
        rt, request, token=request.headers.get("x-api-key"), principal=PrincipalKind.SYSTEM,
        body_model=ClaimForUserBody,
    )  # fmt: skip


# Paths under the /v1.7 prefix, as the router declares them.
ROUTES: dict[tuple[str, str], FastHandler] = {
    ("POST", "/campaign/auth/claim"): user_claim,
    ("POST", "/campaign/system/claim"): system_claim,
}
