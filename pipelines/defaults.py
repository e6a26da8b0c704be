"""Every default value newswatch has, defined once.

``pipelines/config/`` uses these when a key is missing from ``newswatch.toml``, the
Scrapy add-on (``crawler/addon.py``) turns the resulting ``[crawl]`` values into Scrapy
settings, and the commands take their own defaults from here: a default changed here
changes everywhere, and the README's config example states these numbers.
"""

from __future__ import annotations

from pipelines import __version__

# -- [crawl]: politeness. Real sites get these; tests and the demo lower the delays. ------
DOWNLOAD_DELAY = 0.25  # seconds between requests to one site; AutoThrottle adds more
AUTOTHROTTLE_START_DELAY = 1.0
CONCURRENT_PER_DOMAIN = 2  # at most this many requests at a time per site
DOWNLOAD_TIMEOUT = 30.0  # seconds for one response
OBEY_ROBOTS = True
USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
MAX_PAGES_PER_SOURCE = 500  # new article URLs queued per source in one pass
# A sitemap index may list thousands of sitemaps of 50,000 URLs each: per source and pass,
# at most this many sitemaps are asked for and this many feed/sitemap entries looked at.
MAX_SITEMAPS_PER_SOURCE = 50
MAX_ENTRIES_PER_SOURCE = 50_000
# A pass ends by this deadline, whatever the sites do (it fits a cron every 30 minutes);
# one source's crawl is closed after its own budget. Both in minutes.
CRAWL_PASS_TIMEOUT_MINUTES = 25.0
SOURCE_TIMEOUT_MINUTES = 10.0
# A site answering 429/503 with ``Retry-After: 3600`` would hold the whole pass: the wait
# is capped at this many seconds.
RETRY_AFTER_MAX = 120.0
# No request to a loopback, private, link-local or unique-local address ([crawl]
# allow_private_targets: true, or a list of addresses and networks that may be reached).
ALLOW_PRIVATE_TARGETS = False
# A response's status line and headers: past either bound the connection is dropped
# (DOWNLOAD_MAXSIZE bounds the body only). Real sites send a few KiB in a few dozen lines.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_LINES = 200
# One page's extraction (trafilatura, metadata, topics) in a pool worker is stopped after
# this many seconds ([crawl] extract_timeout); real pages take well under one.
EXTRACT_TIMEOUT = 30.0

# -- the store ----------------------------------------------------------------------------
# A database locked by another writer (a second program, a backup) is waited for this long
# (SQLite's busy timeout); then the pass ends with exit 4, "database is locked".
STORE_BUSY_TIMEOUT_SECONDS = 10.0

# -- [dedup]: when an article is a copy of a stored document (pipelines/dedup.py) ----------
# "Most of its own text": a syndicated copy with a sentence added or cut scores ~0.8-1.0;
# a new article sharing a background sentence or a teaser line scores below ~0.25.
DEDUP_THRESHOLD = 0.6
# Below this many sampled shingles (~40 words) the estimate is too coarse to trust: such a
# text is a duplicate only when it is an exact copy.
DEDUP_MIN_SHINGLES = 8
# A hash held by more documents than this is common phrasing, not evidence. Tuned on
# bench/dedup.py: with boilerplate shared by 30% of 100,000 documents, a lookup then costs
# about what it costs with 1,000 documents.
DEDUP_MAX_DOCUMENT_FREQUENCY = 50

# -- [health] ------------------------------------------------------------------------------
FAILING_PASSES = 3  # bad passes in a row before a source counts as failing

# -- [schedule] ----------------------------------------------------------------------------
SCHEDULE_CRON = "0 * * * *"
SCHEDULE_TIMEZONE = "UTC"
PASS_TIMEOUT_MINUTES = 50.0  # a scheduled pass still running then is killed
MISFIRE_GRACE_SECONDS = 300  # a fire time missed by more than this is skipped
STOP_GRACE_SECONDS = 20.0  # after SIGTERM, a pass gets this long to record its run

# -- commands ------------------------------------------------------------------------------
DOCTOR_TIMEOUT = 10.0  # seconds `newswatch doctor` waits for each source and the SMTP server
