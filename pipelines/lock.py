"""One pass at a time per dataset: a cron pass and a scheduled pass must not overlap.

The lock is an ``flock`` on ``<database>.lock``: the kernel drops it when its process dies,
however it dies, so a lock can never be left stale by a crash. The file keeps the holder's
pid and start time, for the message a refused pass prints.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import NewswatchError
from pipelines.store import utcnow


class PassRunning(NewswatchError):
    """Another pass holds the lock of this dataset."""


@contextmanager
def pass_lock(store_path: Path) -> Iterator[None]:
    path = store_path.with_name(store_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise PassRunning(
                f"another newswatch pass is running on {store_path} ({holder}); not starting"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {utcnow()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
