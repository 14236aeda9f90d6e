"""The built-in ABIs served for tokens registered without an ``abiUrl``.

They are pers's own description of the standard interfaces (ERC20, ERC721 with metadata,
ERC1155 with metadata URI), plus the operator functions of the contracts pers deploys:
``owner``/``transferOwnership`` and owner-only ``mint``/``burnFrom`` (ERC20), ``safeMint``
(ERC721), ``mint``/``mintBatch``/``setURI`` (ERC1155). Burning: ``burn`` in each standard's
usual form (``burnBatch`` too for ERC1155).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pers.tokens.models import TokenType

Abi = list[dict[str, Any]]


@cache
def _load(token_type: TokenType) -> str:
    return resources.files("pers.tokens").joinpath(f"abi/{token_type.value}.json").read_text()


def standard_abi(token_type: TokenType) -> Abi:
    """A fresh copy (callers may not share and mutate the cached one)."""
    abi: Abi = json.loads(_load(token_type))
    return abi
