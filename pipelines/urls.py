"""URL identity: which URLs name the same article.

Decided *before* fetching, so that a link with tracking parameters, a ``www.`` variant or an
AMP copy of a stored article costs no request. courlan (trafilatura's own URL library) does
the cleaning: tracking parameters (utm_*, fbclid, gclid, ...), default ports, host case,
query order. We add what it leaves: fragments, AMP variants (paths, ``amp.`` hosts, Google's
AMP cache) and the ``www.`` question.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# AMP copies live at /amp/..., .../amp/, ....amp.html or carry ?amp / ?outputType=amp.
_AMP_PATH = [
    (re.compile(r"/amp(/?)$"), r"\1"),
    (re.compile(r"\.amp(\.html?)$"), r"\1"),
    (re.compile(r"^/amp(?=/)"), ""),
]
_AMP_PARAMS = {"amp", "outputtype", "usqp"}
# Google's AMP cache serves https://site.org/a/b as site-org.cdn.ampproject.org/c/s/site.org/a/b
# (/c/ without s for http, /v/ for the viewer form).
_AMP_CACHE = re.compile(r"^/[cv]/(s/)?([^/]+)(/.*)?$")


# Both are pure and asked again and again of the same URLs (discovery, the seen check,
# the article's row): a few thousand answers kept cost a megabyte or two.
@lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """The form stored in the dataset: a real, fetchable URL without tracking noise."""
    try:
        cleaned = courlan.normalize_url(url.strip())
    except (ValueError, AttributeError):
        cleaned = url.strip()
    parts = urlsplit(cleaned)
    if (parts.hostname or "").endswith(".cdn.ampproject.org"):
        cache = _AMP_CACHE.match(parts.path)
        if cache:
            scheme = "https" if cache.group(1) else "http"
            parts = parts._replace(scheme=scheme, netloc=cache.group(2), path=cache.group(3) or "/")
    netloc = parts.netloc.lower()
    if netloc.startswith("amp.") and netloc.count(".") >= 2:  # amp.site.org is site.org
        netloc = netloc.removeprefix("amp.")
    path = parts.path
    for pattern, replacement in _AMP_PATH:
        path = pattern.sub(replacement, path)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _AMP_PARAMS
    ]
    return urlunsplit((parts.scheme.lower(), netloc, path or "/", urlencode(sorted(query)), ""))


@lru_cache(maxsize=4096)
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
    """True when both URLs are on one host, ignoring ``www.`` and AMP hosts."""
    a = (urlsplit(canonical_url(url)).hostname or "").removeprefix("www.")
    b = (urlsplit(canonical_url(other)).hostname or "").removeprefix("www.")
    return a == b
