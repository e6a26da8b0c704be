"""What only PostgreSQL has: its migrations, the outbox claimed by concurrent senders on
real connections, the advisory pass lock, and its errors (server down, a wrong password, a
missing database) as one line naming the database, never the password.

Every test runs against the session's real server (tests/services/postgres.py)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import run_newswatch

from pipelines.config import Config, parse_config
from pipelines.errors import ExitCode
from pipelines.store import MIGRATIONS, Store, StoreError, open_postgres_store
from pipelines.store.lock import PassRunning, store_pass_lock

if TYPE_CHECKING:
    from services.postgres import PostgresServer

pytest_plugins = ["services.postgres"]  # the session's server, a database per test

NOW = "2026-03-01T07:00:00+00:00"
ROLE = "newswatch"  # the role tests/services/postgres.py makes


def config_for(tmp_path: Path, url: str) -> Config:
    path = tmp_path / "nw.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', "utf-8")
    return parse_config(tomllib.loads(path.read_text("utf-8")), path)


@pytest.fixture
def store(postgres_server: PostgresServer, postgres_url: str) -> Iterator[Store]:
    with open_postgres_store(postgres_url, password=postgres_server.password) as opened:
        yield opened


def queue_alerts(store: Store, count: int) -> list[int]:
    with store.transaction():
        for n in range(count):
            article = store.insert_article(
                {"url": f"https://a.example/{n}", "url_key": f"a.example/{n}", "source": "a",
                 "text": f"text {n}", "fetched_at": NOW, "relevant": True}
            )  # fmt: skip
            store.queue_alerts(article, ["defence"], NOW)
    store.open_deliveries("alert", ["email"])
    return [a.alert_id for a in store.due_alerts("email", None)]


def test_migrations_are_the_same_sequence_and_safe_twice(store: Store) -> None:
    from pipelines.store.pg_schema import PG_MIGRATIONS, PG_VIEWS, migrate_postgres
    from pipelines.store.postgres import PgDatabase

    db = store.db
    assert isinstance(db, PgDatabase)
    applied = {r["name"] for r in db.query("SELECT name FROM _migrations")}
    assert applied == {n for n, _ in MIGRATIONS} == set(PG_MIGRATIONS)
    assert migrate_postgres(db) == []
    with db.transaction():  # each step is safe to apply again by hand
        for name, _ in sorted(MIGRATIONS):
            PG_MIGRATIONS[name](db)
            db.forget_tables()
    tables = store.table_names()
    assert {"articles", "alerts", "runs", "seen_urls", "shingles", "deliveries"} <= tables
    assert set(PG_VIEWS) <= tables
    indexes = {r["indexname"]: r["indexdef"] for r in db.query("SELECT * FROM pg_indexes")}
    assert "USING gin (search)" in indexes["articles_search"]


def test_the_views_read_as_on_sqlite(store: Store) -> None:
    article = store.insert_article(
        {"url": "https://a.example/1", "url_key": "a.example/1", "source": "a", "text": "t",
         "fetched_at": NOW, "published": "2026-02-28", "relevant": 1,
         "topics": '[{"topic": "defence", "score": 2.5}, {"topic": "cyber", "score": 1}]'}
    )  # fmt: skip
    run = store.start_run()
    store.db.execute(
        "UPDATE runs SET sources = ?, started_at = ? WHERE id = ?",
        ['{"a": {"requests": 3, "errors": {"timeout": 2}}}', NOW, run],
    )
    assert [
        (r["id"], r["topic_names"], r["score"])
        for r in store.db.query("SELECT * FROM relevant_articles")
    ] == [(article, "defence, cyber", 2.5)]
    day = NOW[:10]
    assert store.source_activity(day, day) == [
        {"source": "a", "passes": 1, "requests": 3, "errors": 2, "articles": 1,
         "originals": 1, "copies": 0, "relevant": 1}
    ]  # fmt: skip
    assert store.top_relevant("2026-02-01", "2026-03-31", 5)[0]["score"] == 2.5


def test_a_claimed_row_is_skipped_not_waited_for(
    postgres_server: PostgresServer,
    postgres_url: str,
    store: Store,
) -> None:
    (alert,) = queue_alerts(store, 1)
    with open_postgres_store(postgres_url, password=postgres_server.password) as other:
        with store.transaction():  # a sender in the middle of its claim holds the row
            store.db.execute(
                "SELECT id FROM deliveries WHERE item_id = ? FOR UPDATE", [alert]
            ).fetchall()
            started = time.monotonic()
            assert other.claim("alert", [alert], "email", ["x@example.org"], "<m1>") is False
            assert time.monotonic() - started < 5  # not blocked behind the holder
        assert other.claim("alert", [alert], "email", ["x@example.org"], "<m1>") is True
        assert store.claim("alert", [alert], "email", ["x@example.org"], "<m2>") is False
        (row,) = store.alert_rows()
        assert (row["status"], row["attempts"]) == ("sending", 1)


def test_two_senders_at_once_never_claim_one_alert_twice(
    postgres_server: PostgresServer,
    postgres_url: str,
    store: Store,
) -> None:
    ids = queue_alerts(store, 60)
    senders = [
        open_postgres_store(postgres_url, password=postgres_server.password) for _ in range(2)
    ]
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            start.wait(timeout=30)
            for alert in senders[n].due_alerts("email", None):
                if senders[n].claim("alert", [alert.alert_id], "email", [], f"<{n}>"):
                    claimed[n].append(alert.alert_id)
                    senders[n].mark_sent("alert", [alert.alert_id], "email", None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for sender in senders:
        sender.close()
    assert not errors
    assert not set(claimed[0]) & set(claimed[1])  # never both
    assert sorted(claimed[0] + claimed[1]) == sorted(ids)  # and every one once
    assert {r["status"] for r in store.alert_rows()} == {"sent"}
    assert all(r["attempts"] == 1 for r in store.alert_rows())


def test_the_outbox_summary_spans_channels(store: Store) -> None:
    (alert,) = queue_alerts(store, 1)
    store.open_deliveries("alert", ["email", "chat"])
    assert store.claim("alert", [alert], "email", ["a@example.org"], "<m>")
    store.mark_sent("alert", [alert], "email", None)
    assert store.claim("alert", [alert], "chat", ["#room", "a@example.org"], "<c>")
    store.put_back("alert", [alert], "chat", "refused", lambda attempts: "2026-03-02")
    (row,) = store.alert_rows()
    assert (row["status"], row["next_attempt_at"]) == ("pending", "2026-03-02")
    assert row["last_error"] == "chat: refused"
    assert store.deliveries("alert", alert)["email"]["status"] == "sent"
    recipients = store.db.execute("SELECT recipients FROM alerts").fetchone()[0]
    assert sorted(__import__("json").loads(recipients)) == ["#room", "a@example.org"]


def test_the_advisory_pass_lock_refuses_a_second_pass(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSWATCH_STORE_PASSWORD", postgres_server.password)
    config = config_for(tmp_path, postgres_url)
    name = postgres_url.rsplit("/", 1)[1]
    refused = pytest.raises(
        PassRunning,
        match=rf"another newswatch pass is running on postgresql://{ROLE}@127\.0\.0\.1:"
        rf"{postgres_server.port}/{name} \(pid {os.getpid()} on ",
    )
    with store_pass_lock(config), refused, store_pass_lock(config):
        pass
    with store_pass_lock(config):  # released when the holder is done
        pass
    assert not (tmp_path / "nw.db.lock").exists()  # no lock file for a PostgreSQL dataset


def test_a_killed_pass_leaves_no_lock_behind(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSWATCH_STORE_PASSWORD", postgres_server.password)
    config = config_for(tmp_path, postgres_url)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, tomllib; from pathlib import Path;"
         " from pipelines.config import parse_config;"
         " from pipelines.store.lock import store_pass_lock;"
         f" p = Path({str(config.path)!r});"
         " c = parse_config(tomllib.loads(p.read_text()), p);"
         " lock = store_pass_lock(c); lock.__enter__(); print('held', flush=True);"
         " sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(PassRunning), store_pass_lock(config):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30  # the server ends the dead client's session
        while True:
            try:
                with store_pass_lock(config):
                    break
            except PassRunning:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
        assert holder.stdin is not None
        holder.stdin.close()


@pytest.mark.crawl
@pytest.mark.parametrize("fault", ["wrong password", "server down", "no such database"])
def test_server_faults_are_one_line_naming_the_database_never_the_password(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = postgres_server.password
    url = postgres_url
    env = {"NEWSWATCH_STORE_PASSWORD": secret}
    if fault == "wrong password":
        env["NEWSWATCH_STORE_PASSWORD"] = secret = "Wr0ng-" + secret[::-1]
    elif fault == "server down":
        with __import__("socket").socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = url.replace(f":{postgres_server.port}/", f":{port}/")
    else:
        url = url.rsplit("/", 1)[0] + "/absent_db"
    config = config_for(tmp_path, url).path
    result = run_newswatch("init", config=config, env=env)
    assert result.code == ExitCode.STORE, result.err
    lines = [line for line in (result.out + result.err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    database = url.removeprefix("postgresql://")
    assert lines[0].startswith(f"newswatch: database error: postgresql://{database}: ")
    expected = {
        "wrong password": f'password authentication failed for user "{ROLE}"',
        "server down": "connection refused",
        "no such database": 'database "absent_db" does not exist',
    }[fault]
    assert expected in lines[0]
    assert secret not in result.out + result.err
    assert "Traceback" not in result.err
    # In-process as well: the error and the logs never hold the password.
    with caplog.at_level(logging.DEBUG), pytest.raises(StoreError) as raised:
        open_postgres_store(url, password=secret)
    assert str(raised.value) == lines[0].removeprefix("newswatch: database error: ")
    assert secret not in str(raised.value) and secret not in caplog.text


def test_doctor_checks_the_postgresql_dataset_and_names_it_without_the_password(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crawler.doctor import check_database

    config = config_for(tmp_path, postgres_url)
    with open_postgres_store(postgres_url, password=postgres_server.password):
        pass  # migrated
    monkeypatch.setenv("NEWSWATCH_STORE_PASSWORD", postgres_server.password)
    check = check_database(config)
    assert check.ok, check.detail
    assert f"{len(MIGRATIONS)} migrations applied, writable" in check.detail
    monkeypatch.setenv("NEWSWATCH_STORE_PASSWORD", "not-the-password-4711")
    check = check_database(config)
    assert not check.ok
    assert check.detail.startswith("postgresql://")
    assert "not-the-password-4711" not in check.detail and "\n" not in check.detail
