"""Finance knowledge as data: TOML tables read once, at import, by the modules of `finrag.finance`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_DIR = Path(__file__).parent


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed `finrag/finance/data/<name>.toml`."""
    with (_DIR / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)
