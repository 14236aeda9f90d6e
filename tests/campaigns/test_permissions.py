"""Who may call what: admin operations are for tenant admins; reads for every principal of
the tenant; nothing without credentials."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.campaigns.conftest import (
    ADMIN,
    CAMPAIGN,
    CONDITIONS,
    TRIGGERS,
    Callers,
    Programme,
    ok,
    problem,
)
from tests.conftest import TenantHandle

ANY = str(uuid.uuid4())
ADMIN_OPERATIONS = [
    ("GET", ADMIN, None),
    ("POST", ADMIN, {"name": "x"}),
    ("PUT", f"{ADMIN}/{ANY}", {"name": "x"}),
    ("DELETE", f"{ADMIN}/{ANY}", None),
    ("PUT", f"{ADMIN}/{ANY}/activate", None),
    ("PUT", f"{ADMIN}/{ANY}/environment", None),
    ("POST", f"{ADMIN}/{ANY}/token-units", {"tokenId": ANY, "amount": 1}),
    ("PUT", f"{ADMIN}/{ANY}/token-units/{ANY}", {"tokenId": ANY, "amount": 1}),
    ("DELETE", f"{ADMIN}/{ANY}/token-units/{ANY}", None),
    ("PUT", f"{ADMIN}/{ANY}/trigger/{ANY}", None),
    ("POST", f"{ADMIN}/{ANY}/business-engagement", {"businessIds": [ANY]}),
    ("PUT", f"{ADMIN}/{ANY}/business-engagement/{ANY}", {"businessIds": [ANY]}),
    ("DELETE", f"{ADMIN}/{ANY}/business-engagement/{ANY}", None),
    ("POST", TRIGGERS, {"name": "x"}),
    ("PUT", f"{TRIGGERS}/{ANY}", {"name": "x"}),
    ("DELETE", f"{TRIGGERS}/{ANY}", None),
    ("PUT", f"{TRIGGERS}/{ANY}/condition/{ANY}", None),
    ("POST", CONDITIONS, {"conditionType": "EQUALS", "key": "k", "value": 1}),
    ("PUT", f"{CONDITIONS}/{ANY}", {"conditionType": "EQUALS", "key": "k", "value": 1}),
]
READ_OPERATIONS = [CAMPAIGN, f"{CAMPAIGN}/trigger/all", f"{CAMPAIGN}/{ANY}"]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_OPERATIONS)
async def test_admin_operations_refuse_every_other_principal(
    client: httpx.AsyncClient, callers: Callers, method: str, path: str, body: object
) -> None:
    for name in ("user", "system", "business"):
        response = await client.request(method, path, json=body, headers=callers.all()[name])
        problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    response = await client.request(method, path, json=body, headers=callers.public)
    problem(response, 401, "MISSING_CREDENTIALS")
    problem(await client.request(method, path, json=body), 401, "MISSING_CREDENTIALS")


@pytest.mark.parametrize("path", READ_OPERATIONS)
async def test_reads_need_the_project_key(client: httpx.AsyncClient, path: str) -> None:
    problem(await client.get(path), 401, "MISSING_CREDENTIALS")
    problem(await client.get(path, headers={"x-project-key": "nope"}), 401,
            "INVALID_PROJECT_KEY")  # fmt: skip


async def test_every_principal_reads_an_active_campaign(
    client: httpx.AsyncClient, programme: Programme, callers: Callers
) -> None:
    campaign = await programme.active_campaign()
    for name, headers in callers.all().items():
        assert (await programme.get(campaign["id"], headers))["id"] == campaign["id"], name
        assert [c["id"] for c in ok(await client.get(CAMPAIGN, headers=headers))] == [
            campaign["id"]
        ], name


async def test_another_tenants_admin_token_with_this_project_key_is_refused(
    client: httpx.AsyncClient, programme: Programme, other_tenant: TenantHandle
) -> None:
    headers = {**other_tenant.admin, "x-project-key": programme.tenant.testnet_key}
    response = await client.post(ADMIN, json={"name": "x"}, headers=headers)
    problem(response, 401, "TENANT_MISMATCH")
    assert await programme.admin_list() == []
