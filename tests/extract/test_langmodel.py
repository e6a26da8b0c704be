"""py3langid's model from newswatch's uncompressed copy (pipelines/extract/langmodel.py):
the same identifier, written once, its large tables mapped rather than read, and never a
reason for a language to go undetected."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from extract_pages import REAL_PAGES
from lxml import html
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from pipelines.extract.langmodel import (
    ARRAYS,
    CACHE_ENV,
    MAPPED,
    _write_copy,
    load_identifier,
    unmap_pages,
)

TEXTS = [
    "La coopération militaire entre le Maroc et Israël se renforce avec un accord signé à Rabat.",
    "De minister van Defensie bezocht de basis en sprak over nieuwe afspraken met de partners.",
    "The two defence ministries signed a memorandum on intelligence and industrial cooperation.",
    "وقع البلدان مذكرة تفاهم للتعاون في مجال الدفاع والاستخبارات والصناعة العسكرية.",
    "שני משרדי הביטחון חתמו על מזכר הבנות לשיתוף פעולה במודיעין ובתעשייה.",
    "El acuerdo de defensa prevé ejercicios conjuntos y la transferencia de tecnología.",
]


@pytest.fixture(scope="module")
def packaged() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _same(one: LanguageIdentifier, other: LanguageIdentifier) -> None:
    for text in TEXTS:
        assert one.classify(text) == other.classify(text)


def _copy(cache: Path) -> Path:
    (folder,) = cache.glob("py3langid-*")
    return folder


def _stamps(folder: Path) -> dict[str, int]:
    """Each array file of a copy and when it was last written."""
    return {f.name: f.stat().st_mtime_ns for f in folder.glob("*.npy")}


@pytest.fixture
def written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of a copy a first load wrote (the cache: ``tmp_path``)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    load_identifier()
    return _copy(tmp_path)


def test_the_first_load_writes_the_copy_and_the_next_maps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = load_identifier()
    folder = _copy(tmp_path / "cache")
    files = sorted(folder.glob("*.npy"))
    assert len(files) == len(ARRAYS) and sum(f.stat().st_size for f in files) > 60_000_000
    assert not list((tmp_path / "cache").glob(".py3langid-*"))  # no temporary folder left
    stamps = _stamps(folder)
    second = load_identifier()
    assert _stamps(folder) == stamps  # read, not written again
    # The two large tables are mapped from the copy, not read into this process.
    for identifier in (first, second):
        assert isinstance(identifier.nb_ptc, np.memmap)
        assert isinstance(identifier.tk_nextmove, memoryview)
        assert identifier.tk_nextmove.readonly
    _same(first, packaged)
    _same(second, packaged)


def test_every_real_page_gets_the_packaged_model_s_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    mapped = load_identifier()
    pages = sorted(REAL_PAGES.glob("*.html.gz"))
    assert len(pages) > 50
    for page in pages:
        text = " ".join(html.fromstring(gzip.decompress(page.read_bytes())).itertext())
        assert mapped.classify(text[:3000]) == packaged.classify(text[:3000]), page.name


def resident_model_bytes(identifier: LanguageIdentifier) -> int:
    """Bytes of ``identifier``'s mapped tables in this process's resident set."""
    starts = {
        np.frombuffer(table._mmap, dtype=np.uint8).ctypes.data
        for table in (identifier.nb_ptc, identifier.tk_nextmove.obj)
    }
    total, table = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(" ", 1)[0]
        if "-" in head and ":" not in head:  # a mapping's first line: its range, its file
            low, high = (int(end, 16) for end in head.split("-"))
            table = any(low <= start < high for start in starts)
        elif table and head == "Rss:":
            total += int(line.split()[1]) * 1024
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_unmapped_pages_leave_the_resident_set_and_the_answers_unchanged(
    written: Path, packaged: LanguageIdentifier
) -> None:
    mapped = load_identifier()
    _same(mapped, packaged)  # reads pages of both tables
    assert resident_model_bytes(mapped) > 1_000_000
    unmap_pages(mapped)
    assert resident_model_bytes(mapped) == 0
    _same(mapped, packaged)  # read again from the page cache
    assert resident_model_bytes(mapped) > 1_000_000


def test_unmapping_a_model_read_whole_does_nothing(packaged: LanguageIdentifier) -> None:
    unmap_pages(packaged)
    _same(packaged, LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))


def test_a_copy_written_twice_at_once_is_kept_once(tmp_path: Path) -> None:
    packaged = Path(MODEL_DIR) / MODEL_FILE
    target = tmp_path / "py3langid-copy"
    _write_copy(packaged, target)
    _write_copy(packaged, target)  # the other process's rename finds the folder there
    assert [p.name for p in tmp_path.iterdir()] == ["py3langid-copy"]


def test_the_single_archive_an_earlier_version_wrote_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    old = tmp_path / "py3langid-0.3.0-4586720.npz"
    old.write_bytes(b"an earlier copy")
    load_identifier()
    assert not old.exists()
    assert _copy(tmp_path).is_dir()


def test_off_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    _same(load_identifier(), packaged)
    assert list(tmp_path.rglob("*")) == []


def test_a_folder_that_cannot_be_made_falls_back_to_the_packaged_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    _same(load_identifier(), packaged)


@pytest.mark.parametrize("name", [*MAPPED, "out_feat"])
def test_a_damaged_copy_falls_back_to_the_packaged_model(
    tmp_path: Path, written: Path, packaged: LanguageIdentifier, name: str
) -> None:
    array = written / f"{name}.npy"
    array.write_bytes(array.read_bytes()[:1000])  # cut short, as by a full disk
    _same(load_identifier(), packaged)
    assert not list(tmp_path.iterdir())  # the damaged copy is gone ...
    healed = load_identifier()  # ... and written again whole by the next load
    assert isinstance(healed.nb_ptc, np.memmap)
    assert (_copy(tmp_path) / f"{name}.npy").stat().st_size > 1000
    _same(healed, packaged)


def test_a_system_without_read_ahead_maps_the_same_model(
    written: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    asked: list[int] = []
    monkeypatch.setattr("os.posix_fadvise", lambda fd, offset, length, advice: asked.append(advice))
    mapped = load_identifier()
    assert len(asked) == len(MAPPED)  # each mapped table is read ahead where the system can
    monkeypatch.delattr("os.posix_fadvise")
    without = load_identifier()
    assert isinstance(without.nb_ptc, np.memmap)
    _same(mapped, packaged)
    _same(without, packaged)


def test_a_copy_that_cannot_be_mapped_is_kept_and_the_packaged_model_used(
    written: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    stamps = _stamps(written)
    real_load = np.load

    def no_mapping(*args: object, **kwargs: object) -> object:
        if kwargs.get("mmap_mode"):
            raise OSError("mmap: operation not supported")  # as on some network file systems
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(np, "load", no_mapping)
    fallen_back = load_identifier()
    assert not isinstance(fallen_back.nb_ptc, np.memmap)
    _same(fallen_back, packaged)
    # Neither removed nor written again: the next load would only meet the same error.
    assert _stamps(written) == stamps
