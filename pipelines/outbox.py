"""The outbox: one sending loop for alerts and operator notices, over every channel.

For each enabled channel, the items due on it (alerts, then notices) become neutral
messages (:mod:`pipelines.alerts`, :mod:`pipelines.notices`) and each message is delivered
with its own state per (item, channel) in ``deliveries``:

``pending`` -> ``sending`` -> ``sent``. ``sending`` is committed only once the channel is
ready (for SMTP: connected, TLS, logged in), right before the step that cannot be taken
back: a destination that cannot be reached costs no attempt, the item stays ``pending``
and the rest of that channel's outbox waits for the next pass. A message the destination
refuses goes back to ``pending`` with a backoff (5 min, 10, 20, ... at most 6 h) until
``MAX_ATTEMPTS``, then ``failed``; ``ignore_backoff`` (``alerts send --now``) ignores the
wait. A message some recipients got while others refused it is recorded as sent (a retry
would reach the first ones twice), the refusal kept in ``last_error``.

Exactly once: SMTP leaves a window no client can close, the server may have accepted the
message when we die before committing ``sent``. Here that window is the exchange of one
message plus one SQLite commit. A crash inside it leaves ``sending``: the message may or may
not have left, so the next send marks it ``failed`` with a note and never sends it again by
itself; ``newswatch alerts resend ID`` is there for a person who checks. Rows another sender
holds are left to it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pipelines.alerts import NO_RECIPIENTS, alert_messages
from pipelines.channels import Channel, Message, Refused, Unreachable
from pipelines.channels import open_channels as _open_channels
from pipelines.clock import iso_utc
from pipelines.errors import DeliveryError
from pipelines.mail import style_of, using_style
from pipelines.notices import NO_OPERATOR, notice_messages
from pipelines.rhythm import latest_slot, parse_rhythm
from pipelines.store.outbox import AlertFilter
from pipelines.stories import assign_new

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
INTERRUPTED = (
    "interrupted while sending: it may or may not have been delivered, so it is"
    " not resent automatically; use `newswatch alerts resend ID`"
)
NOTICE_INTERRUPTED = "interrupted while sending: it may or may not have been delivered"
KINDS = ("alert", "notice")
_NOTES = {"alert": INTERRUPTED, "notice": NOTICE_INTERRUPTED}
_NO_RECIPIENTS = {"alert": NO_RECIPIENTS, "notice": NO_OPERATOR}

Delivery = Literal["done", "taken", "unreachable"]


@dataclass
class Counts:
    sent: int = 0
    failed: int = 0  # gave up on now (MAX_ATTEMPTS reached, or in doubt)
    pending: int = 0  # no recipients
    retrying: int = 0  # refused this time, tried again after their backoff
    held: int = 0  # not tried: the destination could not be reached
    waiting: int = 0  # not tried: their backoff has not run out
    interrupted: int = 0  # left 'sending' by a send that died: now 'failed', not resent


@dataclass(frozen=True)
class Outgoing:
    """A message as it goes (or, in a dry run, would go) out on one channel."""

    channel: str
    message: Message


@dataclass
class SendReport(Counts):
    """Totals over alerts and notices and every channel, and each apart."""

    kinds: dict[str, Counts] = field(default_factory=dict)  # "alert" | "notice"
    channels: dict[str, Counts] = field(default_factory=dict)
    failed_total: int = 0  # alerts 'failed' in the outbox, from any pass
    next_attempt_at: str | None = None  # the earliest retry time among pending alerts
    messages: list[Outgoing] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held_because: list[str] = field(default_factory=list)  # why, for the held ones
    digest_waiting: int = 0  # alerts queued for the next digest slot ([alerts] digest)
    digest_slot: str | None = None  # the slot this send delivered, when it claimed one

    @property
    def undelivered(self) -> bool:
        """Something this send should have delivered did not go out."""
        return bool(self.failed or self.retrying or self.held)

    def of(self, kind: str) -> Counts:
        return self.kinds.get(kind, Counts())

    def add(self, kind: str, channel: str | None, what: str, n: int = 1) -> None:
        buckets = [self, self.kinds.setdefault(kind, Counts())]
        if channel is not None:
            buckets.append(self.channels.setdefault(channel, Counts()))
        for bucket in buckets:
            setattr(bucket, what, getattr(bucket, what) + n)


class _Taken(Exception):
    """The deliveries are no longer pending: another sender took them."""


def backoff(attempts: int) -> timedelta:
    """How long a message refused ``attempts`` times waits: 5 min, doubling, at most 6 h."""
    wait: timedelta = BACKOFF_FIRST * 2 ** max(attempts - 1, 0)
    return min(wait, BACKOFF_MAX)


def open_channels(config: Config, environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The channels ``[alerts] channels`` enables, built now (secrets read from ``environ``,
    default the process environment); a ConfigError names what is missing."""
    return _open_channels(config, os.environ if environ is None else environ)


def send_all(
    store: Store,
    config: Config,
    channels: Sequence[Channel],
    *,
    run_id: int | None = None,
    dry_run: bool = False,
    ignore_backoff: bool = False,
    now: datetime | None = None,
) -> SendReport:
    """Send every due alert and notice over every channel; see the module's docstring.

    A dry run changes nothing and returns the messages the enabled channels would get.
    With ``run_id``, the pass's ``runs`` row records the alerts sent.
    """
    assign_new(store, config, dry_run=dry_run)  # stories first: one alert per story
    report = SendReport(kinds={kind: Counts() for kind in KINDS})
    moment = iso_utc(now or datetime.now(UTC))
    due_at = None if ignore_backoff else moment
    targets: list[tuple[str, Channel | None]] = (
        [(name, None) for name in config.alerts.channels]
        if dry_run
        else [(c.name, c) for c in channels]
    )
    chosen = alert_filter(store, config, [name for name, _ in targets], moment, dry_run, report)
    planned = _digest_config(config)
    with store.filtering(chosen), using_style(style_of(config.alerts, config.path)):
        if not dry_run:
            for kind in KINDS:
                _fail_interrupted(store, kind, report)
                store.open_deliveries(kind, [name for name, _ in targets])
        attached: list[tuple[str, str, bytes]] = []  # the period's report, built once
        for name, channel in targets:
            report.channels[name] = Counts()
            if not dry_run and not ignore_backoff:
                for kind in KINDS:
                    report.add(kind, name, "waiting", store.count_waiting(kind, name, moment))
            alerts = alert_messages(store, planned, name, due_at=due_at)
            if alerts and report.digest_slot is not None and config.alerts.attach_report:
                attached = attached or [period_report(store, config, report.digest_slot)]
                alerts = [replace(m, attachments=tuple(attached)) for m in alerts]
            plan = alerts + notice_messages(store, config, name, due_at=due_at)
            _send_plan(store, name, channel, plan, report, moment)
    report.next_attempt_at = store.next_attempt_at("alert")
    report.failed_total = store.count_failed("alert")
    if run_id is not None and not dry_run:
        store.record_alerts_sent(run_id, report.of("alert").sent)
    return report


def alert_filter(
    store: Store,
    config: Config,
    channels: Sequence[str],
    moment: str,
    dry_run: bool,
    report: SendReport,
) -> AlertFilter:
    """Which alerts this send reads: per channel, the topics that chose other channels;
    with a digest rhythm, those queued up to the latest slot, claimed here when it is due
    (a dry run claims nothing and shows what the slot would send)."""
    skip = {
        name: frozenset(t for t, chosen in config.topic_channels.items() if name not in chosen)
        for name in channels
    }
    rhythm = parse_rhythm(config.alerts.digest)
    if rhythm.each_pass:
        return AlertFilter(skip_topics=skip)
    slot_time = latest_slot(rhythm, datetime.fromisoformat(moment), config.alerts.timezone)
    slot = iso_utc(slot_time) if slot_time is not None else None
    claimed = store.latest_digest_slot()
    due = slot is not None and (claimed is None or slot > claimed)
    if (
        slot is not None
        and due
        and (dry_run or store.claim_digest_slot(slot, config.alerts.digest))
    ):
        claimed, report.digest_slot = slot, slot
    released = claimed if claimed is not None else ""
    report.digest_waiting = store.count_held_for_digest(released)
    return AlertFilter(skip_topics=skip, queued_before=released)


def period_report(store: Store, config: Config, slot: str) -> tuple[str, str, bytes]:
    """The report a daily or weekly digest carries: ``report.html`` for the day or the week
    up to ``slot``, as ``newswatch report`` writes it."""
    from pipelines.report import gather
    from pipelines.report.html import render_html

    rhythm = parse_rhythm(config.alerts.digest)
    until = datetime.fromisoformat(slot)
    since = until - timedelta(days=7 if rhythm.kind == "weekly" else 1)
    period = gather(store, since.date().isoformat(), until.date().isoformat(), config.topics)
    return ("report.html", "text/html", render_html(period).encode("utf-8"))


def _digest_config(config: Config) -> Config:
    """With a digest rhythm, a slot's alerts go out as one digest per topic."""
    if parse_rhythm(config.alerts.digest).each_pass:
        return config
    return replace(config, alerts=replace(config.alerts, mode="digest"))


def _send_plan(
    store: Store,
    name: str,
    channel: Channel | None,
    plan: Sequence[Message],
    report: SendReport,
    moment: str,
) -> None:
    """Deliver one channel's messages in order (``channel`` None: a dry run)."""
    for number, message in enumerate(plan):
        to = message.recipients.get(name)
        if to is not None and not to:
            report.add(message.kind, name, "pending", len(message.items))
            report.errors.append(_NO_RECIPIENTS[message.kind])
            continue
        report.messages.append(Outgoing(name, message))
        if channel is None:
            continue
        delivery = deliver(store, channel, message, report, moment)
        if delivery == "taken":  # another sender holds these items
            report.messages.pop()
        elif delivery == "unreachable":  # the rest waits for the next pass
            for later in plan[number + 1 :]:
                report.add(later.kind, name, "held", len(later.items))
            return


def deliver(
    store: Store, channel: Channel, message: Message, report: SendReport, moment: str
) -> Delivery:
    """Send one message on one channel and record the outcome for its items.

    "unreachable": nothing was charged (the caller leaves the rest for the next pass);
    "taken": another sender holds some of the items; "done": sent, refused or given up.
    """
    kind, ids, name = message.kind, list(message.items), channel.name
    to = message.recipients.get(name, ())
    claimed = False

    def claim() -> None:
        nonlocal claimed
        if not store.claim(kind, ids, name, to, message.message_id):
            raise _Taken()  # another sender took some of them: leave all to it
        claimed = True

    try:
        channel.send(message, claim)
    except _Taken:
        return "taken"
    except DeliveryError as exc:
        error = str(exc)
        report.errors.append(error)
        if not claimed:
            why = exc.summary if isinstance(exc, Unreachable) else "server not reached"
            report.held_because.append(why)
            store.hold(kind, ids, name, error)
            report.add(kind, name, "held", len(ids))
            return "unreachable"
        if isinstance(exc, Refused) and exc.delivered:  # a retry would reach some twice
            store.mark_sent(kind, ids, name, error)
            report.add(kind, name, "sent", len(ids))
        else:
            _put_back(store, kind, ids, name, error, report, moment)
        return "done"
    except Exception as exc:  # a channel's own bug must not stop the other channels
        log.exception("channel %s failed on %s", name, message.message_id)
        error = f"{name}: {type(exc).__name__}: {exc}"
        report.errors.append(error)
        if not claimed:
            store.hold(kind, ids, name, error)
            report.add(kind, name, "held", len(ids))
            return "unreachable"
        # Whether it left is unknown: as after a crash, never resent by itself.
        store.put_back(kind, ids, name, f"{error}; {_NOTES[kind]}", lambda _: None)
        report.add(kind, name, "failed", len(ids))
        return "done"
    store.mark_sent(kind, ids, name, None)
    report.add(kind, name, "sent", len(ids))
    return "done"


def _put_back(
    store: Store,
    kind: str,
    ids: list[int],
    name: str,
    error: str,
    report: SendReport,
    moment: str,
) -> None:
    """Refused: back to pending after a backoff, or failed after MAX_ATTEMPTS."""

    def retry_at(attempts: int) -> str | None:
        if attempts >= MAX_ATTEMPTS:
            return None
        return iso_utc(datetime.fromisoformat(moment) + backoff(attempts))

    retrying, failed = store.put_back(kind, ids, name, error, retry_at)
    report.add(kind, name, "retrying", retrying)
    report.add(kind, name, "failed", failed)


def _fail_interrupted(store: Store, kind: str, report: SendReport) -> None:
    ids = store.fail_interrupted(kind, _NOTES[kind])
    if ids:
        report.add(kind, None, "interrupted", len(ids))
        listed = " ".join(str(i) for i in ids)
        report.errors.append(f"{kind}(s) {listed}: {_NOTES[kind]}")


def preview(
    store: Store,
    config: Config,
    alert_ids: Sequence[int] = (),
    *,
    channel: str | None = None,
    now: datetime | None = None,
) -> list[Outgoing]:
    """The messages the given alerts (any state), or every pending one, make on ``channel``
    (default the first enabled), rendered as they would be sent. Writes nothing."""
    name = channel or (config.alerts.channels[0] if config.alerts.channels else "email")
    chosen = AlertFilter(only_ids=tuple(alert_ids)) if alert_ids else AlertFilter()
    with store.filtering(chosen), using_style(style_of(config.alerts, config.path)):
        plan = alert_messages(store, config, name, due_at=None, now=now)
    return [Outgoing(name, message) for message in plan]
