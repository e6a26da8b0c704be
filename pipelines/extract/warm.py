"""Imported by the extraction pool's forkserver (pipelines/pool.py), never by newswatch itself.

What a worker would otherwise build on its first pages is built here once, before any
worker is forked from the forkserver; the workers share it (copy-on-write):

- the language model;
- what the extraction loads or builds on first use, by extracting an article page of this
  module as a site reached by its address would serve it: courlan's public-suffix list,
  read for such a site (~50 ms), the character class of combining marks the dedup
  fingerprint strips (~20 ms), the first date parse's module.

A worker that started cold paid that on its first page, while the crawl ramped up and the
pages waited for it. Nothing here is needed: a warm-up that fails leaves that work to the
first page, as before. The fallbacks' first run is not warmed: jusText's stop lists for
every language (~34 MB) would stay in every worker, and most passes never need them.
"""

from __future__ import annotations

from pipelines.extract.metadata import release_model, warm_up

_PARAGRAPHS = (
    "The town council voted on Tuesday evening to keep the central library open until nine"
    " o'clock on weekdays from the first of next month, two hours later than now.",
    "The change follows a consultation in which residents asked for study space after work"
    " and school; the reading rooms on the first floor will stay open, the archive will not.",
    "Two librarians will be hired for the evening shifts, paid from the culture budget that"
    " the council approved in the spring, the deputy mayor told the meeting.",
    "The library's café, run by a local association, will close at seven as before. A trial"
    " of the longer hours will be reviewed after six months, with visitor counts published.",
    "Opposition councillors supported the plan but asked for the weekend hours to be looked"
    " at as well; the deputy mayor said a second consultation would start in the autumn.",
)

WARM_URL = "http://127.0.0.1:8080/local/2026/03/library-hours.html"

ARTICLE_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Central library to stay open later on weekdays | Riverside Courier</title>
<meta property="og:title" content="Central library to stay open later on weekdays">
<meta property="og:site_name" content="Riverside Courier">
<meta property="article:published_time" content="2026-03-10T18:30:00+00:00">
<meta name="description" content="Evening hours until nine from next month.">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "Central library to stay open later on weekdays",
"datePublished": "2026-03-10T18:30:00+00:00",
"author": {{"@type": "Person", "name": "Sam Carter"}}}}</script>
</head><body>
<div class="cookie-consent" id="consent"><p>We use cookies.</p><button>Accept</button></div>
<header class="site-header"><nav class="main-nav"><ul><li><a href="/">Home</a></li>
<li><a href="/local/">Local</a></li><li><a href="/sport/">Sport</a></li></ul></nav></header>
<main><article class="post">
<h1>Central library to stay open later on weekdays</h1>
<p class="byline">By <span class="author">Sam Carter</span>,
<time datetime="2026-03-10T18:30:00+00:00">10 March 2026</time></p>
<div class="article-body">{"".join(f"<p>{p}</p>" for p in _PARAGRAPHS)}</div>
<div class="share-buttons"><a href="#">Share</a></div>
</article>
<aside class="related"><h2>Related</h2><ul><li><a href="/local/a.html">Bus lines change</a></li>
<li><a href="/local/b.html">New cycle lane</a></li></ul></aside>
<section id="comments"><h2>Comments</h2><div class="comment">Good news.</div></section>
</main>
<footer class="site-footer"><p>© Riverside Courier</p></footer>
</body></html>"""


def warm_extraction() -> None:
    """Extract this module's article page once (and fingerprint it), for what the
    extraction builds on first use. Any error is left for a real page to meet."""
    try:
        from pipelines.dedup import fingerprint
        from pipelines.extract import extract_article

        # No canonical link: the page's own address is its URL, which courlan's quick
        # reading of a domain cannot read, so it loads the public-suffix list.
        article = extract_article(ARTICLE_PAGE.encode("utf-8"), WARM_URL, encoding="utf-8")
        if article is not None:
            fingerprint(article.text)
    except Exception:  # noqa: BLE001, S110 - an optimisation only: the first page does it
        pass


warm_up()
warm_extraction()
release_model()
