"""Handing emails to an SMTP server: ``NEWSWATCH_SMTP_URL``, its session, its errors.

The SMTP password lives in ``NEWSWATCH_SMTP_URL`` and is read only when a channel is
built (never at import), and no error message, repr or log line ever contains it, in any
form. Secrets are kept out by structure, not by searching and replacing words:

- the server's reply to AUTH (which some servers fill with what they were sent: the
  base64 AUTH PLAIN blob, the AUTH LOGIN password, the CRAM-MD5 answer) is never shown,
  only its codes (``login refused by HOST:PORT (535 5.7.8)``);
- any other reply is shown unless it contains the password in a form a session or a URL
  carries it (plain, percent-encoded, base64 alone or in the AUTH PLAIN blob); then its
  text is withheld whole, so a password that is an ordinary word ("server") neither
  garbles a message nor shows where it stood;
- newswatch's own words are never rewritten, and the smtplib exception (which holds the
  raw reply) is not chained to the error a user sees.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import NoReturn
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from pipelines.channels import Refused, Unreachable
from pipelines.errors import ConfigError

log = logging.getLogger(__name__)

SMTP_URL_ENV = "NEWSWATCH_SMTP_URL"
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
DEFAULT_TIMEOUT = 30.0
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# An enhanced status code (RFC 3463) opening a reply: "5.7.8".
_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
WITHHELD = "(reply text withheld: it repeats the credentials)"


@dataclass(frozen=True, repr=False)
class SmtpSettings:
    """Where and how to reach the SMTP server; built by :func:`parse_smtp_url`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False  # smtps://: TLS from the first byte (port 465)
    starttls: bool = False  # smtp://...?starttls=1: upgrade a plain connection (port 587)
    timeout: float = DEFAULT_TIMEOUT
    verify_tls: bool = True  # ?verify_tls=0 only for a relay with a self-signed certificate

    @property
    def address(self) -> str:
        """``host:port`` as errors show it (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        secret = "'***'" if self.password is not None else "None"
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={secret}, implicit_tls={self.implicit_tls}, starttls={self.starttls}, "
            f"timeout={self.timeout}, verify_tls={self.verify_tls})"
        )


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read ``smtp://[user:pass@]host[:port][?starttls=1&timeout=10]`` or ``smtps://...``.

    User and password are percent-decoded. Errors name what is wrong but never repeat the
    URL, since it holds the password.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        username, password, host = parts.username, parts.password, parts.hostname
    except ValueError:
        # urllib's own message may quote the netloc, password included.
        _bad_url("not a valid URL (expected smtp://user:pass@host:port)")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        _bad_url(f"scheme must be smtp:// or smtps://, not {scheme + '://' if scheme else 'none'}")
    if not host:
        _bad_url("no host name")
    if port == 0:
        _bad_url("port 0 is not a port to connect to")
    if parts.path not in ("", "/") or parts.fragment:
        _bad_url("unexpected path or fragment after the host")
    user, secret = _credentials(username, password)
    options = _options(parts.query)
    if scheme == "smtps" and options["starttls"]:
        _bad_url("smtps:// already uses TLS; starttls=1 applies to smtp:// only")
    return SmtpSettings(
        host=host,
        port=DEFAULT_PORTS[scheme] if port is None else port,
        username=user,
        password=secret,
        implicit_tls=scheme == "smtps",
        starttls=bool(options["starttls"]),
        timeout=float(options["timeout"]),
        verify_tls=bool(options["verify_tls"]),
    )


def _credentials(username: str | None, password: str | None) -> tuple[str | None, str | None]:
    if username is None and password is None:
        return None, None
    if not username:
        _bad_url("a password is given without a user name")
    if password is None:
        _bad_url(f"user {unquote(username)!r} is given without a password")
    user, secret = unquote(username), unquote(password)
    if not (user.isascii() and secret.isascii()):
        # smtplib encodes AUTH credentials as ASCII; better to fail here than at send time.
        _bad_url("user name and password must be ASCII (percent-encoded ASCII is fine)")
    return user, secret


def _options(query: str) -> dict[str, float | bool]:
    options: dict[str, float | bool] = {
        "starttls": False,
        "timeout": DEFAULT_TIMEOUT,
        "verify_tls": True,
    }
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in ("starttls", "verify_tls"):
            options[key] = _flag(key, value)
        elif key == "timeout":
            options[key] = _seconds(value)
        else:
            _bad_url(f"unknown option {key!r} (known: starttls, timeout, verify_tls)")
    return options


def _flag(key: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    _bad_url(f"{key} must be 1 or 0, not {value!r}")


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        _bad_url(f"timeout must be a number of seconds between 0 and 3600, not {value!r}")
    return seconds


def _bad_url(problem: str) -> NoReturn:
    raise ConfigError(SMTP_URL_ENV, SMTP_URL_ENV, problem)


class SmtpTransport:
    """Sends each message over its own SMTP connection.

    Alerts go out a few per pass, so a fresh connection per message costs nothing worth
    saving and leaves no half-dead session between passes.
    """

    def __init__(self, settings: SmtpSettings, *, context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._context = context  # tests pass one that trusts their own CA

    @classmethod
    def from_url(cls, url: str, *, context: ssl.SSLContext | None = None) -> SmtpTransport:
        return cls(parse_smtp_url(url), context=context)

    def __repr__(self) -> str:
        return f"SmtpTransport({self.settings!r})"

    def describe(self) -> str:
        """Where mail goes, for a one-line report (``sent via SMTP host:587 (STARTTLS)``)."""
        s = self.settings
        security = "TLS" if s.implicit_tls else "STARTTLS" if s.starttls else "no TLS"
        user = f", as {s.username}" if s.username else ""
        return f"SMTP {s.address} ({security}{user})"

    def send(self, msg: EmailMessage, before_data: Callable[[], None] | None = None) -> None:
        """Deliver ``msg`` to every recipient in its headers, or raise DeliveryError.

        ``before_data`` runs once the session is up (connected, greeted, TLS, logged in),
        right before MAIL FROM / RCPT TO / DATA: the outbox commits 'sending' there, so a
        server that cannot be reached never leaves a row in doubt. Errors before it are
        :class:`Unreachable`, after it :class:`Refused`.
        """
        with self._session() as smtp:
            if before_data is not None:
                before_data()
            with self._step("sending the message", claimed=True):
                refused = smtp.send_message(msg)
        if refused:
            # smtplib returns (rather than raises) when some recipients were accepted.
            raise RecipientsRefused(
                self.settings.address, refused, delivered=True, secrets=_secret_forms(self.settings)
            )
        log.info("sent %s via SMTP %s", msg["Message-ID"], self.settings.address)

    def check(self) -> None:
        """Connect, greet, STARTTLS and log in as a real send would, then quit."""
        with self._session():
            pass

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        with self._step("connecting"):
            smtp = self._connect()
        try:
            self._greet(smtp)
            yield smtp
            _quit_quietly(smtp)
        finally:
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.implicit_tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls())
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout)

    def _greet(self, smtp: smtplib.SMTP) -> None:
        s = self.settings
        with self._step("EHLO"):
            smtp.ehlo()
        if s.starttls:
            with self._step("STARTTLS"):
                smtp.starttls(context=self._tls())
                smtp.ehlo()
        if s.username is not None and s.password is not None:
            with self._step(f"login as {s.username!r}"):
                smtp.login(s.username, s.password)

    def _tls(self) -> ssl.SSLContext:
        if self._context is not None:
            return self._context
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    @contextmanager
    def _step(self, what: str, *, claimed: bool = False) -> Iterator[None]:
        """Turn whatever smtplib, ssl or the socket raised into one readable DeliveryError:
        :class:`Unreachable` while the session is set up, :class:`Refused` once claimed."""
        s = self.settings
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            # Not chained (here and below): smtplib's exception holds the raw reply.
            raise RecipientsRefused(
                s.address, exc.recipients, delivered=False, secrets=_secret_forms(s)
            ) from None
        except smtplib.SMTPResponseException as exc:
            if what.startswith("login"):
                raise _login_refused(s, exc) from None
            problem = f"SMTP {s.address}: {what} failed: {_reason(exc, s)}"
            raise (Refused(problem) if claimed else Unreachable(problem)) from None
        except OSError as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors too
            problem = f"SMTP {s.address}: {what} failed: {_reason(exc, s)}"
            raise (Refused(problem) if claimed else Unreachable(problem)) from None


class RecipientsRefused(Refused):
    """The server refused some or all recipients.

    ``delivered`` tells whether anybody got the message, so the caller can decide between
    retrying and recording a partial delivery (a retry would reach the others twice).
    """

    def __init__(
        self,
        address: str,
        refused: Mapping[str, tuple[int, bytes]],
        *,
        delivered: bool,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.refused = {
            rcpt: (code, _shown(_text(reply), secrets)) for rcpt, (code, reply) in refused.items()
        }
        listed = "; ".join(
            f"{rcpt} ({code} {reply})" for rcpt, (code, reply) in self.refused.items()
        )
        outcome = "delivered to the other recipients" if delivered else "nothing delivered"
        problem = f"SMTP {address}: recipient refused: {listed}; {outcome}"
        super().__init__(problem, delivered=delivered)


def _reason(exc: OSError, settings: SmtpSettings) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):
        exc = exc.__context__  # smtplib reports a silent server as a disconnection
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, is the port right?)"
    if isinstance(exc, TimeoutError):
        return f"no answer within {settings.timeout:g} s (timeout)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    secrets = _secret_forms(settings)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused: {_reply(exc, secrets)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"not supported by the server: {_shown(str(exc), secrets)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc, secrets)
    return _shown(str(exc), secrets) or type(exc).__name__


def _reply(exc: smtplib.SMTPResponseException, secrets: tuple[str, ...]) -> str:
    return f"{exc.smtp_code} {_shown(_text(exc.smtp_error), secrets)}"


def _login_refused(settings: SmtpSettings, exc: smtplib.SMTPResponseException) -> Unreachable:
    """The server answered our AUTH with an error: its codes, never its text."""
    codes = str(exc.smtp_code)
    enhanced = _ENHANCED.match(_text(exc.smtp_error).strip())
    if enhanced:
        codes += f" {enhanced.group()}"
    summary = f"login refused by {settings.address} ({codes})"
    hint = (
        "authentication failed: wrong user name or password in " + SMTP_URL_ENV
        if exc.smtp_code == 535
        else "the server's reply to AUTH is not shown, as it may repeat the credentials"
    )
    problem = f"SMTP {settings.address}: login as {settings.username!r} refused ({codes}): {hint}"
    return Unreachable(problem, summary=summary)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _secret_forms(settings: SmtpSettings) -> tuple[str, ...]:
    """The password as a session or a URL carries it: plain, percent-encoded, base64 alone
    (AUTH LOGIN) and in the AUTH PLAIN blob (with and without padding)."""
    password, user = settings.password, settings.username or ""
    if not password:
        return ()
    encoded = [
        base64.b64encode(raw.encode("utf-8")).decode("ascii")
        for raw in (password, f"\0{user}\0{password}", f"{user}\0{password}")
    ]
    forms = {password, quote(password, safe=""), quote(password), quote_plus(password)}
    forms.update(encoded)
    forms.update(form.rstrip("=") for form in encoded)
    return tuple(sorted(form for form in forms if form))


def _shown(text: str, secrets: tuple[str, ...]) -> str:
    """Text that came from the server, or the notice that it is withheld: whole, never
    edited, so a password that is an ordinary word garbles and reveals nothing."""
    folded = text.casefold()
    if any(secret.casefold() in folded for secret in secrets):
        return WITHHELD
    return text


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT, ignoring failures: the message was already accepted, and raising here would
    make the caller resend it."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        log.debug("QUIT failed after a successful exchange; ignored", exc_info=True)


def check_smtp(settings: SmtpSettings, *, context: ssl.SSLContext | None = None) -> None:
    """Prove the SMTP settings work (connect, EHLO, STARTTLS, login, QUIT) without sending."""
    SmtpTransport(settings, context=context).check()
