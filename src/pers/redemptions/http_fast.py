"""The fast lane of redeems (pers.fastlane): a user's redeem answered in one statement when it
succeeds. The handler reads the request as the regular route does (the same body model, the
same response model) and declines (None) whenever anything is not the plain successful case."""

from __future__ import annotations

from pydantic import TypeAdapter

from pers.auth.context import PrincipalKind
from pers.fastlane import FastAnswer, FastHandler, FastRequest, read_call
from pers.redemptions import service
from pers.redemptions.http_v1 import RedeemBody, RedeemedRead, redeemed_read
from pers.runtime import Runtime

_REDEEMED = TypeAdapter(RedeemedRead)


async def user_redeem(rt: Runtime, request: FastRequest) -> FastAnswer | None:
    """``POST /v1.7/redemption/auth/redeem`` with a user's bearer token and the project key."""
    project_key = request.headers.get("x-project-key")
    if project_key is None or "x-api-key" in request.headers:
        return None
    call = read_call(rt, request, request.bearer(), RedeemBody)
    if call is None or call[0].principal is not PrincipalKind.USER:
        return None
    credential, body = call
    header = rt.settings.country_header
    record = await service.fast_redeem(
        rt, credential, project_key=project_key, redemption_id=body.redemption_id,
        country_header=None if header is None else request.headers.get(header.lower()),
        now=request.now,
    )  # fmt: skip
    if record is None:
        return None
    return FastAnswer(201, _REDEEMED.dump_json(redeemed_read(record), by_alias=True))


# Paths under the /v1.7 prefix, as the router declares them.
ROUTES: dict[tuple[str, str], FastHandler] = {
    ("POST", "/redemption/auth/redeem"): user_redeem,
}
