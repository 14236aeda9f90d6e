"""The PersError tree and its RFC 9457 problem+json rendering.

Services raise these; they never raise HTTPException. ``code`` is stable and machine readable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
V2_PREFIX = "/v2"


def finish_problem(
    body: dict[str, Any], *, path: str, category: str, retryable: bool, request_id: str | None
) -> dict[str, Any]:
    """Add ``instance``; on the v2 surface also PERS's StructuredError fields."""
    body.setdefault("instance", path)
    if path == V2_PREFIX or path.startswith(V2_PREFIX + "/"):
        body.update(
            category=category,
            retryable=retryable,
            correlationId=request_id,
            timestamp=datetime.now(UTC).isoformat(),
            message=body.get("detail"),
        )
    return body


def internal_error_problem() -> dict[str, Any]:
    return {
        "type": "https://pers.dev/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; the request id identifies it in the logs",
        "code": "INTERNAL_ERROR",
    }


class PersError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "Internal error"
    category: ClassVar[str] = "TECHNICAL"
    retryable: ClassVar[bool] = False
    # When true, the unit of work commits what the request wrote before the error is answered
    # (e.g. revoking a refresh-token family on reuse must stick although the call fails).
    commit_effects: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://pers.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        body.update(self.extra)
        return body


class BadRequest(PersError):
    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"
    category = "VALIDATION"


class ValidationFailed(BadRequest):
    code = "VALIDATION_ERROR"
    title = "Request validation failed"


class Unauthorized(PersError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Missing or invalid credentials"
    category = "SECURITY"


class Forbidden(PersError):
    status = 403
    code = "FORBIDDEN"
    title = "Not allowed for this principal"
    category = "SECURITY"


class NotFound(PersError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"
    category = "DOMAIN_RULE"


class Conflict(PersError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"
    category = "DOMAIN_RULE"


class BusinessRuleViolation(PersError):
    status = 422
    code = "BUSINESS_RULE_VIOLATION"
    title = "Business rule violated"
    category = "DOMAIN_RULE"


class ServiceUnavailable(PersError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"
    category = "INFRASTRUCTURE"
    retryable = True


class IdempotencyKeyInFlight(Conflict):
    code = "IDEMPOTENCY_KEY_IN_FLIGHT"
    title = "A request with this Idempotency-Key is still being processed"
    retryable = True


class IdempotencyKeyReused(BusinessRuleViolation):
    code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency-Key was already used with a different request"
