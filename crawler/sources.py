"""Find the config (and one source in it) from Scrapy settings.

``newswatch run`` puts the already loaded :class:`Config` in the settings
(``NEWSWATCH_LOADED_CONFIG``); ``scrapy crawl`` has only a path, from ``NEWSWATCH_CONFIG``
(the setting or the environment variable).
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from pipelines.config import Config, SourceConfig, load_config, resolve_config_path


def config_from_settings(settings: BaseSettings) -> Config:
    loaded = settings.get("NEWSWATCH_LOADED_CONFIG")
    if isinstance(loaded, Config):
        return loaded
    return load_config(resolve_config_path(settings.get("NEWSWATCH_CONFIG")))


def load_source(settings: BaseSettings, source: str | SourceConfig) -> tuple[SourceConfig, Config]:
    config = config_from_settings(settings)
    if isinstance(source, SourceConfig):
        return source, config
    return config.source(source), config
