"""What the extraction workers' forkserver imports before it forks any worker
(``pipelines/forkserver.py``), with the cyclic garbage collector paused meanwhile.

Imported by that server only, never by newswatch itself. Its imports (trafilatura, the
language model, newswatch's extraction, and the warm-up in `pipelines.extract.warm`) are
built without the collector and then frozen out of its reach before it is turned back on
(``pipelines/collector.py``), so that no worker's first collection walks them either; the
workers inherit that state.
"""

from __future__ import annotations

from pipelines.collector import collection_paused, resume_collection

with collection_paused():
    import pipelines.extract.warm  # noqa: F401 - imported for the warm-up it runs
    import pipelines.pool  # noqa: F401 - imported for the workers

    resume_collection(freeze=True)
