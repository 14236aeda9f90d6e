"""A reconciliation report as text (a table and a summary) or as JSON.

Amounts and token ids are exact integers in base units; JSON carries them as decimal strings,
since they can pass 2^53 (18-decimal tokens, ERC721 ids of 128 bits).
"""

from __future__ import annotations

from typing import Any

from pers.reconcile.service import Difference, FailedTransaction, Report


def _difference(d: Difference) -> dict[str, Any]:
    return {
        "tenantId": str(d.tenant_id),
        "environment": d.environment.value,
        "chainId": d.chain_id,
        "tokenAddress": d.token_address,
        "tokenType": d.token_type,
        "tokenId": None if d.token_id is None else str(d.token_id),
        "holder": d.holder,
        "ledger": str(d.ledger),
        "chain": str(d.chain),
        "delta": str(d.delta),
    }


def _failed(f: FailedTransaction) -> dict[str, Any]:
    i = f.intent
    return {
        "tenantId": str(f.tenant_id),
        "id": str(i.id),
        "environment": i.environment.value,
        "chainId": i.chain_id,
        "tokenAddress": i.token_address,
        "tokenType": i.token_type,
        "tokenId": None if i.token_key is None else str(i.token_key),
        "amount": str(i.amount),
        "sender": i.sender,
        "recipient": i.recipient,
        "reason": i.reason,
        "updatedAt": i.updated_at.isoformat(),
    }


def as_json(report: Report) -> dict[str, Any]:
    return {
        "clean": report.clean,
        "differences": [_difference(d) for d in report.differences],
        "failed": [_failed(f) for f in report.failed],
        "inFlight": [
            {
                "tenantId": str(e.tenant_id),
                "environment": e.environment.value,
                "status": e.status.value,
                "count": e.count,
            }
            for e in report.in_flight
        ],
        "problems": list(report.problems),
        "notes": list(report.notes),
        "chains": [
            {
                "chainId": c.chain_id,
                "name": c.name,
                "block": c.block,
                "tokens": c.tokens,
                "reads": c.reads,
                "movements": c.movements,
                "missingContracts": list(c.missing_contracts),
                "seconds": round(c.seconds, 3),
            }
            for c in report.chains
        ],
        "summary": {
            "tenants": report.tenants,
            "positions": report.holders,
            "differences": len(report.differences),
            "failed": len(report.failed),
            "inFlight": report.in_flight_total,
            "problems": len(report.problems),
            "seconds": round(report.seconds, 3),
        },
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {i for i, name in enumerate(header) if name in {"ledger", "chain", "delta", "amount"}}

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def as_text(report: Report) -> str:
    lines: list[str] = []
    if report.differences:
        lines.append("Differences (delta = chain - ledger, base units):")
        lines.extend(
            _table(
                [
                    "tenant",
                    "env",
                    "chain",
                    "token",
                    "type",
                    "token id",
                    "holder",
                    "ledger",
                    "chain",
                    "delta",
                ],
                [
                    [
                        str(d.tenant_id),
                        d.environment.value,
                        str(d.chain_id),
                        d.token_address,
                        d.token_type,
                        "" if d.token_id is None else str(d.token_id),
                        d.holder,
                        str(d.ledger),
                        str(d.chain),
                        f"{d.delta:+d}",
                    ]
                    for d in report.differences
                ],
            )
        )
        lines.append("")
    if report.failed:
        lines.append("Failed settlement intents (each is a difference between ledger and chain):")
        lines.extend(
            _table(
                ["tenant", "transaction", "env", "token", "amount", "reason"],
                [
                    [
                        str(f.tenant_id),
                        str(f.intent.id),
                        f.intent.environment.value,
                        f.intent.token_address,
                        str(f.intent.amount),
                        f.intent.reason or "",
                    ]
                    for f in report.failed
                ],
            )
        )
        lines.append("")
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    for note in report.notes:
        lines.append(f"note: {note}")
    for chain in report.chains:
        missing = (
            f"; no contract at {', '.join(chain.missing_contracts)}"
            if chain.missing_contracts
            else ""
        )
        lines.append(
            f"chain {chain.chain_id} ({chain.name}) at block {chain.block}: {chain.tokens} "
            f"token(s), {chain.reads} read(s), {chain.movements} transfer log(s) in "
            f"{chain.seconds:.2f} s{missing}"
        )
    flying = report.in_flight_total
    by_status: dict[str, int] = {}
    for entry in report.in_flight:
        by_status[entry.status.value] = by_status.get(entry.status.value, 0) + entry.count
    detail = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    lines.append(
        f"{report.tenants} tenant(s), {report.holders} position(s) compared: "
        f"{len(report.differences)} difference(s), {len(report.failed)} failed intent(s), "
        f"{flying} in flight{f' ({detail})' if detail else ''} in {report.seconds:.2f} s"
    )
    if flying and not report.clean:
        lines.append(
            "note: intents in flight may already be on chain: the chain can be ahead of the "
            "settled ledger until they are settled"
        )
    lines.append("OK: the settled ledger and the chain agree" if report.clean else "NOT RECONCILED")
    return "\n".join(lines)
