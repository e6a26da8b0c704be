"""What importing some modules brings along, asked of a fresh interpreter (this one has
imported everything already)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence


def imported_along(modules: Sequence[str], watched: Sequence[str]) -> list[str]:
    """The modules among ``watched`` (or under them: ``scrapy`` covers ``scrapy.http``) that
    a fresh interpreter has loaded after importing ``modules``, sorted."""
    probe = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}: importlib.import_module(name)\n"
        f"watched = {tuple(watched)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m in watched or m.startswith(tuple(w + '.' for w in watched)))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))
