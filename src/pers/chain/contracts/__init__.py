"""pers's own token contracts: Vyper sources on snekmate, and the ABIs compiled from them.

``credit`` is the ERC-20 of credits, ``status`` the ERC-721 of status tokens and stamps,
``reward`` the ERC-1155 of rewards. ``abi/*.json`` is generated from the sources by
``python -m pers.chain.compile`` (a test keeps it equal to the compiler's output), so serving an
ABI needs no compiler.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

Abi = list[dict[str, Any]]


class ContractName(StrEnum):
    CREDIT = "credit"  # ERC-20
    STATUS = "status"  # ERC-721
    REWARD = "reward"  # ERC-1155


def source(name: ContractName) -> str:
    return resources.files(__name__).joinpath(f"{name.value}.vy").read_text()


def abi(name: ContractName) -> Abi:
    """The committed ABI of ``name``; a fresh copy each call, so callers may mutate it."""
    loaded: Abi = json.loads(_abi_text(name))
    return loaded


def shared_abi(name: ContractName) -> Abi:
    """The committed ABI of ``name``, parsed once per process and shared by every caller: read
    it, never change it (a response serializes it on every token it shows)."""
    return _shared(name)


@cache
def _abi_text(name: ContractName) -> str:
    return resources.files(__name__).joinpath(f"abi/{name.value}.json").read_text()


@cache
def _shared(name: ContractName) -> Abi:
    loaded: Abi = json.loads(_abi_text(name))
    return loaded
