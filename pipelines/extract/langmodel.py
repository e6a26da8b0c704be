"""py3langid's language model, loaded from an uncompressed copy in newswatch's cache.

py3langid ships its model as an xz-compressed NumPy archive: decompressing it costs ~0.4 s
of CPU in every process that loads it (the extraction pool's forkserver, or a command that
extracts inline), a share of a short pass. The first load writes the decompressed archive
(~70 MB) to the cache folder, named by py3langid's version and the size of its model file;
every later load reads that copy (~0.05 s).

The cache folder is ``$NEWSWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/newswatch``, else
``~/.cache/newswatch``; ``NEWSWATCH_CACHE_DIR=off`` turns the copy off. A folder that
cannot be written (read-only, full) or a copy that cannot be read is passed over in
silence: the model is then read from py3langid's own file, as without a cache.
"""

from __future__ import annotations

import logging
import lzma
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

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
            if not cached.exists():
                _write_copy(packaged, cached)
            return _from_archive(cached)
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
    folder = cache_dir()
    if folder is None:
        return None
    try:
        size = packaged.stat().st_size
    except OSError:
        return None
    return folder / f"py3langid-{version('py3langid')}-{size}.npz"


def _write_copy(packaged: Path, cached: Path) -> None:
    """The decompressed archive, written whole under a temporary name, then renamed: a
    process that reads it never sees half a file, and two that write it at once are fine."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=cached.parent, prefix=".py3langid-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out, lzma.open(packaged) as source:
            shutil.copyfileobj(source, out, length=1 << 20)
        os.replace(name, cached)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _from_archive(path: Path) -> LanguageIdentifier:
    """py3langid's own loading (``modelio.load_model``, ``from_model_file``) of the
    decompressed archive (a py3langid that loads otherwise fails here, and its own file is
    read instead)."""
    from py3langid.modelio import _to_array

    with open(path, "rb") as file, np.load(file, allow_pickle=False) as data:
        ptc, pc = np.asarray(data["ptc"]), np.asarray(data["pc"])
        classes = data["classes"].tolist()
        nextmove, row = _to_array(data["nextmove"]), _to_array(data["nextmove_row"])
        output = data["out_feat"].tolist()
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)
