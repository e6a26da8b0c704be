"""The email channel: a :class:`~pipelines.channels.Message` as a MIME email, handed to an
SMTP server (``NEWSWATCH_SMTP_URL``) or dropped into a Maildir (``[alerts] maildir``).

The standard library's ``email`` package writes the MIME; this module sets the headers so
that what a reader sees is exactly what was composed (see :func:`set_subject` and
:func:`set_addresses` for what Python's own header folder gets wrong).
"""

from __future__ import annotations

import base64
import logging
import mailbox
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path

from pipelines.channels import ChannelSetup, Claim, Message, Refused
from pipelines.channels.smtp import SMTP_URL_ENV, SmtpTransport
from pipelines.errors import ConfigError

log = logging.getLogger(__name__)

# Shown by render_text(): what an operator checks before letting a real send go out.
_SHOWN_HEADERS = ("From", "To", "Date", "Subject", "Message-ID")
# UTF-8 bytes per encoded word of a display name: 45 bytes make 60 base64 characters, and
# with "=?utf-8?b?" and "?=" the 72 that fit a folded header line (RFC 2047 allows 75).
_NAME_CHUNK_BYTES = 45


class MaildirTransport:
    """Delivers into a Maildir: alerts without a mail server, readable by any mail client."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.last_path: Path | None = None  # the file the latest send() wrote

    def __repr__(self) -> str:
        return f"MaildirTransport({str(self.path)!r})"

    def describe(self) -> str:
        """Where mail goes, for a one-line report."""
        return f"Maildir {self.path}"

    def send(self, msg: EmailMessage, before_data: Callable[[], None] | None = None) -> None:
        """Write ``msg`` into the Maildir; ``mailbox`` writes to tmp/ and renames into new/,
        so a crash never leaves half a message for a mail client to read."""
        if before_data is not None:
            before_data()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            key = mailbox.Maildir(self.path, create=True).add(msg)
        except OSError as exc:
            raise Refused(f"Maildir {self.path}: cannot write the message: {exc}") from exc
        self.last_path = self.path / "new" / key
        log.info("delivered %s into %s", msg["Message-ID"], self.last_path)


class EmailChannel:
    """Email: each message rendered as MIME and handed to its transport."""

    def __init__(self, transport: SmtpTransport | MaildirTransport, name: str = "email") -> None:
        self.transport = transport
        self.name = name

    def __repr__(self) -> str:
        return f"EmailChannel({self.name!r}, {self.transport!r})"

    def describe(self) -> str:
        return self.transport.describe()

    def send(self, message: Message, claim: Claim) -> None:
        msg = email_message(message, message.recipients.get(self.name, ()))
        self.transport.send(msg, before_data=claim)


def make_channel(setup: ChannelSetup) -> EmailChannel:
    """The email channel: SMTP when ``NEWSWATCH_SMTP_URL`` is set, else the Maildir.

    Recipients are ``[alerts] to`` and each topic's ``recipients`` (``[health] operator``
    for notices); an email channel enabled under another name takes its own
    ``[channels.<name>] to``.
    """
    config, where = setup.config, setup.where
    known = set() if setup.name == "email" else {"to"}  # "email" is addressed by [alerts] to
    unknown = sorted(set(setup.settings) - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none: [alerts] and the topics say who gets email"
        raise ConfigError(where, f"channels.{setup.name}.{unknown[0]}", f"unknown key ({listed})")
    if setup.name == "email":
        if not config.alerts.to and not all(t.recipients for t in config.topics):
            raise ConfigError(where, "alerts.to", "no recipients: alerts could not be sent")
    elif not setup.settings.get("to"):
        raise ConfigError(where, f"channels.{setup.name}.to", "no recipients for this channel")
    transport = transport_from_env(setup.environ, config.alerts.maildir, config_path=where)
    return EmailChannel(transport, setup.name)


def transport_from_env(
    environ: Mapping[str, str],
    maildir: Path | None,
    *,
    config_path: str = "newswatch.toml",
) -> SmtpTransport | MaildirTransport:
    """SMTP when ``NEWSWATCH_SMTP_URL`` is set, else the configured Maildir.

    Called when alerts are about to be sent, so that commands that send nothing work
    without the secret.
    """
    url = environ.get(SMTP_URL_ENV, "").strip()
    if url:
        return SmtpTransport.from_url(url)
    if maildir is not None:
        return MaildirTransport(maildir)
    raise ConfigError(
        config_path,
        "[alerts] maildir",
        f"not set, and {SMTP_URL_ENV} is not set either: set one of them to deliver alerts",
    )


def email_message(message: Message, to: Sequence[str]) -> EmailMessage:
    """``message`` as an email to ``to``: plain text, plus an HTML alternative when it has one.

    Nothing reaches a header without being checked for linefeeds; a naive date is UTC.
    """
    if not to:
        raise ValueError("an email needs at least one recipient")
    msg = EmailMessage()
    set_subject(msg, message.subject)
    set_addresses(msg, "From", [message.sender])
    set_addresses(msg, "To", to)
    msg["Date"] = format_datetime(_as_utc(message.date))
    msg["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        msg[name] = value
    if message.html is None:
        msg.set_content(message.text, charset="utf-8")
    else:
        msg.set_content(message.text)
        msg.add_alternative(message.html, subtype="html")
    for name, mime, content in message.attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


def render_text(message: EmailMessage) -> str:
    """The main headers and the plain-text part, for ``--dry-run`` to print."""
    lines = [f"{name}: {message[name]}" for name in _SHOWN_HEADERS if message[name] is not None]
    body = message.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    return "\n".join(lines) + "\n\n" + text


def set_subject(msg: EmailMessage, text: str) -> None:
    """Set Subject so that the reader sees exactly ``text``.

    Python 3.11's header folder mangles long subjects: it drops the space where it splits
    a non-ASCII one into encoded words ("وإسرائيل يوقعان" arrives as "وإسرائيليوقعان"),
    and may push an ASCII one to a continuation line that parsers read with a leading
    space. The older ``email.header.Header`` encoder folds both correctly, and
    ``set_raw`` stores its output untouched. A title that itself looks like an encoded
    word ("=?utf-8?q?...?=") is encoded too, or clients would decode it.
    """
    charset = "us-ascii" if text.isascii() and "=?" not in text else "utf-8"
    msg.set_raw("Subject", Header(text, charset, header_name="Subject").encode(linesep="\n"))


def set_addresses(msg: EmailMessage, name: str, addresses: Sequence[str]) -> None:
    """Set From or To so that display names arrive exactly as configured.

    Python 3.11's folder drops the space where it splits a long non-ASCII display name
    between two encoded words ("Israël الإسرائيلية" arrives as "Israëlالإسرائيلية").
    Here every non-ASCII name is encoded whole in base64 words cut after a space, the
    space kept inside the word (RFC 2047 ignores the whitespace *between* encoded words),
    and the address goes on its own line so that no line needs refolding.
    """
    for value in addresses:
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise ValueError(f"{name}: a linefeed or control character in {value!r}")
    parts = []
    for display, address in getaddresses(list(addresses)):
        if not address or "@" not in address:
            raise ValueError(f"{name}: not an email address: {addresses!r}")
        if display.isascii():
            parts.append(formataddr((display, address)))
        else:
            words = "\n ".join(
                f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?="
                for c in _name_chunks(display)
            )
            parts.append(f"{words}\n <{address}>")
    msg.set_raw(name, ",\n ".join(parts))


def _name_chunks(name: str) -> list[str]:
    """Cut a display name into pieces of at most _NAME_CHUNK_BYTES UTF-8 bytes (a space
    included), after a space where possible; a word too long for one piece is cut
    between characters."""
    chunks: list[str] = []
    current = ""
    for word in name.split(" "):
        joined = f"{current} {word}" if current else word
        if len(joined.encode("utf-8")) < _NAME_CHUNK_BYTES:  # room left for a space
            current = joined
            continue
        if current:
            chunks.append(current + " ")
        while len(word.encode("utf-8")) > _NAME_CHUNK_BYTES:
            cut = len(word)
            while len(word[:cut].encode("utf-8")) > _NAME_CHUNK_BYTES:
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        chunks.append(current)
    return chunks


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
