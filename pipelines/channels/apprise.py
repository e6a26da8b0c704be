"""The Apprise channel: chat and push services (Slack, Teams, Telegram, Matrix, ntfy, generic
JSON webhooks...) through `Apprise <https://github.com/caronc/apprise>`_ URLs.

Apprise URLs carry their service's secret (a token, a webhook path), so they come from the
environment (``$NEWSWATCH_APPRISE_URLS``, or the variable ``[channels.<name>] urls_env``
names) or from a file only its owner can read (``urls_file``), never from the config file
itself. Messages take their short chat form (:attr:`Message.chat`).

Exactly once: for the plain HTTP services (``json://``, ``xml://``, ``form://`` and their
``s`` forms) the channel first opens a TCP connection to the server, and only then calls
``claim()``: a server that is down costs no attempt. For the other services the claim comes
right before the request. A request the service refuses is retried with the outbox's
backoff. The window no client can close: the service accepted the POST but its reply was
lost (a timeout): the attempt counts as refused and the retry may post it a second time.
A crash between the claim and the reply leaves the message ``sending``: never resent.
"""

from __future__ import annotations

import re
import socket
import stat
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import apprise

from pipelines.channels import ChannelSetup, Claim, Message, PartlyDelivered, Refused, Unreachable
from pipelines.errors import ConfigError

URLS_ENV = "NEWSWATCH_APPRISE_URLS"
_KNOWN = {"urls_env", "urls_file"}
_PROBED = {"json", "jsons", "xml", "xmls", "form", "forms"}
_PROBE_TIMEOUT = 10.0
_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")


class AppriseChannel:
    """Delivers each message to every URL of the channel (one Apprise service each)."""

    def __init__(self, name: str, services: Sequence[Any]) -> None:
        self.name = name
        self.services = list(services)

    def __repr__(self) -> str:
        return f"AppriseChannel({self.name!r}, {len(self.services)} URL(s))"

    def describe(self) -> str:
        kinds = ", ".join(dict.fromkeys(str(s.service_name) for s in self.services))
        return f"Apprise {self.name} ({kinds}, {len(self.services)} URL(s))"

    def send(self, message: Message, claim: Claim) -> None:
        for service in self.services:
            _probe(service)  # a server that cannot be reached: nothing is charged
        claim()
        body = message.chat or f"{message.subject}\n\n{message.text}"
        title = message.subject if message.chat is None else ""
        failed: list[str] = []
        for number, service in enumerate(self.services):
            with apprise.LogCapture(level=apprise.logging.WARNING) as logs:  # type: ignore[no-untyped-call]
                ok = service.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
            if not ok:
                why = " ".join(str(logs.getvalue()).split())[-300:] or "refused"
                failed.append(f"{self.name} URL {number + 1} ({service.service_name}): {why}")
        if failed and len(failed) < len(self.services):
            raise PartlyDelivered("; ".join(failed))
        if failed:
            raise Refused("; ".join(failed))


def _probe(service: Any) -> None:
    """Connect to a plain HTTP service's server (and close): Unreachable when it is down."""
    schema = str(getattr(service, "secure_protocol", "") if service.secure else "")
    schema = schema or str(getattr(service, "protocol", ""))
    if schema not in _PROBED or not getattr(service, "host", None):
        return
    port = service.port or (443 if service.secure else 80)
    try:
        socket.create_connection((service.host, port), timeout=_PROBE_TIMEOUT).close()
    except OSError as exc:
        where = f"{service.host}:{port}"
        raise Unreachable(
            f"{service.service_name} {where}: {exc}", summary=f"{where} not reached"
        ) from exc


def read_urls(setup: ChannelSetup) -> tuple[list[str], str]:
    """The channel's URLs and where they came from (a variable or a file, for errors)."""
    settings, key = setup.settings, f"channels.{setup.name}"
    if "urls" in settings:
        raise ConfigError(
            setup.where,
            f"{key}.urls",
            "Apprise URLs carry secrets: put them in the environment"
            f" (${URLS_ENV}, or urls_env) or in a file (urls_file), not in the config",
        )
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        known = ", ".join(sorted(_KNOWN))
        raise ConfigError(setup.where, f"{key}.{unknown[0]}", f"unknown key (known: {known})")
    if "urls_file" in settings:
        return _urls_file(setup, settings["urls_file"], f"{key}.urls_file")
    env = settings.get("urls_env", URLS_ENV)
    if not isinstance(env, str) or not env.isidentifier():
        raise ConfigError(setup.where, f"{key}.urls_env", "must name an environment variable")
    text = setup.environ.get(env, "").strip()
    if not text:
        raise ConfigError(setup.where, key, f"${env} is not set: no Apprise URL to send to")
    return [u for u in _SPLIT.split(text) if u.strip(" ,")], f"${env}"


def _urls_file(setup: ChannelSetup, value: object, key: str) -> tuple[list[str], str]:
    if not isinstance(value, str) or not value:
        raise ConfigError(setup.where, key, "must be a file path")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path(setup.where).parent / path
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                setup.where,
                key,
                f"{path} can be read by others (mode {stat.S_IMODE(mode):o}): chmod 600 it",
            )
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(setup.where, key, f"cannot read {path}: {exc}") from None
    urls = [u for line in lines if (u := line.strip()) and not u.startswith("#")]
    if not urls:
        raise ConfigError(setup.where, key, f"{path} holds no Apprise URL")
    return urls, str(path)


def make_channel(setup: ChannelSetup) -> AppriseChannel:
    """An Apprise channel from ``$NEWSWATCH_APPRISE_URLS`` (or ``urls_env`` / ``urls_file``)."""
    urls, origin = read_urls(setup)
    services = []
    for number, url in enumerate(urls, start=1):
        with warnings.catch_warnings():  # Apprise's plugins load here; one imports imghdr
            warnings.simplefilter("ignore", DeprecationWarning)
            service = apprise.Apprise.instantiate(url.strip(" ,"))
        if service is None:  # the URL itself is a secret: name its scheme only
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise ConfigError(
                setup.where,
                f"channels.{setup.name}",
                f"URL {number} of {origin} ({scheme}://...) is not an Apprise URL Apprise knows",
            )
        services.append(service)
    return AppriseChannel(setup.name, services)
