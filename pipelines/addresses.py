"""Email addresses as newswatch accepts them, checked the same way everywhere.

The configuration (``[alerts]``, ``[health]``, a topic's ``recipients``) checks an address
when it is loaded, and the outbox derives a Message-ID's domain from the sender; both use
this module, so loading a config never imports the code that sends.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import getaddresses

_DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")


def address_domain(value: str) -> str | None:
    """The domain (ASCII, lower case) of one address, bare or as ``Name <address>``; None
    for anything else: no local part or domain, two addresses, a linefeed."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return None
    found = getaddresses([value])
    if len(found) != 1:
        return None
    local, at, domain = found[0][1].rpartition("@")
    if not local or not at or any(ch.isspace() for ch in local):
        return None
    try:
        domain = domain.strip().lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not _DOMAIN_RE.fullmatch(domain):
        return None
    return domain


def sender_domain(sender: str) -> str:
    """The sender's domain, which RFC 5322 suggests as the right-hand side of a Message-ID."""
    domain = address_domain(sender)
    if domain is None:
        raise ValueError(f"sender is not an email address with a domain: {sender!r}")
    return domain
