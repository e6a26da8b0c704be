"""Reading a test pass's dataset, wherever its config puts it: the SQLite file beside the
config, or the PostgreSQL database of its ``[store] url``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def query_dataset(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows of ``sql`` (written for SQLite, ``?`` parameters) over the dataset of ``config``
    (a newswatch.toml whose SQLite file is ``newswatch.db`` beside it, or ``[store] url``)."""
    from services.postgres import query_postgres, store_url_of

    url = store_url_of(config)
    if url is not None:  # the dataset is in PostgreSQL
        return query_postgres(url, sql, params)  # type: ignore[return-value]
    conn = sqlite3.connect(config.parent / "newswatch.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
