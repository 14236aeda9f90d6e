"""Auth (v2): the same exchange, refresh and verify under /v2."""

from __future__ import annotations

from fastapi import APIRouter

from pers.auth import http_v1
from pers.web import PersRoute

router = APIRouter(prefix="/auth", route_class=PersRoute, tags=["Auth"])
router.add_api_route(
    "/token", http_v1.token, methods=["POST"], summary="Universal token exchange",
    response_model=http_v1.TokenPairRead,
)  # fmt: skip
router.add_api_route(
    "/refresh", http_v1.refresh, methods=["POST"], summary="Refresh the token pair",
    response_model=http_v1.TokenPairRead,
)  # fmt: skip
router.add_api_route(
    "/verify", http_v1.verify, methods=["POST"], summary="Verify a PERS token",
    response_model=http_v1.VerifyRead,
)  # fmt: skip
