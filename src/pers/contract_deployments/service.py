"""Contract deployments: an admin asks pers to deploy a credit, status or reward contract for
the tenant on its testnet chain.

Chain writes never run inside a request, and the tenant's operator is the only account that
pays gas (its nonces belong to the settlement relayer). So a request records a durable intent
(``request_deployment``, status ``created``); the relayer claims it (``claim_deployments``,
``processing``), signs the creation transaction with the operator key (``to`` empty, ``data``
= ``deployment_init_code``), records the send (``mark_broadcasted``), and once it is confirmed
calls ``complete_deployment``, which registers the token as ``POST /token/admin`` would and
marks the deployment ``succeeded``; or ``fail_deployment``.

The functions the relayer calls take ``(session, tenant_id, ...)``, bind the session to the
tenant for Row Level Security themselves, and never commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import RequestContext
from pers.chain.contracts import ContractName
from pers.chain.deploy import constructor_args, init_code
from pers.contract_deployments import repository
from pers.contract_deployments.errors import DeploymentFinished, DeploymentNotFound
from pers.contract_deployments.models import (
    PENDING,
    ContractDeployment,
    DeploymentKind,
    DeploymentStatus,
)
from pers.db import set_tenant
from pers.errors import ValidationFailed
from pers.kit.addresses import checksum_address
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.runtime import Runtime
from pers.tokens import service as tokens
from pers.tokens.models import TokenType

KIND_OF = {
    TokenType.ERC20: DeploymentKind.CREDIT,
    TokenType.ERC721: DeploymentKind.STATUS,
    TokenType.ERC1155: DeploymentKind.REWARD,
}
TYPE_OF = {kind: token_type for token_type, kind in KIND_OF.items()}
FAILURE_REASON_MAX = 2000
_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class DeploymentView:
    id: uuid.UUID
    token_type: TokenType
    kind: DeploymentKind
    name: str
    symbol: str
    decimals: int
    base_uri: str | None
    environment: Environment
    chain_id: int
    status: DeploymentStatus
    contract_address: str | None
    token_id: uuid.UUID | None
    transaction_hash: str | None
    failure_reason: str | None
    chain_send_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


def _view(row: ContractDeployment) -> DeploymentView:
    return DeploymentView(
        id=row.id,
        token_type=TYPE_OF[row.kind],
        kind=row.kind,
        name=row.name,
        symbol=row.symbol,
        decimals=row.decimals,
        base_uri=row.base_uri,
        environment=row.environment,
        chain_id=row.chain_id,
        status=row.status,
        contract_address=row.contract_address,
        token_id=row.token_id,
        transaction_hash=row.transaction_hash,
        failure_reason=row.failure_reason,
        chain_send_id=row.chain_send_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


def deployment_init_code(view: DeploymentView) -> bytes:
    """The ``data`` of the creation transaction (sent with no ``to``, signed by the operator)."""
    return init_code(
        ContractName(view.kind.value), view.name, view.symbol, view.decimals, view.base_uri or ""
    )


# --- the admin's side -------------------------------------------------------------------------


async def request_deployment(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token_type: TokenType,
    name: str,
    symbol: str,
    decimals: int | None = None,
    base_uri: str | None = None,
) -> DeploymentView:
    """Record the intent to deploy a ``token_type`` contract for the tenant on its testnet
    chain (like ``POST /token/admin``, deployments always target testnet; the mainnet side is
    promoted with the mainnet ``PUT``). ERC20 ``decimals`` default to 18; NFTs take a
    ``base_uri`` and no decimals. 400 for arguments the contract would refuse."""
    token_decimals = tokens.resolve_decimals(token_type, decimals, field="body.decimals")
    if token_type is TokenType.ERC20 and base_uri is not None:
        raise _invalid("body.baseUri", "ERC20 tokens have no base URI")
    kind = KIND_OF[token_type]
    try:
        constructor_args(ContractName(kind.value), name, symbol, token_decimals, base_uri or "")
    except ValueError as exc:
        raise _invalid("body", str(exc)) from None
    chain = tokens.side_chain(rt.settings, Environment.TESTNET, rt.settings.testnet_chain_id)
    row = ContractDeployment(
        tenant_id=ctx.tenant,
        id=uuid7(),
        environment=Environment.TESTNET,
        chain_id=chain.chain_id,
        kind=kind,
        name=name,
        symbol=symbol,
        decimals=token_decimals,
        base_uri=base_uri,
        status=DeploymentStatus.CREATED,
        contract_address=None,
        token_id=None,
        transaction_hash=None,
        failure_reason=None,
        chain_send_id=None,
        completed_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, row)
    return _view(row)


async def get_deployment(
    session: AsyncSession, ctx: RequestContext, deployment_id: uuid.UUID
) -> DeploymentView:
    row = await repository.get(session, ctx.tenant, deployment_id)
    if row is None:
        raise DeploymentNotFound(f"no contract deployment {deployment_id} in this tenant")
    return _view(row)


async def list_deployments(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    status: DeploymentStatus | None = None,
    limit: int,
    offset: int = 0,
) -> list[DeploymentView]:
    """The tenant's deployments, oldest first, optionally of one status."""
    rows = await repository.list_deployments(
        session, ctx.tenant, status=status, limit=limit, offset=offset
    )
    return [_view(row) for row in rows]


# --- the relayer's side -----------------------------------------------------------------------


async def _pending(
    session: AsyncSession, tenant_id: uuid.UUID, deployment_id: uuid.UUID
) -> ContractDeployment:
    await set_tenant(session, tenant_id)
    row = await repository.get(session, tenant_id, deployment_id, for_update=True)
    if row is None:
        raise DeploymentNotFound(f"no contract deployment {deployment_id} in tenant {tenant_id}")
    return row


def _now() -> datetime:
    return datetime.now(UTC)


async def claim_deployments(
    session: AsyncSession, tenant_id: uuid.UUID, *, limit: int = 10, chain_id: int | None = None
) -> list[DeploymentView]:
    """Claim the tenant's oldest ``created`` deployments (on ``chain_id``, if given): locked
    until the transaction ends (others skip them) and moved to ``processing``."""
    await set_tenant(session, tenant_id)
    rows = await repository.claim_created(session, tenant_id, limit, chain_id)
    now = _now()
    for row in rows:
        await repository.set_values(
            session, row, {"status": DeploymentStatus.PROCESSING, "updated_at": now}
        )
    return [_view(row) for row in rows]


async def mark_broadcasted(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    *,
    transaction_hash: str,
    chain_send_id: uuid.UUID | None = None,
) -> DeploymentView:
    """The creation transaction is signed and sent: its hash (and the relayer's record)."""
    if not _TX_HASH.match(transaction_hash):
        raise _invalid("transactionHash", "not a transaction hash (0x and 64 hex digits)")
    row = await _pending(session, tenant_id, deployment_id)
    if row.status not in PENDING:
        raise DeploymentFinished(f"contract deployment {deployment_id} is {row.status}")
    values: dict[str, object] = {
        "status": DeploymentStatus.BROADCASTED,
        "transaction_hash": transaction_hash.lower(),
        "updated_at": _now(),
    }
    if chain_send_id is not None:
        values["chain_send_id"] = chain_send_id
    await repository.set_values(session, row, values)
    return _view(row)


async def complete_deployment(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    contract_address: str,
    transaction_hash: str,
) -> DeploymentView:
    """The creation transaction is confirmed: register the token (name, symbol, decimals and
    type of the deployment, on its chain) exactly as ``POST /token/admin`` would, without
    asking the chain again (pers deployed it with the operator key), and mark the deployment
    ``succeeded`` with the token. Idempotent: called again with the same contract it answers
    the same deployment; another contract, or a failed deployment, is 409
    ``DEPLOYMENT_FINISHED``."""
    address = checksum_address(contract_address)
    if address is None:
        raise _invalid("contractAddress", "not an EVM address")
    if not _TX_HASH.match(transaction_hash):
        raise _invalid("transactionHash", "not a transaction hash (0x and 64 hex digits)")
    row = await _pending(session, tenant_id, deployment_id)
    if row.status is DeploymentStatus.SUCCEEDED and row.contract_address == address:
        return _view(row)
    if row.status not in PENDING:
        raise DeploymentFinished(
            f"contract deployment {deployment_id} is {row.status}"
            + (f" at {row.contract_address}" if row.contract_address else "")
        )
    now = _now()
    token = await tokens.register_deployed_token(
        session,
        tenant_id,
        now,
        token_type=TYPE_OF[row.kind],
        contract_address=address,
        chain_id=row.chain_id,
        decimals=row.decimals,
        name=row.name,
        symbol=row.symbol,
    )
    values = {
        "status": DeploymentStatus.SUCCEEDED,
        "contract_address": address,
        "token_id": token.id,
        "transaction_hash": transaction_hash.lower(),
        "updated_at": now,
        "completed_at": now,
    }
    await repository.set_values(session, row, values)
    return _view(row)


async def fail_deployment(
    session: AsyncSession, tenant_id: uuid.UUID, deployment_id: uuid.UUID, reason: str
) -> DeploymentView:
    """The deployment will not happen (the transaction reverted, or the relayer gave up):
    ``failed`` with ``reason``. Idempotent for a failed deployment; 409 for a succeeded one."""
    if not reason.strip():
        raise _invalid("reason", "a failure needs a reason")
    row = await _pending(session, tenant_id, deployment_id)
    if row.status is DeploymentStatus.FAILED:
        return _view(row)
    if row.status not in PENDING:
        raise DeploymentFinished(f"contract deployment {deployment_id} is {row.status}")
    now = _now()
    values = {
        "status": DeploymentStatus.FAILED,
        "failure_reason": reason[:FAILURE_REASON_MAX],
        "updated_at": now,
        "completed_at": now,
    }
    await repository.set_values(session, row, values)
    return _view(row)
