"""Same key and body: the stored response. Same key, other body: 422. Key in flight: 409.

The record is written in the transaction of the effect, so a replayed response always matches
what was committed. Only successful (2xx) outcomes are stored: a failed request wrote nothing, so
retrying it with the same key runs it again. Records are honoured for ``RETENTION``.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import set_tenant
from pers.errors import BadRequest, IdempotencyKeyInFlight, IdempotencyKeyReused
from pers.idempotency import repository
from pers.kit.crypto import sha256_hex

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Bodies above this are stored zlib-compressed (level 1: fast, and JSON shrinks several times).
COMPRESS_ABOVE = 64 * 1024
ZLIB = "zlib"


@dataclass(frozen=True)
class Pending:
    tenant_id: uuid.UUID
    key_hash: str
    request_hash: str


@dataclass(frozen=True)
class Replay:
    status: int
    headers: dict[str, str]
    body: bytes


class InvalidIdempotencyKey(BadRequest):
    code = "INVALID_IDEMPOTENCY_KEY"
    title = "Idempotency-Key must be 1 to 255 visible ASCII characters"


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    return sha256_hex(b"\n".join([method.encode(), path.encode(), query.encode(), body]))


async def begin(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    scope: str,
    key: str,
    request_hash: str,
    now: datetime,
) -> Pending | Replay:
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(c) < 127 for c in key):
        raise InvalidIdempotencyKey()
    key_hash = sha256_hex(f"{scope}\n{key}")
    if not await repository.try_lock(session, tenant_id, key_hash):
        raise IdempotencyKeyInFlight()
    record = await repository.get(session, tenant_id, key_hash)
    if record is not None:
        if record.created_at + RETENTION > now:
            if record.request_hash != request_hash:
                raise IdempotencyKeyReused()
            headers = {str(k): str(v) for k, v in record.response_headers.items()}
            body = record.response_body
            if record.response_encoding == ZLIB:
                body = zlib.decompress(body)
            return Replay(record.response_status, headers, body)
        await repository.remove(session, tenant_id, key_hash)
    return Pending(tenant_id=tenant_id, key_hash=key_hash, request_hash=request_hash)


async def finish(
    session: AsyncSession,
    pending: Pending,
    *,
    status: int,
    content_type: str | None,
    body: bytes | memoryview,
    now: datetime,
) -> None:
    # The handler may have switched the tenant context (creating a tenant does): restore it.
    await set_tenant(session, pending.tenant_id)
    headers = {"content-type": content_type} if content_type else {}
    encoding = None
    if len(body) > COMPRESS_ABOVE:
        stored, encoding = zlib.compress(body, 1), ZLIB
    else:
        stored = bytes(body)
    await repository.add(
        session,
        tenant_id=pending.tenant_id,
        key_hash=pending.key_hash,
        request_hash=pending.request_hash,
        status=status,
        headers=headers,
        body=stored,
        encoding=encoding,
        now=now,
    )
