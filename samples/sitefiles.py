"""How a sample site's files answer HTTP requests: URL to file name, Content-Type, 304s.

A static file cannot carry a query string, so a request maps to a file name like this:

- ``/a/b?x=1`` -> ``a/b@x=1``: ``?`` becomes ``@``;
- a path ending in ``/`` -> ``index.html`` (or ``index.xml``) inside that folder;
- a query that names no file of its own is ignored (``/a/b?utm_source=rss`` -> ``a/b``), as
  most real servers ignore parameters they do not know.

Absolute URLs in the files are written ``{{base}}`` (``PLACEHOLDER``); the server replaces it
with its own ``http://127.0.0.1:PORT``. ``samples/localserver.py`` serves the files; tests
that build responses without a server use the same functions.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"{{base}}"
INDEX_FILES = ("index.html", "index.xml")

_BY_EXTENSION = {
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
_XML_ROOTS = {b"rss": "application/rss+xml", b"feed": "application/atom+xml"}
_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
_XML_ROOT = re.compile(rb"<(?![?!])([\w:]+)")


def candidate_files(target: str) -> list[str]:
    """The relative file names that may answer ``target``, best first."""
    parts = urlsplit(target)
    path = unquote(parts.path).lstrip("/")
    names = [path + index for index in INDEX_FILES] if path == "" or path.endswith("/") else [path]
    if parts.query:
        return [f"{name}@{parts.query}" for name in names] + names
    return names


def file_for_target(folder: Path, target: str) -> Path | None:
    """The file that answers ``target`` in ``folder``, or None; never a file outside it."""
    root = folder.resolve()
    for name in candidate_files(target):
        path = (root / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


def content_type(name: str, body: bytes) -> str:
    """Content-Type by extension; sniffed for names without one (``rss``, ``spip.php@...``)."""
    suffix = PurePosixPath(name.split("@", 1)[0]).suffix.lower()
    head = body[:2048]
    if suffix in (".html", ".htm") or (suffix not in _BY_EXTENSION and _looks_like_html(head)):
        return f"text/html; charset={_declared(_HTML_CHARSET, head)}"
    if suffix == ".xml" or (suffix not in _BY_EXTENSION and head.lstrip().startswith(b"<")):
        root = _XML_ROOT.search(head)
        kind = _XML_ROOTS.get(root.group(1) if root else b"", "application/xml")
        return f"{kind}; charset={_declared(_XML_ENCODING, head)}"
    return _BY_EXTENSION.get(suffix, "application/octet-stream")


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _declared(pattern: re.Pattern[bytes], head: bytes) -> str:
    found = pattern.search(head)
    return found.group(1).decode("ascii").lower() if found else "utf-8"


def is_text(ctype: str) -> bool:
    return ctype.startswith("text/") or any(k in ctype for k in ("xml", "json", "javascript"))


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: float
) -> bool:
    """Whether a conditional GET may be answered 304; If-None-Match wins, as RFC 9110 says."""
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError):
        return False  # an unreadable date means "send it all", not an error
    return int(mtime) <= since
