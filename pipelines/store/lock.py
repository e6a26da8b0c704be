"""One pass at a time per dataset: a cron pass and a scheduled pass must not overlap.

The lock is an ``flock`` on ``<database>.lock``: the kernel drops it when its process dies,
however it dies, so a dead holder can never block the next pass. The file records who
holds it (pid, host, start time): a refused pass names the holder, and a pass that finds
the record of a holder that never let go (it was killed) reports that stale lock and takes
it over. A pass that ends, even with an error, empties the file.

On PostgreSQL (``[store] url``) the lock is a session-level advisory lock on the database
instead (``pipelines/store/postgres.py``): the server drops it when the pass's session ends.
:func:`store_pass_lock` takes the one a config names.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.clock import utcnow
from pipelines.errors import PassRunning as PassRunning  # defined there, raised from here

if TYPE_CHECKING:
    from pipelines.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    """Who wrote the lock file: ``pid 123 on host since 2026-01-01T00:00:00+00:00``."""

    pid: int
    host: str
    since: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.since}"

    def alive(self) -> bool:
        """Whether the holder still runs (only knowable on this host; elsewhere: assume so)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        return True


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


def read_holder(text: str) -> Holder | None:
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    try:
        return Holder(int(fields["pid"]), fields.get("host", "?"), fields.get("since", "?"))
    except (KeyError, ValueError):
        return None


@contextmanager
def store_pass_lock(config: Config) -> Iterator[None]:
    """The pass lock of the dataset ``config`` names: an advisory lock on PostgreSQL, else
    the lock file beside the SQLite file."""
    if config.store_url:
        from pipelines.store.postgres import advisory_pass_lock

        with advisory_pass_lock(config.store_url, _named_refusal):
            yield
    else:
        with pass_lock(config.store_path):
            yield


def _named_refusal(database: str, who: str) -> str:
    return f"another newswatch pass is running on {database} ({who}); not starting"


@contextmanager
def pass_lock(store_path: Path) -> Iterator[None]:
    path = lock_path(store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        recorded = read_holder(os.pread(fd, 400, 0).decode("utf-8", "replace"))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PassRunning(_refusal(store_path, recorded)) from None
        if recorded is not None and recorded.pid != os.getpid():
            log.warning(
                "stale lock %s: %s did not finish (killed?); taking it over", path, recorded
            )
        record = f"pid={os.getpid()}\nhost={socket.gethostname()}\nsince={utcnow()}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a pass that ends, even with an error, leaves no record
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _refusal(store_path: Path, holder: Holder | None) -> str:
    if holder is None:
        who = "a process that left no record"
    elif holder.alive():
        who = str(holder)
    else:
        # The holder is gone but a process it started still has the lock file open.
        who = f"a child of {holder}, which is no longer running"
    return f"another newswatch pass is running on {store_path} ({who}); not starting"
