"""Operations every tenant table needs: Row Level Security and grants to the app role."""

from __future__ import annotations

import os

from alembic import op

TENANT_EXPR = "NULLIF(current_setting('pers.tenant_id', true), '')::uuid"


def app_role() -> str:
    role = os.environ.get("PERS_DB_APP_ROLE", "pers_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"unsafe role name {role!r}")
    return role


def ensure_app_role() -> None:
    role = app_role()
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")


def grant(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    op.execute(f"GRANT {privileges} ON {table} TO {app_role()}")


def revoke(table: str) -> None:
    op.execute(f"REVOKE ALL ON {table} FROM {app_role()}")


def enable_tenant_rls(table: str) -> None:
    """Rows are visible and writable only inside their tenant's transaction context."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {TENANT_EXPR}) WITH CHECK (tenant_id = {TENANT_EXPR})"
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
