"""sqlite_utils, imported without numpy: the first thing the store package imports.

sqlite_utils imports numpy when it can, only to give numpy's scalar types a column type:
newswatch stores none, and numpy is half the cost of importing sqlite_utils (~0.07 s of
every command's start). numpy is hidden from that one import only; a later ``import
numpy`` (the language model's, in a process that extracts) loads it as usual.
"""

from __future__ import annotations

import sys


def _import_without_numpy() -> None:
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # "import numpy" now fails
    try:
        import sqlite_utils  # noqa: F401
    finally:
        if "numpy" in sys.modules and sys.modules["numpy"] is None:
            del sys.modules["numpy"]


_import_without_numpy()

import sqlite_utils  # noqa: E402 - after numpy is hidden from it

__all__ = ["sqlite_utils"]
