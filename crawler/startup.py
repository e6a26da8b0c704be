"""A pass's start without the cyclic garbage collector.

Before its first request a pass imports Scrapy, Twisted and newswatch's crawling modules and
builds a crawler per source: some 70,000 objects the collector tracks, which live as long as
the process, and no cyclic garbage to speak of. Each full collection on the way walks all of
them again, ~10% of that start (~0.05 s of ~0.5 s). So a command that will crawl pauses the
collector from its first step (`collection_paused`), and the pass resumes it once its
crawls are set up (`resume_collection`), after moving what the start built out of the
collector's reach (``gc.freeze()``, see ``crawler/passes.py``).

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
