"""Page bytes to text: the charset a page declares, checked against its bytes.

Wrong declarations are common (a UTF-8 page served as ISO-8859-1 by a server default, a
windows-1252 page declared as UTF-8), and each shows in the extracted text as "Ã©" or as
replacement characters; this stage decides once, before anything parses the page.
"""

from __future__ import annotations

import codecs
import logging

import charset_normalizer
from charset_normalizer.md import mess_ratio
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

logger = logging.getLogger(__name__)

# trafilatura refuses larger documents itself (its MAX_FILE_SIZE); we refuse them before
# spending time decoding them. No news article weighs 20 MB.
MAX_HTML_SIZE = 20_000_000

# Codecs in which (nearly) any byte sequence is valid text, so that a wrong declaration
# does not show as a decoding error.
_SINGLE_BYTE_CODECS = ("cp125", "iso8859", "latin", "koi8", "mac-", "cp437", "cp850")
# East Asian multi-byte codecs (Python's names once looked up): a UTF-8 page declared as
# one of them decodes into replacement characters, or "without error" into half-width
# katakana or stray ideographs between the Latin letters ("premiﾃｨre", "premi猫re").
_MULTI_BYTE_CODECS = (
    "shift_jis",
    "cp932",
    "euc_j",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "cp950",
    "euc_kr",
    "cp949",
    "johab",
    "iso2022",
    "hz",
)
# How much of a page the plausibility check reads: enough text, bounded cost.
_SAMPLE_CHARS = 100_000
_BINARY_SAMPLE = 4096
# Control characters that text never holds (tabs, line and form feeds aside) and U+FFFD.
_ODD_CHARS = dict.fromkeys([*(c for c in range(32) if chr(c) not in "\t\n\r\f"), 0xFFFD])


def page_source(html: bytes | str, encoding: str | None = None, url: str = "") -> str | None:
    """The page as text, or None when it is empty or too large to be a page."""
    if not html or len(html) > MAX_HTML_SIZE:
        return None
    text = decode_html(html, encoding, url) if isinstance(html, bytes) else html
    if looks_binary(text):
        logger.warning("%s: not an HTML page (binary content), skipped", url or "page")
        return None
    # lxml refuses NUL characters in str input; no HTML page needs them.
    return text.replace("\x00", "")


def looks_binary(text: str) -> bool:
    """True for an image, archive or other binary body served as HTML: in its first
    ``_BINARY_SAMPLE`` characters, more than 5% are control or undecodable characters
    (text has tabs and line breaks, never those; a few stray ones in a real page pass)."""
    sample = text[:_BINARY_SAMPLE]
    odd = len(sample) - len(sample.translate(_ODD_CHARS))  # counted in C, not per character
    return odd > 0.05 * len(sample)


def _declared_or_guessed(encoding: str | None, data: bytes) -> tuple[str, str]:
    """The HTML5 precedence, with w3lib's readings of each step: the BOM, the server's
    charset, the page's own declaration, then ``guess_codec`` from the bytes, then UTF-8.

    (What w3lib's ``html_to_unicode`` did with a detection function; w3lib 2.6 deprecates
    that function argument for a browser-like guess of its own, and newswatch keeps its
    guess, which the checks of `decode_html` below were measured with.)
    """
    bom_codec, bom = read_bom(data)
    if bom_codec is not None and bom is not None:
        return bom_codec, to_unicode(data[len(bom) :], bom_codec)
    header = f"text/html; charset={encoding}" if encoding else None
    codec = (
        http_content_type_encoding(header) or html_body_declared_encoding(data) or guess_codec(data)
    )
    if codec is None:
        codec = "utf-8"
    elif codec in ("utf-16", "utf-32"):
        codec += "-be"  # declared without its byte order, and no BOM to give it
    return codec, to_unicode(data, codec)


def decode_html(data: bytes, encoding: str | None = None, url: str = "") -> str:
    """Page bytes as text, in the right charset even when the page declares a wrong one.

    `_declared_or_guessed` applies the HTML5 precedence (BOM, then the HTTP header, then
    <meta charset>, then detection). Declarations are then checked against the bytes, as the
    mistakes are common: a UTF-8 page declared as a single-byte charset (often a server
    default of ISO-8859-1) decodes "without error" into "Ã©"; a windows-1252 page
    declared as UTF-8 fails to decode. Valid, non-ASCII UTF-8 is almost never anything
    else, so it wins over a single-byte declaration; undecodable bytes fall back to
    detection. A UTF-8 page declared as a multi-byte East Asian charset (Shift_JIS,
    EUC-JP, GBK, Big5, EUC-KR, ISO-2022-*) is read as UTF-8 when the declared charset
    cannot decode it or reads as more of a mess than UTF-8 does (one warning naming
    ``url`` and both charsets): real text in those charsets is practically never valid
    UTF-8, but a short ASCII-heavy page could be, hence the second check.
    """
    codec, text = _declared_or_guessed(encoding, data)
    codec = _codec_name(codec) or "utf-8"
    if codec.startswith(_SINGLE_BYTE_CODECS) and not data.isascii() and _is_utf8(data):
        return data.decode("utf-8")
    if codec.startswith(_MULTI_BYTE_CODECS) and not data.isascii() and _is_utf8(data):
        utf8 = data.decode("utf-8")
        if _lies(data, codec, text, utf8):
            logger.warning(
                "%s: declared %s but the page is UTF-8; read as UTF-8", url or "page", codec
            )
            return utf8
    if "\ufffd" in text and not _decodes(data, codec):
        guessed = guess_codec(data)
        if guessed and guessed != codec:
            return data.decode(guessed, errors="replace")
    return text


def guess_codec(data: bytes) -> str | None:
    """The charset of undeclared bytes: UTF-8 if they are valid UTF-8, else detected.

    charset-normalizer ranks candidates by "chaos" first, and several single-byte
    charsets tie on a French page (windows-1250 turns "première" into "premičre" with no
    more chaos). Among the candidates as calm as the best one, the text that reads most
    like a language (highest coherence) wins; windows-1252, the web's de facto default,
    wins a tie. "As calm" allows 0.01 of chaos: the spread between such ties, well below
    the gap to a wrong script (0.03 and more on the French fixture).
    """
    if _is_utf8(data):
        return "utf-8"
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    calmest = min(match.chaos for match in matches)
    calm = [match for match in matches if match.chaos <= calmest + 0.01]
    best = max(calm, key=lambda match: (match.coherence, match.encoding == "cp1252"))
    return _codec_name(best.encoding)


def _lies(data: bytes, codec: str, declared: str, utf8: str) -> bool:
    """True when valid UTF-8 ``data`` is not really in the declared multi-byte ``codec``."""
    if not _decodes(data, codec):
        return True
    sample = slice(0, _SAMPLE_CHARS)
    return bool(mess_ratio(declared[sample], 1.0) > mess_ratio(utf8[sample], 1.0))


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_utf8(data: bytes) -> bool:
    return _decodes(data, "utf-8")


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
