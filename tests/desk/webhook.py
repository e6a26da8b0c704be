"""A webhook receiver on 127.0.0.1 for Apprise's ``json://`` URLs: records each POST, can
answer an error, and can hold one POST (received, not yet answered) until released."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Webhook:
    def __init__(self, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.hold_at: int | None = None  # the POST (1-based) to hold until released
        self.reached = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.append(body)
                if hook.hold_at == len(hook.received):
                    hook.reached.set()
                    hook.release.wait(timeout=120)
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"json://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def messages(self) -> list[str]:
        return [str(r.get("message", "")) for r in self.received]
