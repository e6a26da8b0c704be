"""Channels: where the outbox's messages go (email over SMTP or into a Maildir, a webhook...).

The outbox (:mod:`pipelines.outbox`) writes neutral :class:`Message` objects and hands each
to every channel enabled by ``[alerts] channels``. A channel is found by its name:

- a module ``pipelines/channels/<name>.py`` with a ``make_channel(setup)`` function, or
- any importable factory named in the configuration, as Scrapy and Datasette name their
  plugins: ``[channels.<name>] factory = "package.module:function"``.

So a new channel is one module plus configuration. Its own settings are the rest of its
``[channels.<name>]`` table (:attr:`ChannelSetup.settings`); secrets come from the
environment only (:attr:`ChannelSetup.environ`), read when the channel is built, never at
import, so commands that send nothing work without them.

Exactly once: a channel calls ``claim()`` once it is ready to deliver (connected, logged
in), right before the step that cannot be taken back. The outbox commits ``sending`` there.
An error raised before ``claim()`` costs the message nothing (the destination was not
reached); after it, :class:`Refused` puts the message back with a backoff, and a
``Refused`` with ``delivered=True`` records a partial delivery (a retry would reach the
others twice).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from pipelines.errors import ConfigError, DeliveryError

if TYPE_CHECKING:
    from pipelines.config import Config

Claim = Callable[[], None]


def _auto_submitted() -> dict[str, str]:
    # RFC 3834: tells vacation responders and ticket systems not to answer a message.
    return {"Auto-Submitted": "auto-generated"}


@dataclass(frozen=True)
class Message:
    """What one delivery says, whatever carries it.

    ``recipients`` maps a channel name to whom that channel delivers the message; a channel
    that is absent delivers to its own configured destination (a webhook's URL).
    ``message_id`` is stable: a resend of the same items repeats it, so a mail client or a
    webhook receiver can merge the copies.
    """

    kind: str  # "alert" | "notice": which outbox the items come from
    items: tuple[int, ...]  # ids of the alerts (or notices) the message carries
    subject: str  # one line, no control characters
    text: str  # complete on its own
    html: str | None  # the same content as HTML (every value escaped), or None
    sender: str  # [alerts] from
    recipients: Mapping[str, tuple[str, ...]]
    message_id: str  # "<...@domain>"
    date: datetime
    headers: Mapping[str, str] = field(default_factory=_auto_submitted)
    chat: str | None = None  # the short form for chat channels (title, outlet, link, why)
    # Files carried by channels that can (email): (file name, MIME type, content).
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class Channel(Protocol):
    """Anything that can deliver a :class:`Message`."""

    name: str

    def describe(self) -> str:
        """Where messages go, for a one-line report (``SMTP host:587 (STARTTLS)``)."""
        ...

    def send(self, message: Message, claim: Claim) -> None:
        """Deliver ``message``, calling ``claim()`` once, right before the irreversible step.

        Raises :class:`DeliveryError`: before ``claim()``, the destination was not reached
        (:class:`Unreachable`); after it, :class:`Refused` (``delivered`` says whether some
        recipients got it all the same). ``claim()`` itself may raise: the message is then
        not to be delivered by this sender, and the channel lets the error through.
        """
        ...


class Unreachable(DeliveryError):
    """The destination could not be reached (or refused our login): nothing was delivered
    and nothing is charged to the message.

    ``summary`` says why in a few words for a report line (``server not reached``,
    ``login refused by HOST:PORT (535 5.7.8)``).
    """

    def __init__(self, problem: str, *, summary: str = "server not reached") -> None:
        super().__init__(problem)
        self.summary = summary


class Refused(DeliveryError):
    """The destination refused the message after it was claimed.

    ``delivered``: some recipients got it all the same, so a retry would reach them twice.
    """

    def __init__(self, problem: str, *, delivered: bool = False) -> None:
        super().__init__(problem)
        self.delivered = delivered


class PartlyDelivered(Refused):
    """Some recipients got the message, some refused it: recorded as sent, not retried."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem, delivered=True)


@dataclass(frozen=True)
class ChannelSetup:
    """What a channel factory receives."""

    name: str  # as enabled in [alerts] channels
    settings: Mapping[str, Any]  # its [channels.<name>] table, without "factory"
    config: Config
    environ: Mapping[str, str]  # secrets come from here, and only from here

    @property
    def where(self) -> str:
        return str(self.config.path)


ChannelFactory = Callable[[ChannelSetup], Channel]


def open_channels(config: Config, environ: Mapping[str, str]) -> list[Channel]:
    """Build every channel ``[alerts] channels`` enables, in order; a ConfigError names
    the key when one cannot be found or built."""
    names = config.alerts.channels
    for number, name in enumerate(names):
        if name in names[:number]:  # one state per (item, channel): a name is one channel
            raise ConfigError(str(config.path), "alerts.channels", f"{name!r} is listed twice")
    channels = []
    for name in names:
        settings = dict(config.channels.get(name, {}))
        factory = find_factory(name, settings.pop("factory", None), str(config.path))
        channels.append(factory(ChannelSetup(name, settings, config, environ)))
    return channels


def find_factory(name: str, spec: object, where: str) -> ChannelFactory:
    """The factory of channel ``name``: ``spec`` ("package.module:function") when given,
    else ``make_channel`` of ``pipelines.channels.<name>``."""
    if spec is None:
        module_name, attr, key = f"{__name__}.{name}", "make_channel", "alerts.channels"
    elif isinstance(spec, str) and spec.count(":") == 1 and all(spec.split(":")):
        module_name, attr = spec.split(":")
        key = f"channels.{name}.factory"
    else:
        raise ConfigError(where, f"channels.{name}.factory", "expected 'package.module:function'")
    if not name.isidentifier() and spec is None:
        raise ConfigError(where, key, f"no channel named {name!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            problem = f"no channel named {name!r} (no module {module_name})"
            raise ConfigError(where, key, problem) from None
        raise
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(where, key, f"{module_name} has no function {attr!r}")
    return cast(ChannelFactory, factory)
