"""Scrapy settings for newswatch: what every crawl of the news spider shares.

The politeness knobs a user may change (delays, concurrency per site, timeout, robots.txt,
User-Agent, the Retry-After cap) are not here: ``newswatch.toml`` ``[crawl]`` holds them,
with their defaults in ``pipelines/defaults.py``, and the add-on (``crawler/addon.py``)
sets them for every crawl, ``newswatch run`` and ``scrapy crawl news -a source=NAME``
alike. The extension (``crawler/extension.py``) records a bare ``scrapy crawl`` as a run.
"""

from scrapy.settings import default_settings

BOT_NAME = "newswatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# `scrapy crawl news -a sources=A,B` for the shards of `newswatch cluster run`.
COMMANDS_MODULE = "crawler.commands"

ADDONS = {"crawler.addon.CrawlConfigAddon": 0}
EXTENSIONS = {"crawler.extension.RunRecorder": 500}
# Scrapy's own extensions, less three newswatch keeps off: Scrapy imports every class its
# settings name, even one set to None, and the remote control alone imports aiohttp
# (~0.15 s of every crawl's start).
_UNUSED_EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
}
EXTENSIONS_BASE = {
    name: order
    for name, order in default_settings.EXTENSIONS_BASE.items()
    if name not in _UNUSED_EXTENSIONS
}

# AutoThrottle slows down further when a site answers slowly: a monitor that runs every
# hour has no reason to hurry. The add-on turns it on (off only when [crawl] asks for no
# delay at all: download_delay = 0 and autothrottle_start_delay = 0).
CONCURRENT_REQUESTS = 16
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# A news page is well under a megabyte; anything past 10 MB is not an article.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Scrapy's retry, but a 429/503 waits for the Retry-After the site sent (capped by
# NEWSWATCH_RETRY_AFTER_MAX, from [crawl] retry_after_max).
DOWNLOADER_MIDDLEWARES = {
    # First of all: no request to a private address or outside a source's allowed_domains
    # (crawler/guard.py), redirects and robots.txt included.
    "crawler.guard.TargetGuard": 40,
    # Scrapy's robots.txt middleware, but a robots.txt that cannot be read (a site down) is
    # one warning line, not a traceback (crawler/robotstxt.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robotstxt.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # Just before Scrapy's RedirectMiddleware (600) sees a response: redirects to a
    # non-HTTP URL, to the page itself or back along the chain are refused, by name.
    "crawler.redirects.RedirectCheck": 610,
    # Scrapy's meta-refresh redirects, without decoding every page that has none.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.redirects.MetaRefreshCheck": 580,
}
REDIRECT_MAX_TIMES = 5
# Scrapy's HTTP/1.1 handler with a bound on response headers (crawler/download.py):
# NEWSWATCH_MAX_HEADER_BYTES / NEWSWATCH_MAX_HEADER_LINES, defaults in pipelines/defaults.py.
DOWNLOAD_HANDLERS = {
    "http": "crawler.download.CappedHTTP11DownloadHandler",
    "https": "crawler.download.CappedHTTP11DownloadHandler",
}
# Scrapy's downloader, but `concurrent_per_domain` holds with no delay too
# (crawler/downloader.py).
DOWNLOADER = "crawler.downloader.PerSiteDownloader"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote control runs code sent to an HTTP port of each crawl and writes its token
# to disk: nothing a monitor run from cron should open.
REMOTE_CONTROL_ENABLED = False

ITEM_PIPELINES = {"crawler.itempipelines.StorePipeline": 300}
# A response yields one page item at most, and Scrapy starts CONCURRENT_ITEMS asyncio
# workers for each response whatever it yields: its default of 100 cost ~1 ms of CPU per
# page. Pages wait for the extraction pool in the item pipeline, not here; a sitemap's
# requests are only scheduled, one after the other.
CONCURRENT_ITEMS = 1

# Scrapy's check that a generator callback returns no value reads the callback's source
# and parses it, for every response (its cache misses bound methods): newswatch's
# callbacks return none, and mypy and the tests hold them to it.
WARN_ON_GENERATOR_RETURN_VALUE = False

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "WARNING"
# Scrapy's per-page DEBUG lines are built only when LOG_LEVEL shows them.
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"

# newswatch's own settings (prefixed, as Scrapy components do).
NEWSWATCH_CONFIG = None  # path to newswatch.toml; else $NEWSWATCH_CONFIG or ./newswatch.toml
NEWSWATCH_BASELINE = False  # store what is there now, alert on nothing
