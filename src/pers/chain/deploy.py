"""What deploying a token contract sends: the compiled deployment bytecode followed by the
ABI-encoded constructor arguments (a creation transaction's ``data``, with no ``to``).

Pure: no chain, no database. The relayer signs the result with the tenant's operator key, so
the operator becomes the contract's ``owner()``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from eth_abi import abi as eth_abi

from pers.chain.compile import compile_contract
from pers.chain.contracts import ContractName

# The contracts' own bounds, in UTF-8 bytes (see the ``*_MAX`` constants of the sources): a
# longer argument would make the constructor revert after the deployment paid its gas.
NAME_MAX_BYTES = 800
SYMBOL_MAX_BYTES = 128
URI_MAX_BYTES = 432
DECIMALS_MAX = 255  # uint8


def constructor_args(
    kind: ContractName, name: str, symbol: str, decimals: int, base_uri: str
) -> bytes:
    """The ABI-encoded constructor arguments of ``kind``: ``(name, symbol, decimals)`` for the
    credit contract, ``(name, symbol, baseURI)`` for status and reward. ValueError for an
    argument the contract would refuse, or one the kind does not take."""
    _bounded("name", name, NAME_MAX_BYTES)
    _bounded("symbol", symbol, SYMBOL_MAX_BYTES)
    if kind is ContractName.CREDIT:
        if base_uri:
            raise ValueError("a credit contract has no base URI")
        if not 0 <= decimals <= DECIMALS_MAX:
            raise ValueError(f"decimals must be between 0 and {DECIMALS_MAX}")
        return eth_abi.encode(["string", "string", "uint8"], [name, symbol, decimals])
    if decimals != 0:
        raise ValueError(f"a {kind} contract has no decimals")
    _bounded("base URI", base_uri, URI_MAX_BYTES)
    return eth_abi.encode(["string", "string", "string"], [name, symbol, base_uri])


def init_code(
    kind: ContractName,
    name: str,
    symbol: str,
    decimals: int,
    base_uri: str,
    *,
    cache_dir: Path | None = None,
) -> bytes:
    """The ``data`` of a transaction deploying ``kind`` (sent without ``to``). The bytecode
    comes from :func:`pers.chain.compile.compile_contract` (its cache in ``cache_dir``)."""
    args = constructor_args(kind, name, symbol, decimals, base_uri)
    return _bytecode(kind, cache_dir) + args


@cache
def _bytecode(kind: ContractName, cache_dir: Path | None) -> bytes:
    # Read from the compiler's cache once per process: the build is fixed for the process's
    # life (the sources and compiler pins ship with it).
    return bytes.fromhex(compile_contract(kind, cache_dir).bytecode.removeprefix("0x"))


def _bounded(what: str, value: str, limit: int) -> None:
    if len(value.encode()) > limit:
        raise ValueError(f"the {what} is longer than the contract's {limit} bytes")
