"""tokopt: exact offline token counts and costs for LLM prompts."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Ledger", "__version__"]


def __getattr__(name: str) -> Any:
    # `from tokopt import Ledger` loads the ledger (pydantic, sqlite3) only when asked for,
    # so that `import tokopt` and `tokopt --help` stay cheap.
    if name == "Ledger":
        from tokopt.ledger import Ledger

        return Ledger
    raise AttributeError(f"module 'tokopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "Ledger"])
