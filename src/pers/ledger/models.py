from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import BaseUnits, TenantOwned


class Balance(TenantOwned, Base):
    """What one holder has of one token (and token id). Never negative. The tenant's issuer
    account has no balance row: its side of every mint and burn lives only in the postings, so
    issuing never contends on one row (DESIGN section 5)."""

    __tablename__ = "balances"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="not_negative"),
        # ERC721: a token id has exactly one holder.
        Index(
            "uq_balances_tenant_id_unique_holding",
            "tenant_id",
            "environment",
            "token_id",
            "token_key",
            unique=True,
            postgresql_where=text("is_unique AND amount > 0"),
        ),
    )

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE, primary_key=True)
    account_address: Mapped[str] = mapped_column(String(42), primary_key=True)
    token_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_key: Mapped[int] = mapped_column(BaseUnits, primary_key=True)
    amount: Mapped[int] = mapped_column(BaseUnits)
    is_unique: Mapped[bool] = mapped_column(server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Posting(TenantOwned, Base):
    """One leg of a ledger entry. Append-only (the app role may only INSERT and SELECT); the
    legs of an entry sum to zero, checked by a deferred constraint trigger at commit."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="not_zero"),
        # No tenant_id here: with it, this index competed with the primary key for the
        # balanced-entry check (tenant_id, entry_id), and on a small table the planner could
        # pick it and read every posting of the tenant (revision 0020). Account addresses are
        # derived per tenant; the policy filters the rest.
        Index("ix_postings_account_address", "account_address", "token_id", "environment"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    leg: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    account_address: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[uuid.UUID]
    token_key: Mapped[int] = mapped_column(BaseUnits)
    amount: Mapped[int] = mapped_column(BaseUnits)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class NftItem(TenantOwned, Base):
    """An ERC721 id that was minted, and the metadata it was minted with. Its primary key is
    what makes a second mint of the same id impossible, even under concurrency."""

    __tablename__ = "nft_items"

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE, primary_key=True)
    token_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_key: Mapped[int] = mapped_column(BaseUnits, primary_key=True)
    metadata_incremental_id: Mapped[int | None]
    minted_in: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
