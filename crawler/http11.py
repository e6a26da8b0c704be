"""Scrapy's HTTP/1.1 download handler classes, imported without a walk of the whole stack.

Scrapy's TLS modules (imported with its HTTP/1.1 handler) name the module of their
deprecated aliases from ``inspect.stack()[1]`` and ``inspect.getmodule`` of that frame.
``inspect.stack`` reads the source file of every frame of the import chain, and for each of
importlib's frozen frames walks every loaded module: ~0.1 s of every crawl's start, for one
frame. ``inspect.getmodule`` of a frame then maps each of the ~800 loaded modules to its
real path: ~25 ms more. Here, while they are imported, ``inspect.stack`` gives the frames
alone, and ``inspect.getmodule`` takes a frame's module from the frame's globals (a module
being imported is in ``sys.modules`` already).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType


@contextmanager
def _frames_without_source() -> Iterator[None]:
    def stack(context: int = 1) -> list[tuple[FrameType]]:
        frames: list[tuple[FrameType]] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            frames.append((frame,))
            frame = frame.f_back
        return frames

    def getmodule(obj: object, _filename: str | None = None) -> ModuleType | None:
        if isinstance(obj, FrameType):  # a module's frame while it is imported
            module = sys.modules.get(obj.f_globals.get("__name__", ""))
            if module is not None:
                return module
        return own_getmodule(obj, _filename)

    own_stack, own_getmodule = inspect.stack, inspect.getmodule
    inspect.stack = stack  # type: ignore[assignment]
    inspect.getmodule = getmodule  # type: ignore[assignment]
    try:
        yield
    finally:
        inspect.stack, inspect.getmodule = own_stack, own_getmodule


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
