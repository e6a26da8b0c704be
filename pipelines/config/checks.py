"""Value checks shared by every section of ``newswatch.toml``.

Each check raises :class:`ConfigError` naming the file and the full key (``alerts.to[1]``),
so that a typo fails at start, not an hour into a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pipelines.addresses import address_domain
from pipelines.errors import ConfigError

T = TypeVar("T")


def get_value(
    t: dict[str, Any],
    name: str,
    kind: type[T] | tuple[type, ...],
    where: str,
    key: str,
    default: Any,
) -> Any:
    """``t[name]`` checked to be of ``kind``, or ``default`` when the key is absent."""
    if name not in t:
        return default
    value = t[name]
    # bool is an int in Python; a number where a flag is expected (or back) is a typo.
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(where, key, f"must be {names}, not {value!r}")
    return value


def reject_unknown(t: dict[str, Any], known: set[str], where: str, prefix: str) -> None:
    for k in t:
        if k not in known:
            raise ConfigError(where, prefix + k, f"unknown key (known: {', '.join(sorted(known))})")


def table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    t = raw.get(name, {})
    if not isinstance(t, dict):
        raise ConfigError(where, name, f"must be a [{name}] table")
    return t


def str_list(value: Any, where: str, key: str) -> list[str]:
    """A list of non-empty strings; one string alone is read as a list of one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(where, key, "must be a list of non-empty strings")
    return list(value)


def http_urls(value: Any, where: str, key: str) -> list[str]:
    urls = str_list(value, where, key)
    for i, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(where, f"{key}[{i}]", f"not an http(s) URL: {url!r}")
    return urls


def check_address(value: str, where: str, key: str) -> None:
    """One address with a domain; "Name <address>" is fine, a linefeed or a second one is not."""
    if address_domain(value) is None:
        raise ConfigError(where, key, f"not an email address: {value!r}")


def resolve_path(base: Path, value: str) -> Path:
    """A path from the config, relative to the config file's folder unless absolute."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p
