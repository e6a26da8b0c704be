"""What the extraction workers' forkserver imports before it forks any worker
(``pipelines/forkserver.py``), with the cyclic garbage collector off meanwhile.

Imported by that server only, never by newswatch itself. Its imports (trafilatura, the
language model, newswatch's extraction, and the warm-up in `pipelines.extract.warm`) build
some 90,000 objects the collector tracks, which live as long as the server and its workers,
and no cyclic garbage to speak of: each full collection on the way walked them again, ~9% of the
server's start (~0.035 s of ~0.4 s of CPU). Once imported, they are moved out of the
collector's reach (``gc.freeze()``) before it is turned back on, so that no worker's first
collection walks them either; the workers inherit that state.
"""

from __future__ import annotations

import gc

_was_enabled = gc.isenabled()
gc.disable()
try:
    import pipelines.extract.warm  # noqa: F401 - imported for the warm-up it runs
    import pipelines.pool  # noqa: F401 - imported for the workers
finally:
    gc.freeze()
    if _was_enabled:
        gc.enable()
