"""Chain fixtures: the compiled contracts and an in-process py-evm chain (eth-tester)."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import EthereumTesterProvider, Web3

from pers.chain.compile import CompiledContract, compile_all
from pers.chain.contracts import ContractName

# Kept between runs (``make clean`` removes it): a warm cache makes the suite skip the compiler.
CACHE_DIR = Path(__file__).resolve().parents[2] / ".pers-test" / "contracts"


@pytest.fixture(scope="session")
def compiled() -> dict[ContractName, CompiledContract]:
    return compile_all(CACHE_DIR)


@pytest.fixture(scope="module")
def w3() -> Web3:
    """One chain per module; each test deploys its own contracts on it."""
    return Web3(EthereumTesterProvider())
