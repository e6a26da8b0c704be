"""A process's start without the cyclic garbage collector.

Two processes build, before their real work, objects that live as long as they do and
leave no cyclic garbage to speak of, which each full collection on the way walks again:

- a pass imports Scrapy, Twisted and newswatch's crawling modules and builds a crawler per
  source (some 70,000 tracked objects; ~10% of that start, ~0.05 s of ~0.5 s);
- the extraction workers' forkserver imports trafilatura, the language model and the
  extraction, and extracts a page of its own (some 90,000; ~9% of its start, ~0.035 s of
  ~0.4 s of CPU; ``pipelines/preload.py``).

So each pauses the collector while it builds (`collection_paused`), then moves what it
built out of the collector's reach (``gc.freeze()``) and turns the collector back on
(`resume_collection`): no later collection walks those objects, nor does a worker's, which
inherits the forkserver's state. ``newswatch run`` pauses it from its first step, and the
pass resumes it once its crawls are set up (``crawler/passes.py``).

A pause that nothing resumed (a configuration error, another pass holding the dataset) ends
with the ``with`` block; a collector already off (``gc.disable()`` by an embedding program) is
left as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False  # whether the collector is off because of `collection_paused`


@contextmanager
def collection_paused() -> Iterator[None]:
    """The collector off inside the block, unless `resume_collection` turns it on first."""
    global _paused
    if _paused or not gc.isenabled():
        yield  # nested, or off already: whoever turned it off turns it on
        return
    gc.disable()
    _paused = True
    try:
        yield
    finally:
        resume_collection()


def resume_collection(*, freeze: bool = False) -> None:
    """End the pause (if one is on); with ``freeze``, first move every object that exists
    now out of the collector's reach (``gc.freeze()``), paused or not."""
    global _paused
    if freeze:
        gc.freeze()
    if _paused:
        _paused = False
        gc.enable()
