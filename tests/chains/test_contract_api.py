"""Web3 Contract: POST /v1.7/contract (register), GET /v1.7/contract and /contract/{id}."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from pers.runtime import Runtime
from tests.businesses.conftest import make_admin
from tests.chains.conftest import (
    ADDRESS_A,
    ADDRESS_B,
    ADDRESS_C,
    ADDRESS_D,
    AMOY,
    CONTRACT,
    CONTRACT_FIELDS,
    DEV_CHAIN_ID,
    POLYGON,
    TX_HASH,
    Callers,
    assert_problem,
    assert_validation_error,
    create_active_business,
    register,
)
from tests.conftest import PLATFORM_KEY, TenantHandle

# --- registration -----------------------------------------------------------------------------


async def test_admin_registers_a_proxy_with_every_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await register(
        client,
        tenant,
        contractAddress=ADDRESS_A,
        contractType="SMART_WALLET_PROXY",
        implementationAddress=ADDRESS_B,
        ownerAddress=ADDRESS_C,
        factoryAddress=ADDRESS_D,
        contractVersion="1.2.0",
        salt="user@example.com",
        txHash="0x" + TX_HASH[2:].upper(),
        abiUrl="https://abi.example/wallet.json",
    )
    assert set(created) == CONTRACT_FIELDS
    uuid.UUID(created["id"])
    assert created["contractAddress"] == ADDRESS_A
    assert created["chainId"] == DEV_CHAIN_ID
    assert created["contractType"] == "SMART_WALLET_PROXY"
    assert created["implementationAddress"] == ADDRESS_B
    assert created["ownerAddress"] == ADDRESS_C
    assert created["factoryAddress"] == ADDRESS_D
    assert created["contractVersion"] == "1.2.0"
    assert created["nativeTokenType"] is None
    assert created["salt"] == "user@example.com"
    assert created["txHash"] == TX_HASH  # stored lower-case
    assert created["abiUrl"] == "https://abi.example/wallet.json"
    assert created["isProxy"] is True
    assert created["createdAt"]
    assert created["updatedAt"]


async def test_minimal_token_contract_takes_its_native_type_from_its_type(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await register(client, tenant, contractType="ERC1155")
    assert created["nativeTokenType"] == "ERC1155"
    assert created["isProxy"] is False
    for field in ("implementationAddress", "ownerAddress", "factoryAddress", "contractVersion",
                  "salt", "txHash", "abiUrl"):  # fmt: skip
        assert created[field] is None


async def test_addresses_are_stored_in_their_checksum_form(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    upper_c = "0x" + ADDRESS_C[2:].upper()
    created = await register(
        client, tenant, contractAddress=ADDRESS_A.lower(), ownerAddress=upper_c
    )
    assert (created["contractAddress"], created["ownerAddress"]) == (ADDRESS_A, ADDRESS_C)


async def test_every_contract_type_can_be_registered(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    types = [
        "SMART_WALLET_FACTORY", "SMART_WALLET_IMPLEMENTATION", "COUNTERFACTUAL_WALLET_FACTORY",
        "COUNTERFACTUAL_WALLET_IMPLEMENTATION", "ERC20", "ERC721", "ERC1155",
    ]  # fmt: skip
    for n, contract_type in enumerate(types, start=1):
        address = "0x" + f"{n:040x}"
        created = await register(
            client, tenant, contractAddress=address, contractType=contract_type
        )
        assert created["contractType"] == contract_type


async def test_registration_on_a_configured_chain(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    on_polygon = await register(client, tenant, chainId=POLYGON)
    on_amoy = await register(client, tenant, chainId=AMOY)
    assert (on_polygon["chainId"], on_amoy["chainId"]) == (POLYGON, AMOY)


async def test_a_tenant_admin_person_may_register(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    headers = await make_admin(client, runtime, tenant, "TENANT_ADMIN")
    response = await client.post(
        CONTRACT,
        json={"contractAddress": ADDRESS_B, "chainId": DEV_CHAIN_ID, "contractType": "ERC20"},
        headers=headers,
    )
    assert response.status_code == 201, response.text


# --- 400 --------------------------------------------------------------------------------------


async def post(client: httpx.AsyncClient, tenant: TenantHandle, **body: object) -> httpx.Response:
    payload: dict[str, object] = {
        "contractAddress": ADDRESS_A, "chainId": DEV_CHAIN_ID, "contractType": "ERC20",
    }  # fmt: skip
    payload.update(body)
    return await client.post(
        CONTRACT, json={k: v for k, v in payload.items() if v is not ...}, headers=tenant.admin
    )


async def test_required_fields_are_named(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for field in ("contractAddress", "chainId", "contractType"):
        assert_validation_error(await post(client, tenant, **{field: ...}), field)


async def test_malformed_fields_are_400(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    wrong_checksum = ADDRESS_A[:-1] + ADDRESS_A[-1].swapcase()
    cases = [
        ({"contractAddress": "0x1234"}, "contractAddress"),
        ({"contractAddress": wrong_checksum}, "contractAddress"),
        ({"contractAddress": "0x" + "0" * 40}, "contractAddress"),
        ({"implementationAddress": "nope"}, "implementationAddress"),
        ({"ownerAddress": "0x" + "g" * 40}, "ownerAddress"),
        ({"chainId": 0}, "chainId"),
        ({"chainId": "polygon"}, "chainId"),
        ({"contractType": "ERC4626"}, "contractType"),
        ({"nativeTokenType": "ERC4626"}, "nativeTokenType"),
        ({"txHash": "0x1234"}, "txHash"),
        ({"contractVersion": "x" * 65}, "contractVersion"),
        ({"isProxy": True}, "isProxy"),  # derived, not sent
    ]
    for body, field in cases:
        assert_validation_error(await post(client, tenant, **body), field)


async def test_type_rules_are_400(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    cases = [
        ({"contractType": "SMART_WALLET_PROXY"}, "implementationAddress"),
        ({"contractType": "SMART_WALLET_PROXY", "implementationAddress": ADDRESS_A},
         "implementationAddress"),
        ({"contractType": "SMART_WALLET_FACTORY", "nativeTokenType": "ERC20"}, "nativeTokenType"),
        ({"contractType": "ERC721", "nativeTokenType": "ERC20"}, "nativeTokenType"),
    ]  # fmt: skip
    for body, field in cases:
        assert_validation_error(await post(client, tenant, **body), field)


async def test_matching_native_token_type_is_accepted(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await post(client, tenant, contractType="ERC721", nativeTokenType="ERC721")
    assert response.status_code == 201, response.text


async def test_a_malformed_body_is_400(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    response = await client.post(
        CONTRACT,
        content=b"{not json",
        headers={**tenant.admin, "content-type": "application/json"},
    )
    assert_problem(response, 400)


# --- 401 / 403 --------------------------------------------------------------------------------


async def test_registration_needs_credentials(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = {"contractAddress": ADDRESS_A, "chainId": DEV_CHAIN_ID, "contractType": "ERC20"}
    assert_problem(await client.post(CONTRACT, json=body), 401)
    assert_problem(
        await client.post(CONTRACT, json=body, headers={"Authorization": "Bearer not.a.jwt"}),
        401,
    )


async def test_only_admins_register_and_read_contracts(
    client: httpx.AsyncClient, callers: Callers
) -> None:
    created = await register(client, callers.tenant)
    business = await create_active_business(client, callers.tenant)
    business_headers = {
        "x-api-key": business["apiPrivateKey"],
        "x-project-key": callers.tenant.testnet_key,
    }
    body = {"contractAddress": ADDRESS_B, "chainId": DEV_CHAIN_ID, "contractType": "ERC20"}
    forbidden = (callers.user, callers.system, business_headers, {"x-api-key": PLATFORM_KEY})
    for headers in forbidden:
        assert_problem(await client.post(CONTRACT, json=body, headers=headers), 403)
        assert_problem(await client.get(CONTRACT, headers=headers), 403)
        assert_problem(await client.get(f"{CONTRACT}/{created['id']}", headers=headers), 403)
    # A project key alone authenticates nobody.
    public = callers.public
    assert_problem(await client.post(CONTRACT, json=body, headers=public), 401)
    assert_problem(await client.get(CONTRACT, headers=public), 401)
    assert_problem(await client.get(f"{CONTRACT}/{created['id']}", headers=public), 401)


# --- 404 / 409 / 422 --------------------------------------------------------------------------


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    response = await client.get(f"{CONTRACT}/{uuid.uuid4()}", headers=tenant.admin)
    assert_problem(response, 404, "CONTRACT_NOT_FOUND")
    assert_validation_error(await client.get(f"{CONTRACT}/not-a-uuid", headers=tenant.admin), "id")


async def test_an_unconfigured_chain_is_422(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = assert_problem(await post(client, tenant, chainId=AMOY), 422, "CHAIN_NOT_CONFIGURED")
    assert body["chainId"] == AMOY
    assert str(DEV_CHAIN_ID) in body["detail"]
    listed = await client.get(CONTRACT, headers=tenant.admin)
    assert listed.json() == []


async def test_the_same_address_twice_on_a_chain_is_409(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    first = await register(client, tenant)
    for spelling in (ADDRESS_A, ADDRESS_A.lower()):
        body = assert_problem(
            await post(client, tenant, contractAddress=spelling, contractType="ERC721"),
            409,
            "CONTRACT_ALREADY_REGISTERED",
        )
        assert body["contractId"] == first["id"]
    # Another chain is another contract.
    await register(client, tenant, chainId=AMOY)


async def test_concurrent_registrations_of_one_address_create_one(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    responses = await asyncio.gather(*(post(client, tenant) for _ in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 5, [r.text for r in responses]
    listed = (await client.get(CONTRACT, headers=tenant.admin)).json()
    assert len(listed) == 1


async def test_an_idempotent_retry_replays_the_registration(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = {"contractAddress": ADDRESS_C, "chainId": DEV_CHAIN_ID, "contractType": "ERC20"}
    headers = {**tenant.admin, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(CONTRACT, json=body, headers=headers)
    again = await client.post(CONTRACT, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"


# --- reads ------------------------------------------------------------------------------------


async def test_contracts_are_read_back_one_and_all(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    a = await register(client, tenant, contractType="COUNTERFACTUAL_WALLET_FACTORY")
    b = await register(client, tenant, contractAddress=ADDRESS_B, chainId=POLYGON)
    c = await register(client, tenant, contractAddress=ADDRESS_C, contractType="ERC721")

    one = await client.get(f"{CONTRACT}/{b['id']}", headers=tenant.admin)
    assert one.status_code == 200, one.text
    assert one.json() == b

    async def ids(query: str = "") -> list[str]:
        response = await client.get(f"{CONTRACT}{query}", headers=tenant.admin)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]

    assert await ids() == [a["id"], b["id"], c["id"]]
    assert await ids(f"?chainId={DEV_CHAIN_ID}") == [a["id"], c["id"]]
    assert await ids(f"?chainId={POLYGON}") == [b["id"]]
    assert await ids("?contractType=ERC721") == [c["id"]]
    assert await ids(f"?chainId={POLYGON}&contractType=ERC721") == []
    assert await ids("?limit=2") == [a["id"], b["id"]]
    assert await ids("?limit=2&page=2") == [c["id"]]
    for bad in ("?limit=0", "?page=0", "?contractType=NOPE", "?chainId=x"):
        assert_problem(await client.get(f"{CONTRACT}{bad}", headers=tenant.admin), 400)


async def test_another_tenant_sees_none_of_the_contracts(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = await register(client, tenant)
    response = await client.get(f"{CONTRACT}/{mine['id']}", headers=other_tenant.admin)
    assert_problem(response, 404, "CONTRACT_NOT_FOUND")
    assert (await client.get(CONTRACT, headers=other_tenant.admin)).json() == []
    # The same address is the other tenant's own registration, not a conflict.
    theirs = await register(client, other_tenant)
    assert theirs["id"] != mine["id"]
    listed = (await client.get(CONTRACT, headers=tenant.admin)).json()
    assert [item["id"] for item in listed] == [mine["id"]]


async def test_one_tenants_admin_with_another_tenants_project_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = await register(client, tenant)
    headers = {**other_tenant.admin, "x-project-key": tenant.testnet_key}
    assert_problem(await client.get(f"{CONTRACT}/{mine['id']}", headers=headers), 401)
