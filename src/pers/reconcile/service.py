"""``reconcile``: the settled ledger against the chains, holder by holder.

For every tenant, environment, token and holder, the **settled ledger balance** (the effect of
the ``succeeded`` transactions, issuer legs excluded) is compared with the **on-chain
balance** at one block of the chain the transactions name. Holders are the ledger's and anyone
the contract's transfer logs show, so a holding the ledger never made shows up too. Failed
intents are listed (each is a difference between ledger and chain); in-flight ones are counted.

The ledger is read first, then each chain's head is fixed: a transaction is marked succeeded
only once mined, so every settled effect is at or below that head. The chain may be *ahead*
of the settled ledger while intents are in flight; the report says how many there are.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from pers.chain.reads import ZERO_ADDRESS, ChainReader, ChainReadError, gather_all
from pers.chains.registry import registry_of
from pers.config import Settings
from pers.db import Database, set_tenant
from pers.kit.enums import Environment
from pers.ledger.service import issuer_address
from pers.reconcile import repository
from pers.reconcile.repository import FailedIntent, SettledBalance
from pers.transactions.models import TransactionStatus
from pers.wallets.derivation import WalletDeriver

__all__ = [
    "ChainReadError",
    "ChainSummary",
    "Difference",
    "FailedTransaction",
    "InFlight",
    "Options",
    "ReconcileError",
    "Report",
    "reconcile",
]

ERC20, ERC721, ERC1155 = "ERC20", "ERC721", "ERC1155"


class ReconcileError(Exception):
    """The question cannot be answered as asked (an unknown tenant, an unconfigured chain)."""


@dataclass(frozen=True, slots=True)
class Options:
    tenant: uuid.UUID | None = None
    environment: Environment | None = None
    # Logs are scanned from this block to the head, ``log_range`` blocks per eth_getLogs.
    from_block: int = 0
    log_range: int = 10_000
    # Calls in flight at once per chain, and how long one may take (seconds).
    concurrency: int = 8
    rpc_timeout: float = 30.0
    rpc_retries: int = 3


@dataclass(frozen=True, slots=True)
class Difference:
    tenant_id: uuid.UUID
    environment: Environment
    chain_id: int
    token_address: str  # EIP-55
    token_type: str
    token_id: int | None  # None for ERC20
    holder: str  # EIP-55
    ledger: int  # base units (ERC721: 1 if the ledger says the holder owns the id)
    chain: int

    @property
    def delta(self) -> int:
        """Chain minus ledger: positive when the chain holds more than the ledger settled."""
        return self.chain - self.ledger


@dataclass(frozen=True, slots=True)
class FailedTransaction:
    tenant_id: uuid.UUID
    intent: FailedIntent


@dataclass(frozen=True, slots=True)
class InFlight:
    tenant_id: uuid.UUID
    environment: Environment
    status: TransactionStatus
    count: int


@dataclass(frozen=True, slots=True)
class ChainSummary:
    chain_id: int
    name: str
    block: int
    tokens: int
    reads: int  # balances or owners read
    movements: int  # transfer log entries scanned
    missing_contracts: tuple[str, ...]  # token addresses with no code at ``block``
    seconds: float


@dataclass
class Report:
    tenants: int = 0
    differences: list[Difference] = field(default_factory=list)
    failed: list[FailedTransaction] = field(default_factory=list)
    in_flight: list[InFlight] = field(default_factory=list)
    # Settled transactions that cannot be reconciled (they name no chain).
    problems: list[str] = field(default_factory=list)
    # What was not read and why (a chain only unsettled intents or registered tokens name
    # that the settings do not configure).
    notes: list[str] = field(default_factory=list)
    chains: list[ChainSummary] = field(default_factory=list)
    holders: int = 0  # (tenant, token, token id, holder) positions compared
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.differences and not self.failed and not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    @property
    def in_flight_total(self) -> int:
        return sum(entry.count for entry in self.in_flight)


# (tenant, environment, chain, token address) -> the ledger's positions of that token.
GroupKey = tuple[uuid.UUID, Environment, int, str]
Position = tuple[str, int]  # (holder, token id); both ERC721 and ERC1155 key on the id


@dataclass
class _LedgerSide:
    groups: dict[GroupKey, dict[Position, int]] = field(default_factory=dict)
    token_types: dict[tuple[int, str], str] = field(default_factory=dict)


@dataclass
class _ChainState:
    summary: ChainSummary
    # Per token: balance of each position (ERC20: token id 0; ERC1155), or owner per id.
    balances: dict[str, dict[Position, int]]
    owners: dict[str, dict[int, str | None]]


async def reconcile(
    db: Database, settings: Settings, wallets: WalletDeriver, options: Options | None = None
) -> Report:
    """Compare; raises ``ReconcileError`` (a tenant that does not exist, settled transactions
    on a chain the settings do not configure) or ``ChainReadError`` (a chain unreachable or
    answering nonsense) when it cannot."""
    options = options or Options()
    started = time.perf_counter()
    report = Report()
    ledger = await _read_ledger(db, wallets, options, report)
    registry = registry_of(settings)
    by_chain: dict[int, dict[str, str]] = defaultdict(dict)
    for (chain_id, token), kind in ledger.token_types.items():
        by_chain[chain_id][token] = kind
    settled_chains = {group[2] for group, positions in ledger.groups.items() if positions}
    readers = []
    for chain_id in sorted(by_chain):
        chain = registry.get(chain_id)
        if chain is not None:
            readers.append((chain_id, chain.name, chain.rpc_url))
        elif chain_id in settled_chains:
            raise ReconcileError(
                f"succeeded transactions name chain {chain_id}, which is not configured "
                "(PERS_CHAINS)"
            )
        else:
            report.notes.append(
                f"chain {chain_id} is not configured: {len(by_chain[chain_id])} token "
                "contract(s) on it, with nothing settled, were not read"
            )
            ledger.groups = {g: p for g, p in ledger.groups.items() if g[2] != chain_id}
    states = await gather_all(
        _read_chain(chain_id, name, url, by_chain[chain_id], ledger, options)
        for chain_id, name, url in readers
    )
    chain_states = {state.summary.chain_id: state for state in states}
    report.chains = [state.summary for state in states]
    for group, positions in sorted(ledger.groups.items(), key=lambda g: _sort_key(g[0])):
        _compare(group, positions, ledger, chain_states[group[2]], report)
    report.seconds = time.perf_counter() - started
    return report


def _sort_key(group: GroupKey) -> tuple[str, str, int, str]:
    return (str(group[0]), group[1].value, group[2], group[3])


async def _read_ledger(
    db: Database, wallets: WalletDeriver, options: Options, report: Report
) -> _LedgerSide:
    async with db.unit_of_work() as session:
        tenants = await repository.tenant_ids(session, options.tenant)
    if options.tenant is not None and not tenants:
        raise ReconcileError(f"no tenant {options.tenant}")
    report.tenants = len(tenants)
    ledger = _LedgerSide()
    for tenant_id in tenants:
        # One transaction per tenant, bound to it: Row Level Security holds for any login.
        async with db.unit_of_work() as session:
            await set_tenant(session, tenant_id)
            issuer = issuer_address(wallets, tenant_id)
            tokens = await repository.tokens_seen(session, tenant_id, options.environment)
            tokens += await repository.registered_tokens(session, tenant_id, options.environment)
            settled = await repository.settled_balances(
                session, tenant_id, options.environment, issuer
            )
            failed = await repository.failed_intents(session, tenant_id, options.environment)
            flying = await repository.in_flight(session, tenant_id, options.environment)
        for token in tokens:
            if token.chain_id is None:
                continue
            ledger.token_types[(token.chain_id, token.token_address)] = token.token_type
            ledger.groups.setdefault(
                (tenant_id, token.environment, token.chain_id, token.token_address), {}
            )
        _add_settled(tenant_id, settled, ledger, report)
        report.failed.extend(FailedTransaction(tenant_id, intent) for intent in failed)
        report.in_flight.extend(InFlight(tenant_id, env, st, n) for env, st, n in flying)
    return ledger


def _add_settled(
    tenant_id: uuid.UUID, settled: list[SettledBalance], ledger: _LedgerSide, report: Report
) -> None:
    unplaced: dict[tuple[Environment, str], int] = defaultdict(int)
    for row in settled:
        if row.chain_id is None:
            unplaced[(row.environment, row.token_address)] += 1
            continue
        group = (tenant_id, row.environment, row.chain_id, row.token_address)
        ledger.groups[group][(row.holder, row.token_key)] = row.amount
    for (env, token), count in sorted(unplaced.items()):
        report.problems.append(
            f"tenant {tenant_id} {env.value}: {count} settled position(s) of token "
            f"{to_checksum_address(token)} come from succeeded transactions that name no chain"
        )


async def _read_chain(
    chain_id: int,
    name: str,
    rpc_url: str,
    tokens: dict[str, str],
    ledger: _LedgerSide,
    options: Options,
) -> _ChainState:
    started = time.perf_counter()
    wanted: dict[str, set[Position]] = defaultdict(set)
    for (_tenant, _env, chain, token), positions in ledger.groups.items():
        if chain == chain_id:
            wanted[token].update(positions)
    async with ChainReader(
        chain_id,
        rpc_url,
        timeout=options.rpc_timeout,
        concurrency=options.concurrency,
        retries=options.rpc_retries,
    ) as reader:
        block = await reader.check()
        has_code = await reader.has_code(sorted(tokens), block)
        present = sorted(token for token, code in has_code.items() if code)
        moves = await reader.movements(present, options.from_block, block, options.log_range)
        for move in moves:
            for party in (move.sender, move.receiver):
                if party != ZERO_ADDRESS:
                    wanted[move.token].add((party, move.token_key))
        balances: dict[str, dict[Position, int]] = {}
        owners: dict[str, dict[int, str | None]] = {}

        async def read(token: str) -> None:
            positions = sorted(wanted[token])
            kind = tokens[token]
            if kind == ERC721:
                ids = sorted({token_id for _holder, token_id in positions})
                owners[token] = await reader.erc721_owners(token, ids, block)
            elif kind == ERC1155:
                balances[token] = await reader.erc1155_balances(token, positions, block)
            else:
                holders = sorted({holder for holder, _key in positions})
                found = await reader.erc20_balances(token, holders, block)
                balances[token] = {(holder, 0): value for holder, value in found.items()}

        await gather_all(read(token) for token in present)
    reads = sum(len(b) for b in balances.values()) + sum(len(o) for o in owners.values())
    summary = ChainSummary(
        chain_id=chain_id,
        name=name,
        block=block,
        tokens=len(tokens),
        reads=reads,
        movements=len(moves),
        missing_contracts=tuple(to_checksum_address(t) for t in sorted(tokens) if not has_code[t]),
        seconds=time.perf_counter() - started,
    )
    return _ChainState(summary, balances, owners)


def _compare(
    group: GroupKey,
    positions: dict[Position, int],
    ledger: _LedgerSide,
    state: _ChainState,
    report: Report,
) -> None:
    tenant_id, environment, chain_id, token = group
    kind = ledger.token_types[(chain_id, token)]
    if kind == ERC721:
        owners = state.owners.get(token, {})
        on_chain: dict[Position, int] = {
            (owner, token_id): 1 for token_id, owner in owners.items() if owner is not None
        }
    else:
        on_chain = {p: v for p, v in state.balances.get(token, {}).items() if v != 0}
    compared = sorted(set(positions) | set(on_chain))
    report.holders += len(compared)
    for holder, token_id in compared:
        settled = positions.get((holder, token_id), 0)
        held = on_chain.get((holder, token_id), 0)
        if settled != held:
            report.differences.append(
                Difference(
                    tenant_id=tenant_id,
                    environment=environment,
                    chain_id=chain_id,
                    token_address=to_checksum_address(token),
                    token_type=kind,
                    token_id=None if kind == ERC20 else token_id,
                    holder=to_checksum_address(holder),
                    ledger=settled,
                    chain=held,
                )
            )
