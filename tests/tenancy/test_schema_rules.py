"""Schema rules for a multi-tenant (Citus-ready) database.

The model rules are checked on ``Base.metadata``; the RLS and ownership rules on the migrated
database, since they live only in the migrations.
"""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

import pers.models  # noqa: F401 - registers every table on Base.metadata
from pers.db import Base

APP_ROLE = "pers_app"

# Tables that are not owned by a tenant, each with the reason it may break the rules.
PLATFORM_TABLES = {
    # The tenant registry itself: its ``id`` *is* the tenant id (the distribution key), and a
    # project key must be resolved to a tenant before any tenant context exists, so it can
    # neither carry a tenant_id nor be under Row Level Security.
    "tenants",
}

# The column that carries the tenant id in a table a foreign key may reference.
TENANT_KEY_OF = {"tenants": "id"}


def _first_index_column(index: Index) -> str | None:
    """Name of the first indexed column, or None when the first element is an expression."""
    first = index.expressions[0]
    return first.name if isinstance(first, Column) else None


def tenancy_violations(table: Table) -> list[str]:
    """Every rule ``table`` breaks, each message naming the table."""
    name = table.name
    problems: list[str] = []
    if "tenant_id" not in table.columns:
        return [f"{name}: has no tenant_id column"]
    pk = [c.name for c in table.primary_key.columns]
    if not pk or pk[0] != "tenant_id":
        problems.append(f"{name}: primary key {pk} does not start with tenant_id")
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            cols = [c.name for c in constraint.columns]
            if not cols or cols[0] != "tenant_id":
                problems.append(
                    f"{name}: unique constraint {constraint.name} on {cols} "
                    "does not start with tenant_id"
                )
        elif isinstance(constraint, ForeignKeyConstraint):
            local = list(constraint.column_keys)
            target = constraint.elements[0].column.table.name
            target_key = TENANT_KEY_OF.get(target, "tenant_id")
            remote = [e.column.name for e in constraint.elements]
            if local[0] != "tenant_id":
                problems.append(
                    f"{name}: foreign key {constraint.name} to {target} has local columns "
                    f"{local}, not starting with tenant_id"
                )
            if remote[0] != target_key:
                problems.append(
                    f"{name}: foreign key {constraint.name} references {target}{remote}, "
                    f"not starting with {target}.{target_key}"
                )
    for index in table.indexes:
        if index.unique and _first_index_column(index) != "tenant_id":
            problems.append(f"{name}: unique index {index.name} does not start with tenant_id")
    return problems


TABLES = sorted(Base.metadata.tables.values(), key=lambda t: t.name)
TENANT_TABLES = [t for t in TABLES if t.name not in PLATFORM_TABLES]


def test_metadata_knows_the_platform_allowlist_and_tenant_tables() -> None:
    names = {t.name for t in TABLES}
    assert names >= PLATFORM_TABLES, f"stale allowlist entries: {PLATFORM_TABLES - names}"
    assert {"admins", "api_keys", "users", "user_identities"} <= {t.name for t in TENANT_TABLES}


@pytest.mark.parametrize("table", TENANT_TABLES, ids=lambda t: t.name)
def test_tenant_table_keys_constraints_and_indexes_lead_with_tenant_id(table: Table) -> None:
    problems = tenancy_violations(table)
    assert not problems, f"table {table.name} breaks the tenancy rules:\n" + "\n".join(problems)


@pytest.mark.parametrize("table", TENANT_TABLES, ids=lambda t: t.name)
def test_tenant_id_is_the_first_primary_key_column(table: Table) -> None:
    pk = list(table.primary_key.columns)
    assert pk, f"table {table.name} has no primary key"
    assert pk[0].name == "tenant_id", f"table {table.name}: primary key starts with {pk[0].name}"
    assert not pk[0].nullable, f"table {table.name}: tenant_id is nullable"


def test_foreign_keys_between_tenant_tables_are_checked() -> None:
    """The rules are not vacuous: the models do have a composite tenant foreign key."""
    fks = [c for t in TENANT_TABLES for c in t.constraints if isinstance(c, ForeignKeyConstraint)]
    assert any(fk.table.name == "user_identities" for fk in fks)
    functional = [
        i for t in TENANT_TABLES for i in t.indexes if i.unique and len(i.expressions) > 1
    ]
    assert any(not isinstance(i.expressions[1], Column) for i in functional)


def _bad_metadata() -> MetaData:
    md = MetaData()

    def keyed(name: str, *extra: object) -> None:
        Table(
            name,
            md,
            Column("tenant_id", Uuid, primary_key=True),
            Column("id", Uuid, primary_key=True),
            *extra,
        )

    keyed("parents")
    Table("no_tenant", md, Column("id", Uuid, primary_key=True))
    Table(
        "pk_order",
        md,
        Column("id", Uuid, primary_key=True),
        Column("tenant_id", Uuid, primary_key=True),
    )
    keyed("bad_unique", Column("code", Uuid), UniqueConstraint("code", "tenant_id"))
    keyed(
        "bad_index",
        Column("email", Uuid),
        Index("ix_bad_email", func.lower(text("email")), "tenant_id", unique=True),
    )
    keyed(
        "bad_fk",
        Column("parent_id", Uuid),
        ForeignKeyConstraint(["parent_id", "tenant_id"], ["parents.id", "parents.tenant_id"]),
    )
    return md


@pytest.mark.parametrize(
    ("table_name", "expected"),
    [
        ("parents", None),
        ("no_tenant", "no_tenant: has no tenant_id column"),
        ("pk_order", "pk_order: primary key"),
        ("bad_unique", "bad_unique: unique constraint"),
        ("bad_index", "bad_index: unique index ix_bad_email"),
        ("bad_fk", "bad_fk: foreign key"),
    ],
)
def test_rule_checker_names_the_offending_table(table_name: str, expected: str | None) -> None:
    problems = tenancy_violations(_bad_metadata().tables[table_name])
    if expected is None:
        assert problems == []
    else:
        assert any(p.startswith(expected) for p in problems), problems
    if table_name == "bad_fk":
        assert len(problems) == 2, problems  # local and referenced columns both out of order


async def _tables_with_tenant_id(conn) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
            "AND NOT a.attisdropped "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
    )
    return {r[0] for r in rows}


async def test_every_tenant_table_in_the_database_forces_rls_with_a_policy(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as conn:
        tables = await _tables_with_tenant_id(conn)
        assert tables == {t.name for t in TENANT_TABLES}, "database and models disagree"
        rows = await conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies, "
                "(SELECT bool_and(p.polqual IS NOT NULL AND p.polwithcheck IS NOT NULL "
                "AND p.polcmd = '*') FROM pg_policy p WHERE p.polrelid = c.oid) AS full "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = ANY(:names)"
            ),
            {"names": sorted(tables)},
        )
        found = {r.relname: r for r in rows}
    for name in sorted(tables):
        row = found[name]
        assert row.relrowsecurity, f"table {name}: row level security is not enabled"
        assert row.relforcerowsecurity, f"table {name}: row level security is not forced"
        assert row.policies > 0, f"table {name}: has no policy"
        assert row.full, f"table {name}: a policy lacks USING/WITH CHECK or is not FOR ALL"


async def test_platform_tables_have_no_tenant_id_in_the_database(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as conn:
        tables = await _tables_with_tenant_id(conn)
    assert not (PLATFORM_TABLES & tables)


async def test_app_role_owns_no_table_and_cannot_bypass_rls(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        owners = dict(
            (
                await conn.execute(
                    text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
                )
            ).all()
        )
        role = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                {"r": APP_ROLE},
            )
        ).one()
    assert {t.name for t in TABLES} <= set(owners)
    owned = sorted(t for t, owner in owners.items() if owner == APP_ROLE)
    assert owned == [], f"{APP_ROLE} owns tables {owned}: RLS would not apply to it"
    assert not role.rolsuper, f"{APP_ROLE} is a superuser"
    assert not role.rolbypassrls, f"{APP_ROLE} has BYPASSRLS"
