"""Per-page work Scrapy does for nothing is skipped, and only that: the DEBUG lines of each
page at a higher log level, and decoding a page to look for a meta refresh it lacks."""

from __future__ import annotations

import logging

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler import settings as project_module
from crawler.logformatter import QuietLogFormatter
from crawler.redirects import REFRESH_WINDOW, MetaRefreshCheck, may_refresh, text_end

PROJECT = {k: getattr(project_module, k) for k in dir(project_module) if k.isupper()}


def response(
    body: bytes, encoding: str = "utf-8", url: str = "https://s.example/a"
) -> HtmlResponse:
    return HtmlResponse(url=url, body=body, encoding=encoding, request=Request(url))


def test_page_lines_are_built_only_when_debug_shows_them() -> None:
    request = Request("https://s.example/a")
    page = response(b"<html></html>")
    quiet = QuietLogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "INFO"}))
    assert quiet.crawled(request, page, None) is None
    assert quiet.scraped({"a": 1}, page, None) is None
    loud = QuietLogFormatter.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "DEBUG"}))
    crawled = loud.crawled(request, page, None)
    assert crawled is not None and crawled["level"] == logging.DEBUG
    assert loud.scraped({"a": 1}, page, None) is not None
    assert (
        get_crawler(settings_dict=PROJECT).settings["LOG_FORMATTER"].endswith("QuietLogFormatter")
    )


def middleware() -> MetaRefreshCheck:
    return MetaRefreshCheck.from_crawler(get_crawler(settings_dict=PROJECT))


def test_a_page_without_refresh_is_passed_on_untouched_and_undecoded() -> None:
    page = response("<html><head><title>Défense</title></head><p>x</p></html>".encode())
    assert middleware().process_response(Request(page.url), page) is page
    assert getattr(page, "_cached_ubody", None) is None  # never decoded


def test_a_meta_refresh_still_redirects_in_any_case_and_in_utf16() -> None:
    html = '<html><head><META HTTP-EQUIV="Refresh" content="0; url=/b"></head></html>'
    for body, encoding in ((html.encode(), "utf-8"), (html.encode("utf-16-le"), "utf-16-le")):
        page = response(body, encoding)
        out = middleware().process_response(Request(page.url), page)
        assert isinstance(out, Request) and out.url == "https://s.example/b", encoding


def test_refresh_in_a_script_is_not_a_meta_refresh() -> None:
    """ "refresh" in a script or a text is no reason to decode the page; a meta refresh in
    any case, with other attributes between, is."""
    assert not may_refresh(b"<script>ads.refresh()</script><p>Refresh rate</p>")
    assert not may_refresh(b'<meta http-equiv="content-type" content="text/html"> refresh')
    assert may_refresh(b'<META name=x HTTP-EQUIV = "Refresh" content="5">')
    assert may_refresh(b"<meta http-equiv=refresh content='0;url=/b'>")


def test_only_the_text_scrapy_reads_is_searched_for_a_refresh() -> None:
    """Scrapy reads a meta refresh from the first 4,096 characters only: one further down
    redirects neither with Scrapy's middleware nor with newswatch's, and one just inside
    them, after 4,000 four-byte characters, is still found."""
    tag = '<meta http-equiv="refresh" content="0; url=/b">'
    late = f"<html><head><title>x</title></head><body>{'é' * 9000}{tag}</body></html>"
    page = response(late.encode())
    assert (
        MetaRefreshMiddleware.from_crawler(get_crawler()).process_response(Request(page.url), page)
        is page
    )
    assert middleware().process_response(Request(page.url), page) is page
    early = f"<html><head><title>{'𝕏' * 4000}</title>{tag}</head></html>"
    page = response(early.encode())
    assert len(early.encode()) > 16_000
    out = middleware().process_response(Request(page.url), page)
    assert isinstance(out, Request) and out.url == "https://s.example/b"


def test_a_page_that_reloads_itself_is_decoded_only_where_scrapy_looks() -> None:
    """A news page that asks to be reloaded every few minutes redirects nowhere; only the
    head of its body is decoded to find that out, not the whole page, whose text its
    response would keep while the page waits for extraction."""
    html = (
        '<html><head><meta http-equiv="refresh" content="300"><title>Actualité</title>'
        f"</head><body>{'<p>Défense, coopération 🛡</p>' * 20000}</body></html>"
    )
    page = response(html.encode())
    assert len(page.body) > 500_000
    assert middleware().process_response(Request(page.url), page) is page
    assert getattr(page, "_cached_ubody", None) is None  # never decoded


# Scrapy's own guess of an undeclared charset calls w3lib in a way w3lib now warns about.
@pytest.mark.filterwarnings("ignore:The default_encoding and auto_detect_fun")
def test_the_decoded_head_splits_no_character() -> None:
    """A body with no declared charset is read as UTF-8 only if it decodes as UTF-8: its
    head is cut between characters, so a redirect further in is still read right."""
    head = '<html><head><meta http-equiv="refresh" content="0; url=/café"><!--'
    head += "x" * ((REFRESH_WINDOW - len(head.encode()) - 1) % 2)  # the window ends in an "é"
    body = (head + "é" * REFRESH_WINDOW + "--></head></html>").encode()
    assert body[REFRESH_WINDOW] & 0xC0 == 0x80  # a cut at the window would split one
    end = text_end(body, REFRESH_WINDOW)
    assert REFRESH_WINDOW - 1 <= end < REFRESH_WINDOW
    body[:end].decode("utf-8")  # raises if a character was split
    page = HtmlResponse(
        url="https://s.example/a", body=body, request=Request("https://s.example/a")
    )
    out = middleware().process_response(Request(page.url), page)
    assert isinstance(out, Request) and out.url == "https://s.example/caf%C3%A9"
    assert getattr(page, "_cached_ubody", None) is None  # not decoded whole to guess it
    assert text_end(b"short", REFRESH_WINDOW) == 5


def test_the_head_is_read_in_the_charset_the_page_declares() -> None:
    # Guessed rather than read, windows-1256 would be taken for windows-1252.
    html = '<html><head><meta http-equiv="refresh" content="0; url=/دفاع"></head>'
    body = (html + "<p>دفاع</p>" * 10_000 + "</html>").encode("windows-1256")
    page = HtmlResponse(
        url="https://s.example/a",
        body=body,
        headers={"Content-Type": "text/html; charset=windows-1256"},
        request=Request("https://s.example/a"),
    )
    out = middleware().process_response(Request(page.url), page)
    assert isinstance(out, Request)
    assert out.url == "https://s.example/%D8%AF%D9%81%D8%A7%D8%B9"
    assert getattr(page, "_cached_ubody", None) is None


def test_no_crawl_opens_scrapys_remote_control() -> None:
    """Scrapy's remote control runs code sent to a port of each crawl and writes its token
    to disk; a newswatch crawl has it off."""
    assert not get_crawler(settings_dict=PROJECT).settings.getbool("REMOTE_CONTROL_ENABLED")
