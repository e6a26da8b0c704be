"""One article to explain with ``newswatch topics test``: from a file or a URL.

A saved page goes through the same extraction as a crawled one, so what is explained is
what a pass would have judged. A URL is fetched once with the standard library: one page
does not need a crawler, and no robots.txt, feed or link is followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.errors import NewswatchError
from pipelines.extract import extract_article
from pipelines.extract.metadata import detect_lang
from pipelines.models import Article

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
USER_AGENT = "newswatch (topics test)"


def article_from_file(path: Path) -> Article:
    """An .html file is extracted; any other file is plain text, its first line the title."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NewswatchError(f"{path}: no such file") from None
    except OSError as exc:
        raise NewswatchError(f"{path}: cannot read: {exc.strerror or exc}") from None
    url = path.resolve().as_uri()
    if path.suffix.lower() in HTML_SUFFIXES:
        return _extracted(data, url, None, str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NewswatchError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise NewswatchError(f"{path}: empty file; expected a title line and the text")
    body = "\n".join(lines[1:])
    return Article(url=url, title=lines[0], text=body, lang=detect_lang(body or lines[0]))


def article_from_url(url: str, *, timeout: float) -> Article:
    """Fetch ``url`` once (following redirects) and extract the article on it."""
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read()
            final_url = response.geturl()
            charset = response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        raise NewswatchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise NewswatchError(f"{url}: cannot fetch: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise NewswatchError(f"{url}: cannot fetch: {exc}") from None
    except http.client.HTTPException as exc:
        detail = str(exc).strip()
        reason = f"{type(exc).__name__}{f': {detail!r}' if detail else ''}"
        raise NewswatchError(f"{url}: cannot fetch: not a valid HTTP response ({reason})") from None
    return _extracted(body, final_url, charset, url)


def _extracted(data: bytes, url: str, charset: str | None, name: str) -> Article:
    article = extract_article(data, url, encoding=charset)
    if article is None:
        raise NewswatchError(f"{name}: no article found on the page")
    return article


def _is_loopback(url: str) -> bool:
    """A local test server is never reached through a proxy from the environment."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
