"""Where the extraction workers come from: a ``forkserver`` with newswatch's extraction
modules imported once (pipelines/pool.py), and how to start it early.

Importing those modules takes the forkserver about a second, and a pass cannot extract a
page before its first worker is ready. `prestart` launches the forkserver at the start of
a command that will crawl, so that it imports them on the other core while the crawling
process imports and sets up Scrapy; the pool then forks its workers from a server that is
already warm. Light by design: this module imports nothing of newswatch's extraction.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing import forkserver
from types import ModuleType

log = logging.getLogger(__name__)

START_METHOD = "forkserver"
# Imported by the forkserver before it forks any worker (shared copy-on-write): the pool's
# worker side and the warm-up, with the garbage collector off meanwhile (see the module).
PRELOAD = ("pipelines.preload",)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def main_script_imports() -> list[str]:
    """The modules the main script imported, when it runs as a script (``newswatch`` or
    ``scrapy``, console entry points): multiprocessing runs that script again in each
    worker before its first task, and its imports, done once in the forkserver, are then
    shared by the workers instead of repeated in each (the CLI and Scrapy: ~20 MB a worker).
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return []  # ``python -m ...``: multiprocessing does not run it again
    names = set()
    for value in vars(main).values():
        if isinstance(value, ModuleType):
            names.add(value.__name__)
        elif isinstance(module := getattr(value, "__module__", None), str):
            names.add(module)
    return sorted(names - {"__main__", "builtins"})


def set_preload() -> None:
    """What the forkserver imports when it starts (before it forks a worker); and, once
    per process, that it is stopped when this process exits."""
    context = multiprocessing.get_context(START_METHOD)
    context.set_forkserver_preload([*main_script_imports(), *PRELOAD])
    global _stop_registered_by
    if _stop_registered_by != os.getpid():
        atexit.register(stop_forkserver)
        _stop_registered_by = os.getpid()


_stop_registered_by: int | None = None  # the process whose exit stops the forkserver


def stop_forkserver() -> None:
    """End this process's forkserver now, if it started one (at exit).

    Left alone, it notices only once this process has exited, and then tears its own
    interpreter down (every extraction module it imported): about a tenth of a second in
    which it still holds this process's standard output and error, so whoever reads them
    through a pipe (cron, a wrapper script) waits that long for the end of the output. It
    holds nothing to save: the workers it forked have stopped with their pool, and a
    worker still running is abandoned as the pool's ``close`` abandons it.
    """
    if os.getpid() != _stop_registered_by:
        return  # a process forked from this one, exiting: the server is not its own
    server = forkserver._forkserver  # multiprocessing's own, started by ensure_running()
    pid = getattr(server, "_forkserver_pid", None)
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # it sets no handler for it: the default ends it
    stop = getattr(server, "_stop", None)  # closes its pipe, reaps it, forgets it
    if stop is not None:
        with contextlib.suppress(ChildProcessError, OSError):
            stop()


def prestart(workers: int | None) -> None:
    """Launch the forkserver now, without waiting for it, when a pool of ``workers``
    (None: one per core) will be wanted. Any failure is left to the pool's own start,
    which then says why and processes pages inline."""
    if (default_workers() if workers is None else workers) <= 1:
        return
    try:
        set_preload()
        forkserver.ensure_running()
    except Exception as exc:  # noqa: BLE001 - the pool's start reports it in full
        log.debug("forkserver not started early: %s", exc)
