"""The crawling process gives the free pages of its heap back (pipelines/heap.py)."""

from __future__ import annotations

import ctypes

import pytest

from pipelines import heap

BLOCK = 64 * 1024  # below glibc's mapping threshold: served from the heap
BLOCKS = 1600  # 100 MB


def rss_anon() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_the_free_pages_inside_the_heap_go_back_to_the_system() -> None:
    if heap.give_back() is False:
        pytest.skip("not glibc: no malloc_trim")
    libc = ctypes.CDLL(None)  # the process's own C library
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
    blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
    try:
        for block in blocks:
            ctypes.memset(block, 1, BLOCK)
        for block in blocks[:-1]:
            libc.free(block)  # the last one, still in use, keeps the heap from shrinking
        before = rss_anon()
        assert heap.give_back()
        after = rss_anon()
    finally:
        libc.free(blocks[-1])
    assert before - after > BLOCKS * BLOCK // 2, (before, after)
