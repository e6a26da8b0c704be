"""``[alerts]``: who receives alert emails, how they are grouped and what the subject says."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config.checks import (
    check_address,
    get_value,
    reject_unknown,
    resolve_path,
    str_list,
)
from pipelines.errors import ConfigError

_ALERT_KEYS = {
    "to",
    "from",
    "mode",
    "max_age_days",
    "maildir",
    "subject_prefix",
    "subject",
    "max_items_per_email",
    "max_per_pass",
    "channels",
    "templates",
    "timezone",
    "digest",
    "attach_report",
}
SUBJECT_FIELDS = ("count", "topic", "title", "source", "prefix", "page", "pages")


@dataclass(frozen=True)
class AlertsConfig:
    to: tuple[str, ...] = ()
    sender: str = "newswatch@localhost"
    mode: str = "each"  # "each" | "digest"
    max_age_days: int = 30  # 0 = no limit
    maildir: Path | None = None
    subject_prefix: str = "[newswatch]"
    subject: str | None = None  # a template, e.g. "[newswatch] {count} new: {topic}"
    max_items_per_email: int = 25  # a longer digest is split into pages
    max_per_pass: int = 20  # emails of one item each; the rest of a pass go in one digest
    channels: tuple[str, ...] = ("email",)  # where alerts and notices go (pipelines/channels)
    templates: Path | None = None  # a folder whose alert templates win over the shipped ones
    timezone: str = "UTC"  # dates in alerts, and the digest's clock
    digest: str = "each-pass"  # or "daily HH:MM", "weekly DAY HH:MM" (pipelines/rhythm.py)
    # A daily or weekly digest carries the period's report (report.html) as an attachment.
    attach_report: bool = False


def parse_alerts(t: dict[str, Any], base: Path, where: str) -> AlertsConfig:
    reject_unknown(t, _ALERT_KEYS, where, "alerts.")
    to = tuple(str_list(t.get("to", []), where, "alerts.to"))
    for i, addr in enumerate(to):
        check_address(addr, where, f"alerts.to[{i}]")
    mode = get_value(t, "mode", str, where, "alerts.mode", "each")
    if mode not in ("each", "digest"):
        raise ConfigError(where, "alerts.mode", f"must be 'each' or 'digest', not {mode!r}")
    max_age = get_value(t, "max_age_days", int, where, "alerts.max_age_days", 30)
    if max_age < 0:
        raise ConfigError(where, "alerts.max_age_days", "must be >= 0 (0 = no limit)")
    maildir = t.get("maildir")
    if maildir is not None and not isinstance(maildir, str):
        raise ConfigError(where, "alerts.maildir", "must be a string (a folder path)")
    sender = get_value(t, "from", str, where, "alerts.from", "newswatch@localhost")
    check_address(sender, where, "alerts.from")
    return AlertsConfig(
        to=to,
        sender=sender,
        mode=mode,
        max_age_days=max_age,
        maildir=resolve_path(base, maildir) if maildir else None,
        subject_prefix=get_value(
            t, "subject_prefix", str, where, "alerts.subject_prefix", "[newswatch]"
        ),
        subject=_subject_template(t, where),
        max_items_per_email=_at_least(t, "max_items_per_email", 1, 25, where),
        max_per_pass=_at_least(t, "max_per_pass", 0, 20, where),
        channels=tuple(str_list(t.get("channels", ["email"]), where, "alerts.channels")),
        **_desk(t, base, where),
    )


def _desk(t: dict[str, Any], base: Path, where: str) -> dict[str, Any]:
    """``templates``, ``timezone`` and ``digest`` (docs/alerts.md)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from pipelines.rhythm import parse_rhythm

    folder = get_value(t, "templates", str, where, "alerts.templates", None)
    path = resolve_path(base, folder) if folder else None
    if path is not None and not path.is_dir():
        raise ConfigError(where, "alerts.templates", f"not a folder: {str(path)!r}")
    zone = get_value(t, "timezone", str, where, "alerts.timezone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(where, "alerts.timezone", f"unknown time zone {zone!r}") from None
    digest = get_value(t, "digest", str, where, "alerts.digest", "each-pass")
    try:
        parse_rhythm(digest)
    except ValueError as exc:
        raise ConfigError(where, "alerts.digest", str(exc)) from None
    attach = get_value(t, "attach_report", bool, where, "alerts.attach_report", False)
    return {"templates": path, "timezone": zone, "digest": digest, "attach_report": attach}


def _subject_template(t: dict[str, Any], where: str) -> str | None:
    template: str | None = get_value(t, "subject", str, where, "alerts.subject", None)
    if template is None:
        return None
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(where, "alerts.subject", f"not a valid template: {exc}") from None
    for name in names:
        if name not in SUBJECT_FIELDS:
            raise ConfigError(
                where,
                "alerts.subject",
                f"unknown placeholder {{{name}}} (known: {', '.join(SUBJECT_FIELDS)})",
            )
    sample = {"count": 2, "topic": "t", "title": "t", "source": "s", "prefix": "p"}
    try:  # a format spec that does not suit the value ("{title:d}") fails here, not at send
        template.format(**sample, page=1, pages=1)
    except (ValueError, TypeError) as exc:
        raise ConfigError(where, "alerts.subject", f"not a valid template: {exc}") from None
    return template


def _at_least(t: dict[str, Any], name: str, low: int, default: int, where: str) -> int:
    value: int = get_value(t, name, int, where, f"alerts.{name}", default)
    if value < low:
        raise ConfigError(where, f"alerts.{name}", f"must be >= {low}, not {value}")
    return value
