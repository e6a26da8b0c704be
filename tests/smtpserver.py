"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), recording every message it accepts.

Use it from a test module as a pytest plugin::

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from smtpserver import SmtpServer

    pytest_plugins = ["smtpserver"]

    def test_alert_is_sent(smtp_server: SmtpServer) -> None:
        ...  # deliver to smtp_server.url
        assert smtp_server.received[0].message()["Subject"] == ...

Import from this module only for type hints: a runtime import runs before pytest loads
the plugin, and pytest then warns (an error here) that it cannot rewrite its asserts.
Everything a test needs is on the fixtures and on ``SmtpServer``.

Fixtures: ``smtp_server`` (plain), ``smtp_auth_server`` (AUTH PLAIN/LOGIN without TLS),
``smtp_starttls_server`` (STARTTLS required, then AUTH), ``smtps_server`` (implicit TLS +
AUTH), ``smtp_rejecting_server`` (answers 550 for each address in ``server.rejected``),
``smtp_server_factory`` (any other combination; ``echo_auth=True`` answers every AUTH
with a 535 that repeats what the client sent, plain and base64, as careless servers do;
``mechanisms`` limits the AUTH mechanisms offered), ``closed_port`` and ``silent_port``
(nothing answers / nobody ever greets). For a TLS server, ``server.client_context()``
trusts its certificate.

The server serves a socket we bind to port 0 ourselves, so the port is known before the
server starts: no port race, no sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal
from urllib.parse import quote

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
SMTP_USER = "newswatch"
# Characters that must be percent-encoded in a URL, so every test of a URL exercises that.
SMTP_PASSWORD = "s3cret p@ss:word/%"
REJECTED_RECIPIENT = "nobody@example.org"

Tls = Literal["none", "starttls", "implicit"]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    """aiosmtpd handler: keeps accepted messages, refuses chosen recipients with 550."""

    def __init__(self, *, reject: Iterable[str] = (), require_auth: bool = False) -> None:
        self.received: list[ReceivedMail] = []
        self.reject = {address.lower() for address in reject}
        # aiosmtpd's own auth_required=True warns when TLS is not required as well; the
        # handler enforces it instead, so the plain AUTH variant needs no warning filter.
        self.require_auth = require_auth
        self.data_count = 0
        self.hold_at: int | None = None
        self.accept_held = True
        self.reached = threading.Event()  # the held message's DATA has arrived
        self.release = threading.Event()  # set by the test: answer the held DATA

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), content)
        self.data_count += 1
        if self.data_count == self.hold_at:
            # The data is all here and the final reply not sent yet: the window SMTP leaves.
            # A server that already queued it ("kept") delivers it whatever happens next;
            # aiosmtpd cancels this handler when the client goes away, dropping the reply.
            if self.accept_held:
                self.received.append(mail)
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            return "250 2.0.0 Message accepted for delivery" if self.accept_held else "451 4.3.0"
        self.received.append(mail)
        return "250 2.0.0 Message accepted for delivery"


class EchoingAuthHandler(RecordingHandler):
    """Refuses every login with a 535 that repeats the client's AUTH data, base64 and
    decoded: the worst a server can do with credentials in its reply."""

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        blob = args[1] if len(args) > 1 else await _answer(server, "")
        return _echo(blob)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        user = args[1] if len(args) > 1 else await _answer(server, "Username:")
        password = await _answer(server, "Password:")
        return _echo(user, password)

    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        return _echo(await _answer(server, "<1896.697170952@localhost>"))


async def _answer(server: SMTP, challenge: str) -> str:
    """Send a 334 challenge, return the client's answer as it came (base64)."""
    decoded = await server.challenge_auth(challenge)
    assert isinstance(decoded, bytes)
    return base64.b64encode(decoded).decode("ascii")


def _echo(*blobs: str) -> AuthResult:
    shown = " ".join(f"{blob} ({base64.b64decode(blob)!r})" for blob in blobs)
    return AuthResult(
        success=False, handled=False, message=f"535 5.7.8 Authentication failed for {shown}"
    )


@dataclass
class SmtpServer:
    """A running test server: where it listens, how to log in, what it received."""

    port: int
    handler: RecordingHandler
    tls: Tls = "none"
    user: str | None = None
    password: str | None = None
    ca: trustme.CA | None = None
    rejected: tuple[str, ...] = ()
    host: str = HOST

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    @property
    def url(self) -> str:
        """A ``NEWSWATCH_SMTP_URL`` value for this server, credentials percent-encoded."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        login = ""
        if self.user is not None and self.password is not None:
            login = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        query = "?starttls=1" if self.tls == "starttls" else ""
        return f"{scheme}://{login}{self.host}:{self.port}{query}"

    def hold_message(self, number: int, *, accept: bool = True) -> None:
        """Hold the ``number``-th message after its data arrived, before the final reply,
        until ``handler.release`` is set; then keep it (``accept``) or discard it."""
        self.handler.hold_at = number
        self.handler.accept_held = accept

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's certificate."""
        context = ssl.create_default_context()
        if self.ca is not None:
            self.ca.configure_trust(context)
        return context


class _BoundController(Controller):
    """A Controller serving on a socket that is already bound (to port 0).

    aiosmtpd connects to ``self.port`` after starting, to initialise the server, so the
    real port must be known up front; binding first gives it without any race.
    """

    def __init__(self, handler: RecordingHandler, sock: socket.socket, **kwargs: Any) -> None:
        self._sock = sock
        super().__init__(handler, hostname=HOST, port=sock.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


@contextmanager
def run_smtp_server(
    *,
    tls: Tls = "none",
    auth: bool = False,
    reject: Iterable[str] = (),
    ca: trustme.CA | None = None,
    echo_auth: bool = False,
    mechanisms: Iterable[str] | None = None,
) -> Iterator[SmtpServer]:
    """Start an SMTP server on 127.0.0.1 for the duration of the ``with`` block."""
    if tls != "none" and ca is None:
        ca = trustme.CA()
    rejected = tuple(reject)
    auth = auth or echo_auth
    kind = EchoingAuthHandler if echo_auth else RecordingHandler
    handler = kind(reject=rejected, require_auth=auth)
    options = _smtp_options(tls, auth, ca)
    if mechanisms is not None:
        offered = {m.upper() for m in mechanisms}
        options["auth_exclude_mechanism"] = [
            m for m in ("PLAIN", "LOGIN", "CRAM-MD5") if m not in offered
        ]
    with closing(socket.create_server((HOST, 0))) as sock:
        controller = _BoundController(handler, sock, **options)
        controller.start()
        try:
            yield SmtpServer(
                port=controller.port,
                handler=handler,
                tls=tls,
                user=SMTP_USER if auth else None,
                password=SMTP_PASSWORD if auth else None,
                ca=ca,
                rejected=rejected,
            )
        finally:
            handler.release.set()  # a held message must not keep the server from stopping
            controller.stop()


def _smtp_options(tls: Tls, auth: bool, ca: trustme.CA | None) -> dict[str, Any]:
    options: dict[str, Any] = {"server_hostname": "localhost"}  # spares a getfqdn() lookup
    if auth:
        options["authenticator"] = _check_password
        # aiosmtpd offers AUTH only after its own STARTTLS unless told otherwise; the plain
        # variant and implicit TLS (which aiosmtpd does not count as TLS) both need it.
        options["auth_require_tls"] = tls == "starttls"
    if ca is not None and tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST, "localhost").configure_cert(context)
        if tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            options["ssl_context"] = context
    return options


def _check_password(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    """One CA for the whole run: generating keys is the slow part of a TLS server."""
    return trustme.CA()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with run_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    with run_smtp_server(auth=True) as server:
        yield server


@pytest.fixture
def smtp_starttls_server(smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    with run_smtp_server(tls="starttls", auth=True, ca=smtp_ca) as server:
        yield server


@pytest.fixture
def smtps_server(smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    with run_smtp_server(tls="implicit", auth=True, ca=smtp_ca) as server:
        yield server


@pytest.fixture
def smtp_rejecting_server() -> Iterator[SmtpServer]:
    with run_smtp_server(reject=[REJECTED_RECIPIENT]) as server:
        yield server


@pytest.fixture
def smtp_server_factory(smtp_ca: trustme.CA) -> Iterator[Callable[..., SmtpServer]]:
    """``start(tls=..., auth=..., reject=...)`` -> a server stopped when the test ends."""
    with ExitStack() as servers:

        def start(
            *,
            tls: Tls = "none",
            auth: bool = False,
            reject: Iterable[str] = (),
            echo_auth: bool = False,
            mechanisms: Iterable[str] | None = None,
        ) -> SmtpServer:
            return servers.enter_context(
                run_smtp_server(
                    tls=tls,
                    auth=auth,
                    reject=reject,
                    ca=smtp_ca,
                    echo_auth=echo_auth,
                    mechanisms=mechanisms,
                )
            )

        yield start


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections.

    The socket stays bound but never listens, so no other process can take the port
    while the test runs (closing it and reusing the number would race).
    """
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog does) but never greets."""
    with closing(socket.create_server((HOST, 0))) as sock:
        yield sock.getsockname()[1]


__all__ = [
    "REJECTED_RECIPIENT",
    "SMTP_PASSWORD",
    "SMTP_USER",
    "ReceivedMail",
    "RecordingHandler",
    "SmtpServer",
    "closed_port",
    "run_smtp_server",
    "silent_port",
    "smtp_auth_server",
    "smtp_ca",
    "smtp_rejecting_server",
    "smtp_server",
    "smtp_server_factory",
    "smtp_starttls_server",
    "smtps_server",
]
