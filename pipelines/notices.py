"""Operator notices: a source turned ``failing``, or recovered (see pipelines/health.py).

Source health queues a notice in ``notices`` in the same transaction as the state change;
this module turns the notices due on a channel into neutral messages, one each, addressed
to ``[health] operator`` (else ``[alerts] to``). They go out through the same outbox as the
alerts (:mod:`pipelines.outbox`), with the same exactly-once rules and backoff.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipelines.addresses import sender_domain
from pipelines.alerts import channel_recipients
from pipelines.channels import Message

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.store import Store

NO_OPERATOR = "no operator: set [health] operator or [alerts] to"


def notice_messages(
    store: Store,
    config: Config,
    channel: str,
    *,
    due_at: str | None,
    now: datetime | None = None,
) -> list[Message]:
    """One message for every notice due on ``channel``, oldest first."""
    to = tuple(config.health.operator or config.alerts.to)
    own = channel_recipients(config)
    return [
        build_notice(row, config, {"email": to, **own}, now)
        for row in store.due_notices(channel, due_at)
    ]


def build_notice(
    row: Mapping[str, object],
    config: Config,
    recipients: Mapping[str, tuple[str, ...]],
    now: datetime | None = None,
) -> Message:
    """A plain-text message about one source turning failing or recovering."""
    source = str(row["source"])
    titles = {s.name: s.title or s.name for s in config.sources}
    title = titles.get(source, source)
    errors: dict[str, int] = json.loads(str(row["detail"] or "{}")).get("errors", {})
    listed = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none"
    passes = config.health.failing_passes
    if row["kind"] == "failing":
        subject = f"source {source} is failing"
        text = (
            f"The source {title} ({source}) has met errors and yielded no article in"
            f" {passes} pass(es) in a row.\n\nErrors in the latest pass (run {row['run_id']}):"
            f" {listed}\n\nYou will get one more email when it works again. Details:\n"
            f"    newswatch sources status\n    newswatch sources check {source}\n"
        )
    else:
        subject = f"source {source} has recovered"
        text = (
            f"The source {title} ({source}) works again: run {row['run_id']} read it"
            " without errors, or found articles.\n"
        )
    return Message(
        kind="notice",
        items=(int(str(row["id"])),),
        subject=f"{config.alerts.subject_prefix} {subject}",
        text=text,
        html=None,
        sender=config.alerts.sender,
        recipients=recipients,
        message_id=notice_id(row, config.alerts.sender),
        date=now or datetime.now(UTC),
    )


def notice_id(row: Mapping[str, object], sender: str) -> str:
    """A Message-ID that a resend of the same notice repeats (see pipelines/mail.py)."""
    key = "\x1f".join(str(row[k]) for k in ("id", "source", "kind", "run_id", "created_at"))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"<newswatch.notice-{row['id']}.{digest}@{sender_domain(sender)}>"
