"""Chains from settings: PERS_CHAINS parsing and its rules, checked when Settings are built
(start-up), and the registry derived from them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from pers.chains.registry import ChainRegistry, registry_of, without_credentials
from pers.config import Settings
from pers.kit.enums import Environment
from tests.chains.conftest import AMOY, DEV_CHAIN_ID, POLYGON, SECRET

POLYGON_JSON = {
    "chainId": POLYGON,
    "name": "Polygon",
    "rpcUrl": f"https://polygon-mainnet.infura.io/v3/{SECRET}",
    "publicRpcUrl": "https://polygon-rpc.com",
    "isTestnet": False,
    "confirmations": 64,
    "explorerUrl": "https://polygonscan.com",
    "nativeCurrency": {"name": "POL", "symbol": "POL", "decimals": 18},
}
AMOY_JSON = {"chainId": AMOY, "name": "Amoy", "rpcUrl": "https://amoy.example", "isTestnet": True}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PERS_CHAINS", "PERS_MAINNET_CHAIN_ID", "PERS_TESTNET_CHAIN_ID",
                 "PERS_DEVCHAIN_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(f"PERS_{name.upper()}", value)
    return Settings()


def error_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    with pytest.raises(ValidationError) as info:
        from_env(monkeypatch, **env)
    return str(info.value)


def chains_json(*chains: dict[str, Any]) -> str:
    return json.dumps(list(chains))


# --- parsing ----------------------------------------------------------------------------------


def test_without_chain_settings_only_the_dev_chain_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = from_env(monkeypatch)
    assert settings.chains == []
    assert settings.mainnet_chain_id is None
    registry = registry_of(settings)
    [dev] = registry.all()
    assert dev.chain_id == DEV_CHAIN_ID == settings.testnet_chain_id
    assert (dev.name, dev.is_testnet, dev.confirmations) == ("pers dev chain", True, 1)
    assert dev.rpc_url == dev.public_rpc_url == "http://127.0.0.1:8545"
    assert dev.is_dev_chain
    assert dev.environment is Environment.TESTNET
    assert registry.dev_chain == dev
    assert registry.for_environment(Environment.TESTNET) == dev
    assert registry.for_environment(Environment.MAINNET) is None


def test_chains_json_is_parsed_with_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch, chains=chains_json(POLYGON_JSON, AMOY_JSON), mainnet_chain_id=str(POLYGON)
    )
    registry = registry_of(settings)
    assert [c.chain_id for c in registry.all()] == [DEV_CHAIN_ID, POLYGON, AMOY]
    polygon = registry.get(POLYGON)
    assert polygon is not None
    assert polygon.name == "Polygon"
    assert polygon.rpc_url == POLYGON_JSON["rpcUrl"]
    assert polygon.public_rpc_url == "https://polygon-rpc.com"
    assert (polygon.is_testnet, polygon.confirmations) == (False, 64)
    assert polygon.explorer_url == "https://polygonscan.com"
    assert (polygon.native_currency.symbol, polygon.native_currency.decimals) == ("POL", 18)
    assert polygon.environment is Environment.MAINNET
    assert not polygon.is_dev_chain
    assert registry.for_environment(Environment.MAINNET) == polygon
    amoy = registry.get(AMOY)
    assert amoy is not None
    assert amoy.environment is None
    # Defaults: 12 confirmations, Ether, nothing published.
    assert amoy.confirmations == 12
    assert amoy.native_currency.symbol == "ETH"
    assert amoy.public_rpc_url is None
    assert amoy.explorer_url is None


def test_snake_case_keys_are_accepted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = {"chain_id": AMOY, "name": "Amoy", "rpc_url": "wss://amoy.example", "is_testnet": True}
    settings = from_env(monkeypatch, chains=chains_json(chain))
    assert settings.chains[0].rpc_url == "wss://amoy.example"


def test_empty_settings_mean_none(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch, chains="", mainnet_chain_id="")
    assert settings.chains == []
    assert settings.mainnet_chain_id is None


def test_a_chain_for_the_testnet_id_replaces_the_dev_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = from_env(monkeypatch, chains=chains_json(AMOY_JSON), testnet_chain_id=str(AMOY))
    registry = registry_of(settings)
    assert [c.chain_id for c in registry.all()] == [AMOY]
    assert registry.dev_chain is None
    testnet = registry.for_environment(Environment.TESTNET)
    assert testnet is not None
    assert testnet.name == "Amoy"


def test_the_dev_chain_is_reached_where_it_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch, devchain_host="127.0.0.1", devchain_port="9545")
    dev = registry_of(settings).dev_chain
    assert dev is not None
    assert dev.rpc_url == "http://127.0.0.1:9545"
    assert dev.public_rpc_url == "http://127.0.0.1:9545"
    assert settings.testnet_rpc == "http://127.0.0.1:9545"


def test_without_credentials_keeps_ipv6_hosts_and_ports() -> None:
    assert without_credentials("http://u:p@[::1]:8545/x?k=v") == "http://[::1]:8545/x"
    assert without_credentials("https://example.org") == "https://example.org"


# --- invalid settings: a clear error at start -------------------------------------------------


def test_malformed_json_is_reported_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, chains="[{chainId: 1")
    assert "PERS_CHAINS is not valid JSON" in message


def test_json_that_is_not_a_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, chains=json.dumps(POLYGON_JSON))
    assert "PERS_CHAINS must be a JSON list" in message


def test_duplicate_chain_ids_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    again = {**POLYGON_JSON, "name": "Polygon again"}
    message = error_of(monkeypatch, chains=chains_json(POLYGON_JSON, again))
    assert f"chain id {POLYGON} is configured twice" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chainId": 0}, "chainId"),
        ({"chainId": 2**63}, "chainId"),
        ({"name": ""}, "name"),
        ({"rpcUrl": "polygon-rpc.com"}, "rpcUrl"),
        ({"rpcUrl": "ftp://polygon-rpc.com"}, "rpcUrl"),
        ({"publicRpcUrl": "https://user:pw@polygon-rpc.com"}, "publicRpcUrl"),
        ({"explorerUrl": "javascript:alert(1)"}, "explorerUrl"),
        ({"confirmations": -1}, "confirmations"),
        ({"nativeCurrency": {"name": "POL", "symbol": "POL", "decimals": 99}}, "decimals"),
        ({"rpcUrls": ["https://typo.example"]}, "rpcUrls"),
    ],
)
def test_invalid_chain_fields_are_named(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], field: str
) -> None:
    message = error_of(monkeypatch, chains=chains_json({**POLYGON_JSON, **change}))
    assert "chains.0" in message
    assert field in message


def test_missing_required_fields_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, chains=chains_json({"chainId": 5}))
    assert "name" in message
    assert "rpcUrl" in message


def test_the_testnet_chain_entry_must_be_a_testnet(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(
        monkeypatch,
        chains=chains_json({**AMOY_JSON, "isTestnet": False}),
        testnet_chain_id=str(AMOY),
    )
    assert "must say isTestnet: true" in message


def test_the_mainnet_chain_must_be_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, mainnet_chain_id=str(POLYGON))
    assert f"PERS_MAINNET_CHAIN_ID {POLYGON} is not a chain of PERS_CHAINS" in message


def test_the_mainnet_chain_must_not_be_a_testnet(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, chains=chains_json(AMOY_JSON), mainnet_chain_id=str(AMOY))
    assert "names a chain marked isTestnet" in message


def test_mainnet_and_testnet_chains_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(monkeypatch, mainnet_chain_id=str(DEV_CHAIN_ID))
    assert "must differ" in message


def test_a_bad_dev_chain_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "devchain_port" in error_of(monkeypatch, devchain_port="0")


def test_settings_changed_after_start_are_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch)
    settings.mainnet_chain_id = POLYGON
    with pytest.raises(ValueError, match="not a chain of PERS_CHAINS"):
        registry_of(settings)


def test_the_registry_follows_the_settings_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch)
    before = registry_of(settings)
    assert isinstance(before, ChainRegistry)
    assert registry_of(settings) is before
    settings.chains = Settings(chains=[AMOY_JSON]).chains  # type: ignore[list-item]
    assert [c.chain_id for c in registry_of(settings).all()] == [DEV_CHAIN_ID, AMOY]


def test_errors_name_the_setting_without_repeating_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RPC URLs hold providers' keys: a failed start must not print them."""
    bad_url = {**POLYGON_JSON, "rpcUrl": f"ftp://user:{SECRET}@node.example"}
    message = error_of(monkeypatch, chains=chains_json(bad_url))
    assert "chains.0.rpcUrl" in message
    assert SECRET not in message
    duplicate = error_of(monkeypatch, chains=chains_json(POLYGON_JSON, POLYGON_JSON))
    assert "configured twice" in duplicate
    assert SECRET not in duplicate
