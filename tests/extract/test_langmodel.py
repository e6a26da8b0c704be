"""py3langid's model from newswatch's uncompressed copy (pipelines/extract/langmodel.py):
the same identifier, written once, and never a reason for a language to go undetected."""

from __future__ import annotations

from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipelines.extract.langmodel import CACHE_ENV, load_identifier

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


def test_the_first_load_writes_the_copy_and_the_next_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = load_identifier()
    copies = list((tmp_path / "cache").glob("py3langid-*.npz"))
    assert len(copies) == 1 and copies[0].stat().st_size > 10_000_000
    assert not list((tmp_path / "cache").glob(".py3langid-*"))  # no temporary file left
    written = copies[0].stat().st_mtime_ns
    second = load_identifier()
    assert copies[0].stat().st_mtime_ns == written  # read, not written again
    _same(first, packaged)
    _same(second, packaged)


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


def test_a_damaged_copy_falls_back_to_the_packaged_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: LanguageIdentifier
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    load_identifier()
    (copy,) = tmp_path.glob("py3langid-*.npz")
    copy.write_bytes(copy.read_bytes()[:1000])  # cut short, as by a full disk
    _same(load_identifier(), packaged)
