"""Per-source hooks: a site's quirks as one small declared object, next to its source.

The generic spider and extractor serve every site; a site that needs something of its own
(article links wrapped in a redirector, a print-page banner that trafilatura keeps, a
title with the site's name glued on) gets a hooks object instead of an ``if domain ==``
branch. The config names it by a dotted path::

    [[sources]]
    name = "mysite"
    hooks = "mypackage.mysite:Hooks"

The object (a class is instantiated without arguments) defines any of the methods of
:class:`SourceHooks`; those it leaves out change nothing. Subclassing
:class:`SourceHooks` is the easy way to write one.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from pipelines.errors import ConfigError
from pipelines.models import Article

if TYPE_CHECKING:
    from pipelines.config import SourceConfig

HOOK_METHODS = ("article_url", "page_html", "article")


class SourceHooks:
    """The hooks protocol: what a source may change. Every method here returns its input
    unchanged; a source's hooks override the ones it needs."""

    def article_url(self, url: str, listing_url: str | None) -> str | None:
        """Discovery: an article URL found on a listing (feed, sitemap or section page,
        ``listing_url``), rewritten, or None to skip it."""
        return url

    def page_html(self, html: str, url: str) -> str:
        """Extraction, before: the page's decoded HTML, adjusted for the extractor."""
        return html

    def article(self, article: Article, html: str) -> Article | None:
        """Extraction, after: the extracted article, adjusted, or None: not an article."""
        return article


class HooksError(ValueError):
    """A hooks path that does not import, or names something that is not hooks."""


class _Declared(SourceHooks):
    """A loaded hooks object; the methods it does not define fall back to no change."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def article_url(self, url: str, listing_url: str | None) -> str | None:
        fn = getattr(self.target, "article_url", None)
        return url if fn is None else _optional_str(fn(url, listing_url), "article_url")

    def page_html(self, html: str, url: str) -> str:
        fn = getattr(self.target, "page_html", None)
        return html if fn is None else str(fn(html, url))

    def article(self, article: Article, html: str) -> Article | None:
        fn = getattr(self.target, "article", None)
        if fn is None:
            return article
        result = fn(article, html)
        if result is not None and not isinstance(result, Article):
            raise TypeError(f"{self.target!r}.article must return an Article or None")
        return result


NO_HOOKS = SourceHooks()


@cache
def load_hooks(path: str) -> SourceHooks:
    """The hooks object ``package.module:Name`` names (a class is instantiated).

    Raises :class:`HooksError` saying what is wrong, for the config to name the key.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise HooksError(f"{path!r}: expected 'package.module:Name'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an ImportError, or any error the module raises as it loads
        raise HooksError(f"{path!r}: cannot import {module_name}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise HooksError(f"{path!r}: {module_name} has no {attr}") from None
    if isinstance(target, type):
        try:
            target = target()
        except Exception as exc:
            raise HooksError(f"{path!r}: cannot create {attr}(): {exc}") from None
    if not any(callable(getattr(target, m, None)) for m in HOOK_METHODS):
        raise HooksError(f"{path!r}: defines none of {', '.join(HOOK_METHODS)}")
    return target if isinstance(target, SourceHooks) else _Declared(target)


def check_hooks(path: str, where: str, key: str) -> str:
    """A source's ``hooks`` value, checked when the config loads: it must import."""
    try:
        load_hooks(path)
    except HooksError as exc:
        raise ConfigError(where, key, f"hooks: {exc}") from None
    return path


def hooks_for(source: SourceConfig) -> SourceHooks:
    """A source's hooks (its ``hooks`` key), or hooks that change nothing."""
    return load_hooks(source.hooks) if source.hooks else NO_HOOKS


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"hooks {name} must return a URL string or None, not {value!r}")
