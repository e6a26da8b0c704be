"""Alerting per story on a real store and a real Maildir: one item for a story's first
report, one update for its later news (or none, or daily), "also covered by" for an article
below the topic's threshold, copies under their original, nothing twice."""

from __future__ import annotations

import mailbox
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from story_helpers import Labelled, labelled_store, mini_rows

from pipelines.alerts import story_items
from pipelines.channels.email import EmailChannel, MaildirTransport
from pipelines.clock import utcnow
from pipelines.config import Config, parse_config
from pipelines.outbox import SendReport, send_all
from pipelines.stories import assign_new
from pipelines.topics import default_topics

ROWS = mini_rows()
TOPIC = default_topics()[0].name
LATER_REPORT = dict(
    ROWS["m01-a01"],
    id="m01-en",
    lang="en",
    source="reuters.example",
    published="2021-11-25T09:00:00+00:00",
    title="Israel and Morocco sign defence memorandum during Gantz visit to Rabat",
    text=(
        "Israeli Defence Minister Benny Gantz and Abdeltif Loudiyi, the Moroccan minister in"
        " charge of the National Defence Administration, signed a memorandum of"
        " understanding in Rabat on November 24, 2021, covering intelligence sharing, the"
        " defence industry and military training. Gantz also met the inspector general of"
        " the Royal Armed Forces (FAR) during the first official visit of an Israeli defence"
        " minister to Morocco."
    ),
)
BELOW_THRESHOLD = dict(
    ROWS["m01-a02"],
    id="m01-es",
    lang="es",
    source="elpais.example",
    published="2021-11-25T11:00:00+01:00",
    title="Gantz y Loudiyi firman en Rabat un memorando con Israel y Marruecos",
    text=(
        "Benny Gantz y Abdeltif Loudiyi, de la Administración de la Defensa Nacional, firmaron"
        " el 24 de noviembre de 2021 en Rabat un memorando de entendimiento. Gantz se reunió"
        " con el inspector general de las FAR."
    ),
)


def make_config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "nw.toml"
    path.write_text(
        '[store]\npath = "stories.db"\n[alerts]\nto = ["analyst@example.org"]\n'
        'from = "newswatch@example.org"\nmaildir = "mail"\nmax_age_days = 0\n' + extra,
        encoding="utf-8",
    )
    return parse_config(tomllib.loads(path.read_text("utf-8")), path)


@pytest.fixture
def labelled(tmp_path: Path) -> Iterator[Labelled]:
    with labelled_store(tmp_path / "stories.db") as found:
        yield found


def store(labelled: Labelled, row: dict[str, Any], *, relevant: bool = True) -> int:
    """Store a row as a pass would: an original that matched the topic queues its alert."""
    article_id = labelled.add(row)
    if not relevant:
        labelled.store.update_article(article_id, {"relevant": 0, "topics": "[]"})
    elif labelled.store.duplicate_root(article_id) == article_id:
        assert labelled.store.article_state(article_id).topics, row["id"]
        labelled.store.queue_alerts(article_id, [TOPIC], utcnow())
    return article_id


def send(labelled: Labelled, cfg: Config, now: datetime | None = None) -> SendReport:
    channel = EmailChannel(MaildirTransport(cfg.alerts.maildir or Path("mail")))
    return send_all(labelled.store, cfg, [channel], now=now)


def mails(cfg: Config) -> list[str]:
    box = mailbox.Maildir(cfg.alerts.maildir or Path("mail"), create=False)
    found = []
    for message in box:
        text = next(
            (
                p.get_payload(decode=True)
                for p in message.walk()
                if p.get_content_type() == "text/plain"
            ),
            b"",
        )
        assert isinstance(text, bytes)
        found.append(str(message["Subject"]) + "\n" + text.decode("utf-8"))
    return found


def first_report(labelled: Labelled, cfg: Config) -> dict[str, int]:
    ids = {label: store(labelled, ROWS[label]) for label in ("m01-a01", "m01-a02", "m01-a03")}
    ids["m01-a04"] = store(labelled, ROWS["m01-a04"])  # a copy: no alert of its own
    ids["m02-a01"] = store(labelled, ROWS["m02-a01"])  # another story
    return ids


def test_a_storys_first_report_is_one_item_with_its_outlets(
    tmp_path: Path, labelled: Labelled
) -> None:
    cfg = make_config(tmp_path)
    ids = first_report(labelled, cfg)
    assign_new(labelled.store, cfg)
    items = story_items(labelled.store, "email", cfg.topics)
    assert len(items) == 2
    story = next(s for s in items if s.item.article_id == ids["m01-a01"])  # earliest: lead
    item = story.item
    assert (item.kind, item.story_title) == ("alert", ROWS["m01-a01"]["title"])
    assert len(story.alert_ids) == 3
    kinds = {o.article_id: (o.kind, o.copy_of) for o in item.outlets}
    assert kinds == {
        ids["m01-a02"]: ("article", None),
        ids["m01-a03"]: ("article", None),
        ids["m01-a04"]: ("copy", ids["m01-a01"]),
    }
    assert (item.story_articles, item.story_sources) == (4, 4)
    assert item.story_languages == ("ar", "fr", "he")
    report = send(labelled, cfg)
    assert (report.sent, len(report.messages)) == (4, 2)
    texts = mails(cfg)
    assert len(texts) == 2
    assert any("hespress.example" in t and "copie.example" in t for t in texts)
    assert send(labelled, cfg).messages == []  # a re-run sends nothing
    assert len(mails(cfg)) == 2


def test_later_news_is_one_update_with_also_covered_marked(
    tmp_path: Path, labelled: Labelled
) -> None:
    cfg = make_config(tmp_path)
    first_report(labelled, cfg)
    send(labelled, cfg)
    late = store(labelled, LATER_REPORT)
    below = store(labelled, BELOW_THRESHOLD, relevant=False)
    assign_new(labelled.store, cfg)
    (update,) = story_items(labelled.store, "email", cfg.topics)
    assert update.item.kind == "update" and update.item.article_id == late
    assert [(o.article_id, o.kind) for o in update.item.outlets] == [(below, "also-covered")]
    report = send(labelled, cfg)
    assert (report.sent, len(report.messages)) == (2, 1)
    assert len(mails(cfg)) == 3
    assert send(labelled, cfg).messages == []


def test_an_article_below_the_threshold_that_started_the_story_is_also_covered(
    tmp_path: Path, labelled: Labelled
) -> None:
    cfg = make_config(tmp_path)
    early = dict(BELOW_THRESHOLD, published="2021-11-24T17:00:00+01:00")
    below = store(labelled, early, relevant=False)  # published first: it starts the story
    lead = store(labelled, ROWS["m01-a01"])
    assign_new(labelled.store, cfg)
    (story,) = story_items(labelled.store, "email", cfg.topics)
    assert (story.item.kind, story.item.article_id) == ("alert", lead)
    assert [(o.article_id, o.kind) for o in story.item.outlets] == [(below, "also-covered")]


def test_updates_never_folds_later_news_silently(tmp_path: Path, labelled: Labelled) -> None:
    cfg = make_config(tmp_path, '[stories]\nupdates = "never"\n')
    first_report(labelled, cfg)
    send(labelled, cfg)
    late = store(labelled, LATER_REPORT)
    report = send(labelled, cfg)
    assert report.messages == [] and len(mails(cfg)) == 2
    (row,) = [r for r in labelled.store.alert_rows() if r["article_id"] == late]
    assert row["status"] == "sent" and "folded into story" in row["last_error"]


def test_updates_daily_waits_a_day_after_the_last_report(
    tmp_path: Path, labelled: Labelled
) -> None:
    cfg = make_config(tmp_path, '[stories]\nupdates = "daily"\n')
    first_report(labelled, cfg)
    send(labelled, cfg)
    store(labelled, LATER_REPORT)
    assert send(labelled, cfg).messages == []  # reported less than a day ago
    tomorrow = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert len(send(labelled, cfg, now=tomorrow).messages) == 1


def test_a_copy_of_a_seed_never_alerts(tmp_path: Path, labelled: Labelled) -> None:
    cfg = make_config(tmp_path)
    seed = dict(ROWS["m01-a01"], id="seed", source="seed")
    seed_id = labelled.add(seed)
    copy_id = store(labelled, dict(ROWS["m01-a04"], source="site.example"))
    assert labelled.store.duplicate_root(copy_id) == seed_id
    report = send(labelled, cfg)
    assert report.messages == [] and labelled.store.alert_rows() == []
    assert labelled.store.article_story(copy_id) == labelled.store.article_story(seed_id)


def test_a_dry_run_clusters_and_queues_nothing(tmp_path: Path, labelled: Labelled) -> None:
    cfg = make_config(tmp_path)
    first_report(labelled, cfg)
    send(labelled, cfg)
    store(labelled, BELOW_THRESHOLD, relevant=False)
    before = labelled.store.alert_rows()
    report = send_all(labelled.store, cfg, [], dry_run=True)
    assert report.messages == [] and labelled.store.alert_rows() == before
    assert len(send(labelled, cfg).messages) == 1  # the real send queues and sends it
