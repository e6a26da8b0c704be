"""Scrapy settings for newswatch: polite defaults for crawling real news sites.

``newswatch.toml`` ``[crawl]`` overrides the politeness knobs (see crawler/runner.py), and
``scrapy crawl news -a source=NAME`` reads the same config through ``NEWSWATCH_CONFIG``.
"""

from pipelines import __version__

BOT_NAME = "newswatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
ROBOTSTXT_OBEY = True

# At most two requests at a time per site, and AutoThrottle slows down further when a site
# answers slowly: a monitor that runs every hour has no reason to hurry.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
# A news page is well under a megabyte; anything past 10 MB is not an article.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Scrapy's retry, but a 429/503 waits for the Retry-After the site sent (capped).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
}
NEWSWATCH_RETRY_AFTER_MAX = 120.0  # seconds; a site asking for longer waits this long
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

ITEM_PIPELINES = {"crawler.itempipelines.StorePipeline": 300}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "WARNING"

# newswatch's own settings (prefixed, as Scrapy components do).
NEWSWATCH_CONFIG = None  # path to newswatch.toml; else $NEWSWATCH_CONFIG or ./newswatch.toml
NEWSWATCH_BASELINE = False  # store what is there now, alert on nothing
