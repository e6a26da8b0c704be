"""Free heap memory given back to the system while a pass runs (glibc only).

The crawling process reads page bodies of every size (tens of KB to a few MB), ~20 MB of
them at any time, among long-lived small objects. glibc's malloc serves most of them from
its heaps (its threshold for giving a block its own mapping rises to the largest block
freed so far), and a heap page freed between two blocks still in use stays with the
process: over a 10,000-page pass the process grew by ~19 MB while Python's own objects grew
by ~2 MB. `give_back` (``malloc_trim(0)``) returns the whole free pages inside the heaps as
well as at their ends; the page runner calls it every `EVERY_PAGES` pages.

A fixed mapping threshold (``MALLOC_MMAP_THRESHOLD_``: every large body its own mapping,
unmapped when freed) kept the process flatter too, but cost ~7% of a pass's CPU: each
body then comes in fresh, zeroed pages.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

EVERY_PAGES = 200


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The C library the process already runs on: no search for its file
        # (``ctypes.util.find_library`` runs ldconfig, ~13 ms of every pass's start).
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # glibc; musl has none
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Return the free pages of the process's heaps to the system; False where that
    cannot be done (not glibc)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
