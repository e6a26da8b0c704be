from __future__ import annotations

from pathlib import Path

import pytest
from imports import imported_along

from pipelines import defaults
from pipelines.config import load_config, resolve_config_path
from pipelines.errors import ConfigError
from pipelines.schedule import cron_trigger

GOOD = """
[store]
path = "data/nw.db"
[alerts]
to = ["a@example.org"]
from = "nw@example.org"
mode = "digest"
max_age_days = 7
maildir = "mail"
[[sources]]
name = "site"
lang = "fr"
feeds = ["https://example.org/feed"]
article_pattern = ',\\d+\\.html$'
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "newswatch.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.store_path == tmp_path.resolve() / "data" / "nw.db"
    assert cfg.alerts.maildir == tmp_path.resolve() / "mail"
    assert cfg.alerts.mode == "digest" and cfg.alerts.max_age_days == 7
    assert cfg.sources[0].feeds == ("https://example.org/feed",)


def test_without_topics_the_default_topic_is_used(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert len(cfg.topics) >= 1


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('mode = "digest"', 'mode = "weekly"'), "alerts.mode"),
        (("max_age_days = 7", 'max_age_days = "7"'), "alerts.max_age_days"),
        (('to = ["a@example.org"]', 'to = ["not an address"]'), "alerts.to[0]"),
        (
            ('feeds = ["https://example.org/feed"]', 'feeds = ["ftp://example.org/feed"]'),
            "sources[0] (site).feeds[0]",
        ),
        (
            ("article_pattern = ',\\d+\\.html$'", "article_pattern = '([a-z'"),
            "sources[0] (site).article_pattern",
        ),
        (('lang = "fr"', 'lang = "french"'), "sources[0] (site).lang"),
        (("[store]", "[stor]"), "stor"),
        (('name = "site"', 'name = "site"\nfolow_depth = 2'), "sources[0] (site).folow_depth"),
        (("[store]", "[dedup]\nthreshold = 1.5\n[store]"), "dedup.threshold"),
        (("[store]", "[dedup]\nmin_shingles = 0\n[store]"), "dedup.min_shingles"),
        (("[store]", '[dedup]\nthreshold = "high"\n[store]'), "dedup.threshold"),
        (("[store]", "[dedup]\nthresold = 0.5\n[store]"), "dedup.thresold"),
    ],
)
def test_bad_values_name_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key
    assert str(path) in str(err.value) and key in str(err.value)


ADDRESS_KEYS = {
    "alerts.to[0]": ('to = ["a@example.org"]', 'to = ["{}"]'),
    "alerts.from": ('from = "nw@example.org"', 'from = "{}"'),
    "health.operator[0]": ("[[sources]]", '[health]\noperator = ["{}"]\n[[sources]]'),
    "topics[0].recipients[0]": (
        "[store]",
        '[[topics]]\nname = "desk"\nrecipients = ["{}"]\n[store]',
    ),
}


@pytest.mark.parametrize("key", ADDRESS_KEYS)
@pytest.mark.parametrize(
    "address", ["newswatch@", "@example.org", "a@example.org, b@example.org", "Ops <ops@>"]
)
def test_every_address_is_checked_at_load_and_names_its_key(
    tmp_path: Path, key: str, address: str
) -> None:
    old, new = ADDRESS_KEYS[key]
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(old, new.format(address))))
    assert err.value.key == key
    assert repr(address) in str(err.value)


@pytest.mark.parametrize("key", ADDRESS_KEYS)
def test_every_address_may_have_a_display_name(tmp_path: Path, key: str) -> None:
    old, new = ADDRESS_KEYS[key]
    load_config(write(tmp_path, GOOD.replace(old, new.format("Desk <desk@example.org>"))))


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[store\npath="))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_source_needs_somewhere_to_start(tmp_path: Path) -> None:
    text = GOOD.replace('feeds = ["https://example.org/feed"]', "")
    with pytest.raises(ConfigError, match="needs at least one of feeds, sitemaps, start_urls"):
        load_config(write(tmp_path, text))


def test_config_path_precedence() -> None:
    assert resolve_config_path("a.toml", {"NEWSWATCH_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, {"NEWSWATCH_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, {}) == Path("newswatch.toml")


def test_shipped_config_is_valid() -> None:
    cfg = load_config(Path(__file__).parent.parent / "newswatch.toml")
    names = {s.name for s in cfg.sources}
    assert {"bladi_net", "bladna_nl", "trendsnafrica", "toi_fr"} <= names


def test_loading_a_config_imports_no_sending_or_extraction_code() -> None:
    """Checking newswatch.toml must not depend on how mail is sent or pages are read; a
    config without [schedule] does not pay for APScheduler's cron parser either."""
    watched = ["pipelines.mail", "pipelines.channels", "pipelines.outbox", "pipelines.extract",
               "smtplib", "scrapy", "trafilatura", "apscheduler"]  # fmt: skip
    assert imported_along(["pipelines.config"], watched) == []


def test_the_default_schedule_is_a_valid_cron_line() -> None:
    """parse_config checks [schedule] only when a config sets it: the defaults must hold."""
    trigger = cron_trigger(defaults.SCHEDULE_CRON, defaults.SCHEDULE_TIMEZONE)
    assert str(trigger.timezone) == defaults.SCHEDULE_TIMEZONE


def test_dedup_rules_come_from_the_config(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).dedup.threshold == defaults.DEDUP_THRESHOLD
    text = "[dedup]\nthreshold = 0.75\nmax_document_frequency = 80\n" + GOOD
    rules = load_config(write(tmp_path, text)).dedup
    assert (rules.threshold, rules.max_document_frequency) == (0.75, 80)
    assert rules.min_shingles == defaults.DEDUP_MIN_SHINGLES


def test_jobs_per_source_needs_a_shared_frontier(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).cluster.jobs_per_source == 1
    redis = 'redis_url = "redis://127.0.0.1:6379/0"\n'
    cluster = load_config(write(tmp_path, f"{GOOD}[cluster]\n{redis}jobs_per_source = 3\n"))
    assert cluster.cluster.jobs_per_source == 3
    for text, problem in (
        ("jobs_per_source = 0\n", "must be more than 0, not 0"),
        ('jobs_per_source = "2"\n', ""),
        ("jobs_per_source = 2\n", "is 2 without cluster.redis_url: the jobs of a source"),
    ):
        path = write(tmp_path, f"{GOOD}[cluster]\n{text}")
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert err.value.key == "cluster.jobs_per_source"
        assert problem in str(err.value) and "\n" not in str(err.value)
