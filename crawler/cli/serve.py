"""``newswatch serve``: the dataset in Datasette, with newswatch's metadata and queries."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click

from crawler.cli.common import State, fail_cleanly, open_existing_store, pass_state
from pipelines.errors import UsageError

INSTALL_HINT = "datasette is not installed: pip install 'newswatch[serve]'"


@click.command()
@click.option(
    "--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--write-metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Datasette metadata (JSON) here and exit, for `datasette -m`.",
)
@pass_state
@fail_cleanly
def serve(state: State, port: int, write_metadata: Path | None) -> None:
    """Browse the dataset in Datasette on 127.0.0.1, until Ctrl-C.

    Internal tables are hidden; articles are described column by column and sorted newest
    first; the views relevant_articles, copies and source_activity and the canned queries
    (new relevant items this week, copies of the seed corpus, a source's last passes,
    stories) are on the database page. Needs the optional extra:
    pip install 'newswatch[serve]'.

    \b
    Example:
        newswatch --config newswatch.toml serve --port 8001
        newswatch serve --write-metadata metadata.json
    """
    from pipelines.datasette import build_metadata

    if state.config.store_url:
        raise UsageError(
            "newswatch serve runs Datasette on the SQLite file; this dataset is in PostgreSQL"
            " ([store] url): read it with a PostgreSQL client"
        )
    with open_existing_store(state) as store:  # migrated: the views exist
        tables = store.table_names()
    path = state.config.store_path
    metadata = build_metadata(path.stem, tables)
    if write_metadata is not None:
        write_metadata.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"metadata written to {write_metadata}: datasette {path} -m {write_metadata}")
        return
    try:
        import uvicorn
        from datasette.app import Datasette
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    _check_port(port)
    _quiet_tracebacks()
    datasette = Datasette([str(path)], metadata=metadata)
    click.echo(f"serving {path} at http://127.0.0.1:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(datasette.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on")


def _check_port(port: int) -> None:
    """One clear line when the port is taken, rather than the server's traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UsageError(
                f"port {port} on 127.0.0.1 is in use ({exc.strerror}): --port N"
            ) from None


def _quiet_tracebacks() -> None:
    """Datasette prints a full traceback (with locals) for every 404 when rich is
    installed, as newswatch has it; the page says what is wrong already."""
    try:
        from datasette import handle_exception
    except ImportError:  # pragma: no cover - another datasette layout
        return
    if hasattr(handle_exception, "rich"):
        handle_exception.rich = None
