"""Scrapy's HTTP/1.1 download handler classes, imported without a walk of the whole stack.

Scrapy's TLS modules (imported with its HTTP/1.1 handler) name the module of their
deprecated aliases from ``inspect.stack()[1]``. For every frame of the import chain that
reads the source file, and for each of importlib's frozen frames it walks every loaded
module: ~0.1 s of every crawl's start, for one frame object. Here ``inspect.stack`` gives
the frames alone while they are imported.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def _frames_without_source() -> Iterator[None]:
    def stack(context: int = 1) -> list[tuple[FrameType]]:
        frames: list[tuple[FrameType]] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            frames.append((frame,))
            frame = frame.f_back
        return frames

    own = inspect.stack
    inspect.stack = stack  # type: ignore[assignment]
    try:
        yield
    finally:
        inspect.stack = own


with _frames_without_source():
    from scrapy.core.downloader.handlers.http11 import (
        HTTP11DownloadHandler,
        _LenientHTTP11ClientFactory,
        _LenientHTTP11ClientProtocol,
        _LenientHTTPClientParser,
    )

__all__ = [
    "HTTP11DownloadHandler",
    "_LenientHTTP11ClientFactory",
    "_LenientHTTP11ClientProtocol",
    "_LenientHTTPClientParser",
]
