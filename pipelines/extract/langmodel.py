"""py3langid's language model, mapped from an uncompressed copy in newswatch's cache.

py3langid ships its model as an xz-compressed NumPy archive: decompressing it costs ~0.4 s
of CPU in every process that loads it (the extraction pool's forkserver, or a command that
extracts inline), a share of a short pass. The first load writes the model's arrays
uncompressed (~70 MB, one ``.npy`` file each) to a folder of the cache, named by
py3langid's version and the size of its model file; every later load maps the two large
tables (the tokenizer's state machine and the per-language feature weights) from those
files instead of reading them (~10 ms, against ~0.1 s to read them whole): the operating
system reads the parts a text reaches, and every process that maps them (the pool's
workers, other passes) shares one copy in the page cache.

The cache folder is ``$NEWSWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/newswatch``, else
``~/.cache/newswatch``; ``NEWSWATCH_CACHE_DIR=off`` turns the copy off. A folder that
cannot be written (read-only, full) or a copy that cannot be read is passed over in
silence: the model is then read from py3langid's own file, as without a cache, and a
damaged copy is removed, to be written again by the next load. A copy is
written under a temporary name and renamed when whole, and never changed after: a process
that maps it never sees it change under it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import lzma
import mmap
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

log = logging.getLogger(__name__)

CACHE_ENV = "NEWSWATCH_CACHE_DIR"


def load_identifier() -> LanguageIdentifier:
    """py3langid's identifier with normalised probabilities, from the cached copy when
    there is one (written now if there is none)."""
    packaged = Path(MODEL_DIR) / MODEL_FILE
    cached = cached_model_path(packaged)
    if cached is not None:
        try:
            if not cached.is_dir():
                _write_copy(packaged, cached)
            return _from_copy(cached)
        except (ValueError, EOFError) as exc:  # a copy cut short or damaged: gone
            log.debug("language model cache %s not used: %s", cached, exc)
            # Removed, to be written again by the next load (a process that maps it keeps
            # its mapping). Not on an OSError: a folder that cannot be written, or a file
            # system that cannot map files, would have the copy written on every load.
            shutil.rmtree(cached, ignore_errors=True)
        except Exception as exc:  # noqa: BLE001 - any trouble: py3langid's own file
            log.debug("language model cache %s not used: %s", cached, exc)
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def cache_dir() -> Path | None:
    """Where newswatch keeps what it may rebuild at any time (None: nowhere)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newswatch"


def cached_model_path(packaged: Path) -> Path | None:
    """The folder of the model's arrays in the cache (None: no cache)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        size = packaged.stat().st_size
    except OSError:
        return None
    return folder / f"py3langid-{version('py3langid')}-{size}"


# The arrays of py3langid's archive; the first two are mapped, not read.
MAPPED = ("ptc", "nextmove")
ARRAYS = (*MAPPED, "pc", "classes", "nextmove_row", "out_feat")


def _write_copy(packaged: Path, cached: Path) -> None:
    """Each array as its own ``.npy`` file, written in a temporary folder that is then
    renamed: a process that maps the copy never sees half of it, and when two write it at
    once the first rename wins and the other's folder is removed."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=cached.parent, prefix=".py3langid-", suffix=".tmp"))
    try:
        with lzma.open(packaged) as source:
            archive = io.BytesIO(source.read())
        with np.load(archive, allow_pickle=False) as data:
            for name in ARRAYS:
                np.save(building / f"{name}.npy", data[name], allow_pickle=False)
        try:
            building.rename(cached)
        except OSError:
            if not cached.is_dir():
                raise
            shutil.rmtree(building)  # another process wrote it first
        _forget_archives(cached.parent)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _forget_archives(folder: Path) -> None:
    """Remove the single-archive copies earlier versions of newswatch wrote (~70 MB each)."""
    for old in folder.glob("py3langid-*.npz"):
        old.unlink(missing_ok=True)


def _from_copy(folder: Path) -> LanguageIdentifier:
    """py3langid's own loading (``modelio.load_model``, ``from_model_file``) of the copy,
    its two large tables mapped read-only (a copy cut short fails here, and py3langid's own
    file is read instead)."""
    from py3langid.modelio import _to_array

    def array(name: str) -> Any:  # np.load: an ndarray, or its read-only map
        path = folder / f"{name}.npy"
        if name not in MAPPED:
            return np.load(path, allow_pickle=False)
        _read_ahead(path)
        return np.load(path, mmap_mode="r", allow_pickle=False)

    ptc = array("ptc")
    # The tokenizer indexes its state machine one byte at a time, as it would the
    # array.array py3langid builds: a memoryview of the mapped file answers the same.
    nextmove = memoryview(array("nextmove"))
    pc = array("pc")
    classes = array("classes").tolist()
    row = _to_array(array("nextmove_row"))
    output = array("out_feat").tolist()
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


def unmap_pages(identifier: LanguageIdentifier) -> None:
    """Take the mapped tables' pages out of this process's memory map.

    The pages stay in the page cache, and a later read maps them again from there. The
    forkserver does this once its warm-up has read them: it classifies no text after
    that, and a worker it forks inherits the mapping but none of its pages (a fork does
    not copy the page tables of a shared file mapping) and maps those it reads itself. So
    the ~20 MB the warm-up reached were counted in the idle server's resident memory for
    nothing. Nothing to do for a model read rather than mapped.
    """
    for table in (identifier.nb_ptc, getattr(identifier.tk_nextmove, "obj", None)):
        mapped = getattr(table, "_mmap", None)  # numpy's memmap keeps its mmap there
        if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            # Shared and read-only: dropping the pages loses nothing.
            with contextlib.suppress(OSError):
                mapped.madvise(mmap.MADV_DONTNEED)


def _read_ahead(path: Path) -> None:
    """Ask the system to read a mapped file into its page cache now, in the background
    (after a reboot, the first texts would otherwise wait on the disk for each part of the
    tables they reach). Free when the file is cached already."""
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)
