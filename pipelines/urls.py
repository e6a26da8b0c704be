"""URL identity: which URLs name the same article.

Decided *before* fetching, so that a link with tracking parameters, a ``www.`` variant or an
AMP copy of a stored article costs no request. courlan (trafilatura's own URL library) does
the cleaning: tracking parameters (utm_*, fbclid, gclid, ...), default ports, host case,
query order. We add what it leaves: fragments, AMP variants and the ``www.`` question.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# AMP copies live at /amp/..., .../amp/, ....amp.html or carry ?amp / ?outputType=amp.
_AMP_PATH = [
    (re.compile(r"/amp(/?)$"), r"\1"),
    (re.compile(r"\.amp(\.html?)$"), r"\1"),
    (re.compile(r"^/amp(?=/)"), ""),
]
_AMP_PARAMS = {"amp", "outputtype", "usqp"}


def canonical_url(url: str) -> str:
    """The form stored in the dataset: a real, fetchable URL without tracking noise."""
    try:
        cleaned = courlan.normalize_url(url.strip())
    except (ValueError, AttributeError):
        cleaned = url.strip()
    parts = urlsplit(cleaned)
    path = parts.path
    for pattern, replacement in _AMP_PATH:
        path = pattern.sub(replacement, path)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _AMP_PARAMS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), path or "/", urlencode(sorted(query)), "")
    )


def url_key(url: str) -> str:
    """Identity key: the canonical URL without scheme and without a leading ``www.``.

    ``http://www.site/x`` and ``https://site/x`` are the same article on every news site we
    know of; storing this key with a unique index makes "seen before?" one index lookup.
    """
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    key = host + (parts.path or "/")
    return key + ("?" + parts.query if parts.query else "")


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on one host, ignoring ``www.``."""
    a = (urlsplit(url).hostname or "").removeprefix("www.")
    b = (urlsplit(other).hostname or "").removeprefix("www.")
    return a == b
