from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import TenantOwned


class IdempotencyRecord(TenantOwned, Base):
    """The stored outcome of a POST, written in the same transaction as its effect.

    ``key_hash`` covers the caller's scope (principal) and the client's key, so two callers can
    use the same key independently.
    """

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(primary_key=True)
    request_hash: Mapped[str]
    response_status: Mapped[int]
    response_headers: Mapped[dict[str, Any]]
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    # NULL: the body as sent; "zlib": compressed (large answers, e.g. a mint from URL's
    # 100,000 rows: 78 MB of JSON stored as 9 MB).
    response_encoding: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
