"""idempotency: large stored answers are compressed (response_encoding)

A mint from URL answers up to 100,000 rows (about 78 MB of JSON); stored as is, writing it
held several copies in the API's memory. Bodies over 64 KiB are now stored zlib-compressed
(about 9 MB for that answer) and decompressed when replayed. NULL is the body as sent, so
existing records stay valid.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "idempotency_keys", sa.Column("response_encoding", sa.String(length=16), nullable=True)
    )


def downgrade() -> None:
    # Compressed bodies cannot be replayed by the older code: drop those records (they are
    # kept 24 hours anyway).
    op.execute("DELETE FROM idempotency_keys WHERE response_encoding IS NOT NULL")
    op.drop_column("idempotency_keys", "response_encoding")
