import httpx

from tests.conftest import TenantHandle


async def test_root_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/")
    assert response.status_code == 200
    assert response.json()["name"] == "pers"


async def test_tenant_admin_can_update_and_read(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.put(
        "/v1.7/tenant/admin",
        json={"projectDescription": "hi", "stripeApiKey": "sk_test_1"},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["projectDescription"] == "hi"
    assert body["stripeApiKey"] == "sk_test_1"
    assert body["jwt"] is None
    public = await client.get("/v1.7/tenant/public", headers=tenant.public)
    assert public.status_code == 200, public.text
    assert public.json()["projectDescription"] == "hi"
    assert "stripeApiKey" not in public.json()
