"""Compiles the token contracts with the ``vyper`` package and caches the output on disk.

A compilation takes a second or two per contract, so its output (ABI, deployment and runtime
bytecode) is stored as JSON under a cache directory, keyed by a hash of everything that decides
it: the contract's source, the vyper and snekmate versions and the compiler settings. Any change
to one of them misses the cache and compiles again; stale entries are simply never read.

``python -m pers.chain.compile`` regenerates the committed ABIs (``contracts/abi/*.json``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import OptimizationLevel, Settings

from pers.chain.contracts import Abi, ContractName, source

# Cancun rather than the compiler's newest default: the bytecode then runs on every chain that
# has had the Cancun upgrade (mainnet and the usual L2s), and on newer ones.
EVM_VERSION = "cancun"
ABI_DIR = Path(__file__).resolve().parent / "contracts" / "abi"
_OUTPUTS = ("abi", "bytecode", "bytecode_runtime")
# vyper keeps per-compilation state in module globals; one compilation at a time per process.
_compiler_lock = threading.Lock()


@dataclass(frozen=True)
class CompiledContract:
    name: ContractName
    abi: Abi
    bytecode: str  # deployment code, 0x-prefixed hex; constructor arguments go after it
    runtime_bytecode: str  # the code an address holds once deployed


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pers" / "contracts"


def _snekmate_root() -> Path:
    """The directory that holds the ``snekmate`` package, for vyper's import search path."""
    spec = importlib.util.find_spec("snekmate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the snekmate package is not installed")
    return Path(next(iter(spec.submodule_search_locations))).parent


def cache_key(name: ContractName, evm_version: str = EVM_VERSION) -> str:
    parts = (
        name.value,
        source(name),
        vyper.__version__,
        importlib.metadata.version("snekmate"),
        evm_version,
        OptimizationLevel.GAS.name,
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _compile(name: ContractName, evm_version: str) -> dict[str, Any]:
    settings = Settings(optimize=OptimizationLevel.GAS, evm_version=evm_version)
    with _compiler_lock:
        output: dict[str, Any] = vyper.compile_code(
            source(name),
            contract_path=f"{name.value}.vy",
            input_bundle=FilesystemInputBundle([_snekmate_root()]),
            settings=settings,
            output_formats=list(_OUTPUTS),
        )
    return {key: output[key] for key in _OUTPUTS}


def _read(path: Path, key: str) -> dict[str, Any] | None:
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or cached.get("key") != key:
        return None
    if not all(output in cached for output in _OUTPUTS):
        return None
    return cached


def _write(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader (another worker, another test process) sees the whole
    # entry or none of it.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_contract(
    name: ContractName, cache_dir: Path | None = None, evm_version: str = EVM_VERSION
) -> CompiledContract:
    """``name`` compiled, from the cache in ``cache_dir`` when it holds this exact build."""
    key = cache_key(name, evm_version)
    path = (cache_dir or default_cache_dir()) / f"{name.value}-{key[:32]}.json"
    entry = _read(path, key)
    if entry is None:
        entry = {"key": key, "vyper": vyper.__version__, **_compile(name, evm_version)}
        _write(path, entry)
    return CompiledContract(
        name=name,
        abi=entry["abi"],
        bytecode=entry["bytecode"],
        runtime_bytecode=entry["bytecode_runtime"],
    )


def compile_all(
    cache_dir: Path | None = None, evm_version: str = EVM_VERSION
) -> dict[ContractName, CompiledContract]:
    return {name: compile_contract(name, cache_dir, evm_version) for name in ContractName}


def abi_json(abi: Abi) -> str:
    """The committed form of an ABI: stable, diff-friendly text."""
    return json.dumps(abi, indent=2) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the committed contract ABIs.")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--abi-dir", type=Path, default=ABI_DIR)
    args = parser.parse_args(argv)
    args.abi_dir.mkdir(parents=True, exist_ok=True)
    for name, compiled in compile_all(args.cache_dir).items():
        (args.abi_dir / f"{name.value}.json").write_text(abi_json(compiled.abi))


if __name__ == "__main__":
    main()
