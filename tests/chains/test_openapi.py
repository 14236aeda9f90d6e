"""The chain and contract operations in the OpenAPI document."""

from __future__ import annotations

import httpx


async def test_chain_and_contract_operations_are_documented(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    admin = [{"bearerAuth": []}]
    assert paths["/v1.7/contract"]["post"]["security"] == admin
    assert paths["/v1.7/contract"]["get"]["security"] == admin
    assert paths["/v1.7/contract/{id}"]["get"]["security"] == admin
    assert "201" in paths["/v1.7/contract"]["post"]["responses"]
    for path in ("/v1.7/chain", "/v1.7/chain/{chainId}"):
        security = paths[path]["get"]["security"]
        assert {"projectKey": []} in security
        assert {"bearerAuth": []} in security
    assert "404" in paths["/v1.7/chain/{chainId}"]["get"]["responses"]
    assert paths["/v1.7/chain/{chainId}"]["get"]["summary"] == "Get chain data"
