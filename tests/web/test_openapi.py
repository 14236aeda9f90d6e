"""The OpenAPI document: summaries, security, problem+json errors; and the docs page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.web.helpers import PROBLEM, assert_problem

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# Operations that need no credentials at all (and so declare no security requirement).
# The Stripe webhook carries no PERS credential: the Stripe-Signature authenticates it.
UNAUTHENTICATED = {
    ("GET", "/v1.7/"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/v1.7/purchase/stripe-webhook"),
}


@pytest.fixture(scope="module")
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


async def test_spec_lists_the_known_operations(spec: dict[str, Any]) -> None:
    found = {(m, p) for m, p, _ in operations(spec)}

    assert {
        ("GET", "/v1.7/"),
        ("GET", "/v1.7/healthcheck"),
        ("GET", "/v1.7/system"),
        ("GET", "/v1.7/admin"),
        ("POST", "/v1.7/tenant"),
        ("POST", "/v1.7/tenant/admin/api-key"),
        ("POST", "/v2/auth/token"),
        ("GET", "/.well-known/jwks.json"),
    } <= found


async def test_every_operation_has_a_summary(spec: dict[str, Any]) -> None:
    missing = [(m, p) for m, p, op in operations(spec) if not op.get("summary", "").strip()]

    assert missing == []


async def test_every_operation_declares_security(spec: dict[str, Any]) -> None:
    undeclared = [
        (m, p) for m, p, op in operations(spec) if not isinstance(op.get("security"), list)
    ]
    empty = {(m, p) for m, p, op in operations(spec) if op.get("security") == []}

    assert undeclared == []
    assert empty == UNAUTHENTICATED


async def test_security_requirements_name_declared_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    used = {
        name
        for _, _, op in operations(spec)
        for requirement in op["security"]
        for name in requirement
    }

    assert used <= schemes.keys()


async def test_security_schemes_are_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert {"projectKey", "apiKey", "platformApiKey", "bearerAuth"} <= schemes.keys()
    assert schemes["projectKey"]["type"] == "apiKey"
    assert schemes["projectKey"]["in"] == "header"
    assert schemes["projectKey"]["name"] == "x-project-key"
    assert schemes["apiKey"]["name"] == "x-api-key"
    assert schemes["platformApiKey"]["name"] == "x-api-key"
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"


async def test_specific_operations_declare_the_expected_security(spec: dict[str, Any]) -> None:
    paths = spec["paths"]

    assert paths["/v1.7/system"]["get"]["security"] == [{"apiKey": [], "projectKey": []}]
    assert paths["/v1.7/admin"]["get"]["security"] == [{"bearerAuth": []}]
    assert {"platformApiKey": []} in paths["/v1.7/tenant"]["post"]["security"]


def _problem_response(operation: dict[str, Any], status: str) -> dict[str, Any] | None:
    response: dict[str, Any] | None = operation["responses"].get(status)
    return response


async def test_every_operation_documents_400_as_problem_json(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        response = _problem_response(operation, "400")
        assert response is not None, f"{method} {path} does not document 400"
        assert PROBLEM in response.get("content", {}), f"{method} {path}: 400 not problem+json"


async def test_secured_operations_document_401_and_403(spec: dict[str, Any]) -> None:
    missing = [
        (method, path, status)
        for method, path, operation in operations(spec)
        if operation["security"]
        for status in ("401", "403")
        if status not in operation["responses"]
    ]

    assert missing == []


async def test_every_documented_error_is_problem_json(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                content = response.get("content", {})
                assert list(content) == [PROBLEM], f"{method} {path} {status}: {list(content)}"
                schema = content[PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


async def test_problem_schema_requires_the_problem_fields(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]

    assert set(problem["required"]) >= {"type", "title", "status", "detail", "code"}


async def test_no_operation_documents_fastapis_default_422(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        response = operation["responses"].get("422")
        if response is not None:
            assert PROBLEM in response.get("content", {}), f"{method} {path}"
        assert "HTTPValidationError" not in str(operation), f"{method} {path}"


async def test_public_only_operation_can_answer_403(
    client: httpx.AsyncClient, spec: dict[str, Any], tenant: TenantHandle
) -> None:
    """Why a secured operation open only to the project key must still document 403."""
    assert spec["paths"]["/v1.7/auth/token"]["post"]["security"] == [{"projectKey": []}]

    response = await client.post(
        "/v1.7/auth/token", json={"rawLoginData": {"device": "d"}}, headers=tenant.public
    )

    assert_problem(response, 403, "GUEST_LOGIN_DISABLED")


async def test_docs_page_is_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text
