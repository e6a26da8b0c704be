"""``python -m samples.serve ROOT NAME...``: serve sample sites from a child process
until SIGTERM or SIGINT (samples/localserver.py does the serving)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from samples.localserver import RequestRecord, serve_sites


def _json_lines(stream: IO[str]) -> Callable[[str, RequestRecord], None]:
    """A request logger for child-process mode, where tests cannot read memory."""

    def write(site: str, entry: RequestRecord) -> None:
        stream.write(json.dumps({"site": site, **entry._asdict()}) + "\n")
        stream.flush()

    return write


def main(argv: list[str] | None = None) -> int:
    """Serve sites until SIGTERM or SIGINT, after printing one ``NAME URL`` line per site."""
    parser = argparse.ArgumentParser(
        prog="python -m samples.serve",
        description="Serve sample sites on 127.0.0.1. Example: "
        "python -m samples.serve samples/sites bladi bladna trends",
    )
    parser.add_argument("root", type=Path, help="folder holding one sub-folder per site")
    parser.add_argument("names", nargs="+", help="site folder names to serve")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait per answer")
    parser.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    args = parser.parse_args(argv)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    with ExitStack() as stack:
        log = stack.enter_context(args.log.open("a", encoding="utf-8")) if args.log else None
        on_request = _json_lines(log) if log else None
        servers = stack.enter_context(
            serve_sites(args.root, args.names, delay=args.delay, on_request=on_request)
        )
        for name, url in servers.items():
            print(name, url, flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
