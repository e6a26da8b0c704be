"""The add-on maps `[crawl]` onto Scrapy settings; no crawl runs here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_module
from crawler.addon import CrawlConfigAddon, crawl_settings_of
from pipelines import defaults
from pipelines.config import CrawlConfig
from pipelines.errors import ConfigError

CONFIG = """\
[crawl]
download_delay = 1.5
autothrottle_start_delay = 0.5
concurrent_per_domain = 3
timeout = 12
obey_robots = false
user_agent = "agent/2.0"
retry_after_max = 7
allow_private_targets = ["127.0.0.1", "10.0.0.0/8"]
workers = 3
extract_timeout = 9

[[sources]]
name = "s"
feeds = ["http://127.0.0.1:9/feed"]
"""


def project_settings(config: Path | None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSWATCH_CONFIG", str(config) if config else None, priority="project")
    return settings


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_every_crawl_key_becomes_its_scrapy_setting_at_the_addon_priority(config: Path) -> None:
    settings = project_settings(config)
    CrawlConfigAddon().update_settings(settings)
    assert {name: settings[name] for name in crawl_settings_of(CrawlConfig())} == {
        "AUTOTHROTTLE_ENABLED": True,
        "DOWNLOAD_DELAY": 1.5,
        "AUTOTHROTTLE_START_DELAY": 1.5,  # never below the download delay
        "CONCURRENT_REQUESTS_PER_DOMAIN": 3,
        "DOWNLOAD_TIMEOUT": 12.0,
        "ROBOTSTXT_OBEY": False,
        "USER_AGENT": "agent/2.0",
        "NEWSWATCH_RETRY_AFTER_MAX": 7.0,
        "NEWSWATCH_ALLOW_PRIVATE_TARGETS": "127.0.0.1/32,10.0.0.0/8",
        "NEWSWATCH_SOURCE_TIMEOUT": defaults.SOURCE_TIMEOUT_MINUTES * 60,
        "NEWSWATCH_WORKERS": 3,
        "NEWSWATCH_EXTRACT_TIMEOUT": 9.0,
    }
    assert settings.getpriority("USER_AGENT") == SETTINGS_PRIORITIES["addon"]


def test_without_a_config_file_the_defaults_apply(tmp_path: Path) -> None:
    settings = project_settings(tmp_path / "missing.toml")
    CrawlConfigAddon().update_settings(settings)
    assert settings["USER_AGENT"] == defaults.USER_AGENT
    assert settings.getbool("ROBOTSTXT_OBEY") is defaults.OBEY_ROBOTS
    assert settings.getfloat("DOWNLOAD_DELAY") == defaults.DOWNLOAD_DELAY
    assert settings.getfloat("NEWSWATCH_RETRY_AFTER_MAX") == defaults.RETRY_AFTER_MAX


def test_a_broken_config_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "newswatch.toml"
    path.write_text("[crawl]\ntimeout = 'soon'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"crawl\.timeout"):
        CrawlConfigAddon().update_settings(project_settings(path))


def test_a_crawler_of_the_project_gets_the_config(config: Path) -> None:
    project = {k: getattr(project_module, k) for k in dir(project_module) if k.isupper()}
    crawler = get_crawler(settings_dict={**project, "NEWSWATCH_CONFIG": str(config)})
    assert crawler.settings["USER_AGENT"] == "agent/2.0"
    assert crawler.settings.getbool("ROBOTSTXT_OBEY") is False
    assert crawler.settings.getfloat("DOWNLOAD_TIMEOUT") == 12.0


def test_the_command_line_still_beats_the_config(config: Path) -> None:
    settings = project_settings(config)
    settings.set("USER_AGENT", "from -s", priority="cmdline")
    CrawlConfigAddon().update_settings(settings)
    assert settings["USER_AGENT"] == "from -s"
    assert settings["DOWNLOAD_DELAY"] == 1.5


def test_no_delay_at_all_turns_autothrottle_off(tmp_path: Path) -> None:
    """AutoThrottle would bring a delay back (each answer's latency) and hold a site to
    about one request at a time; with any delay asked, it stays on."""

    def enabled(config: CrawlConfig) -> bool:
        return bool(crawl_settings_of(config)["AUTOTHROTTLE_ENABLED"])

    assert not enabled(CrawlConfig(download_delay=0, autothrottle_start_delay=0))
    assert enabled(CrawlConfig(download_delay=0))
    assert enabled(CrawlConfig(download_delay=0.5, autothrottle_start_delay=0))
    assert enabled(CrawlConfig())
    path = tmp_path / "newswatch.toml"
    path.write_text("[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\n", "utf-8")
    settings = project_settings(path)
    CrawlConfigAddon().update_settings(settings)
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    settings = project_settings(path)
    settings.set("AUTOTHROTTLE_ENABLED", True, priority="cmdline")
    CrawlConfigAddon().update_settings(settings)
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is True


def test_the_cookies_middleware_is_not_even_loaded_while_cookies_are_off(config: Path) -> None:
    from crawler.addon import COOKIES_MIDDLEWARE

    settings = project_settings(config)
    CrawlConfigAddon().update_settings(settings)
    assert COOKIES_MIDDLEWARE not in settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    # What a crawler's downloader does with the setting, in a fresh interpreter: the
    # middleware's module (and tldextract with it) is not imported.
    probe = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from crawler.addon import CrawlConfigAddon\n"
        "settings = Settings()\n"
        "settings.setmodule('crawler.settings', priority='project')\n"
        f"settings.set('NEWSWATCH_CONFIG', {str(config)!r}, priority='project')\n"
        "CrawlConfigAddon().update_settings(settings)\n"
        "settings.get_component_priority_dict_with_base('DOWNLOADER_MIDDLEWARES')\n"
        "for name in ('scrapy.downloadermiddlewares.cookies', 'tldextract'):\n"
        "    print(name in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    on = project_settings(config)
    on.set("COOKIES_ENABLED", True, priority="cmdline")  # scrapy crawl -s COOKIES_ENABLED=1
    CrawlConfigAddon().update_settings(on)
    assert on.getwithbase("DOWNLOADER_MIDDLEWARES")[COOKIES_MIDDLEWARE] == 700
