"""Assigning stored articles to stories: each joins the story it links to best, or starts one.

Candidates come from the story index (``story_keys``: the specific entities, sums and dates
of stories still open at the article's time), never from a scan, so one assignment reads
about as much at 100,000 stored articles as at 1,000. The article is compared with each
candidate's latest articles (:mod:`pipelines.stories.scoring`) and joins the best story that
scores at least ``join_threshold`` on evidence beyond countries. A copy (``duplicate_of``)
joins its original's story; a copy published before its original becomes the original, so
``duplicate_of`` and a story's lead always point at the earliest-published text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pipelines.config.stories import StoriesConfig
from pipelines.stories.features import Features, extract_features, utc_moment
from pipelines.stories.gazetteer import STRONG, Gazetteer, gazetteer_for
from pipelines.stories.scoring import Link, compare, measure, weighted

if TYPE_CHECKING:
    from pipelines.models import Article
    from pipelines.store import Store

from pipelines.store.stories import Unassigned

SEED = "seed"  # the source of the seed corpus (pipelines/seeds.py)
MIN_SPECIFIC = 2.0  # evidence beyond countries an article needs to join a story
CANDIDATES = 6  # stories compared at most (those sharing the heaviest keys)
PER_KEY = 25  # stories read per index key at most (the most recent)
MEMBERS = 8  # a story's latest articles compared
CACHE = 5_000  # parsed features kept per clusterer (the least recently used go)
HORIZON = 4  # windows after an article's date a story may have run on (out-of-order dates)
TERM_KEYS = 2  # an article's rarest words used as index keys


@dataclass(frozen=True)
class Assigned:
    """An article put in a story by this assignment."""

    article_id: int
    story_id: int
    via: str  # "new" | "match" | "copy"
    score: float
    article: Unassigned


@dataclass(frozen=True)
class Choice:
    """Where an article would go: an existing story and the link, or a new story."""

    story_id: int | None
    link: Link | None
    matched_article_id: int | None


class Clusterer:
    """Assigns articles of one store with one configuration."""

    def __init__(self, store: Store, settings: StoriesConfig | None = None) -> None:
        self.store = store
        self.settings = settings or StoriesConfig()
        self.gazetteer: Gazetteer = gazetteer_for(self.settings.entities)
        self._cache: dict[tuple[int, str], Features] = {}  # by use, the latest last
        # Word document frequencies read so far (kept in step with the counts written)
        self._df: dict[str, int] = {}
        self._total: int | None = None

    def features(self, art: Unassigned, text: str) -> Features:
        reaction = bool(art.topics) and all(m.get("kind") == "reaction" for m in art.topics)
        return extract_features(
            self.gazetteer,
            title=art.title,
            text=text,
            lang=art.lang,
            published=utc_moment(art.published, art.fetched_at),
            reaction=reaction,
        )

    def choose(
        self, feats: Features, *, keys: dict[str, float] | None = None, exclude: int | None = None
    ) -> Choice:
        """The story ``feats`` would join now (changes nothing); ``keys``: its index keys,
        when computed already."""
        moment = feats.moment
        window = timedelta(days=self.settings.window_days)
        bounds = (_iso(moment - window), _iso(moment + window), _iso(moment + HORIZON * window))
        wanted = self.keys(feats) if keys is None else keys
        stories = self.store.story_candidates(wanted, bounds, CANDIDATES, PER_KEY)
        members = self.store.story_members(stories, MEMBERS, feats.lang)
        parsed = [(a, s, self._parsed(a, raw)) for a, s, raw in members if a != exclude]
        idf, default = self._idf(feats, [f for _, _, f in parsed])
        vector = weighted(feats, idf, default)
        # The best story: the highest-scoring link of each story (the first of equals, in
        # the order read), that reaches the threshold with evidence beyond countries; the
        # first story by id of equals. Stories are read heaviest-keyed first, and a pair
        # whose score cannot beat the threshold, its story's best so far or (another story)
        # the best story so far is let go early: the choice is the same.
        threshold = self.settings.join_threshold
        by_story: dict[int, list[tuple[int, Features]]] = {}
        for article_id, story_id, other in parsed:
            by_story.setdefault(story_id, []).append((article_id, other))
        best: tuple[float, int, int, Features] | None = None  # score, story, article, it
        for story_id in stories:
            top: tuple[float, float, int, Features] | None = None  # score, specific, ...
            for article_id, other in by_story.get(story_id, ()):
                floor = max(threshold, top[0] if top else threshold, best[0] if best else 0.0)
                reactions = (feats.reaction, other.reaction)
                scored = measure(
                    feats, other, self.gazetteer, idf, default, reactions, vector, floor - 1e-6
                )  # a margin for rounding: a pair of equal score is never let go
                if scored is not None and (top is None or scored[0] > top[0]):
                    top = (scored[0], scored[1], article_id, other)
            if top is None or top[0] < threshold or top[1] < MIN_SPECIFIC:
                continue
            if best is None or top[0] > best[0] or (top[0] == best[0] and story_id < best[1]):
                best = (top[0], story_id, top[2], top[3])
        if best is None:
            return Choice(None, None, None)
        _, story_id, article_id, other = best
        reactions = (feats.reaction, other.reaction)
        link = compare(feats, other, self.gazetteer, idf, default, reactions, vector)
        return Choice(story_id, link, article_id)

    def _parsed(self, article_id: int, raw: str) -> Features:
        """A stored article's features, parsed once per clusterer while recently used (a
        pass meets the same recent stories again and again). Keyed by the stored text too:
        the same article read with and without its words, or written again, is another."""
        key = (article_id, raw)
        found = self._cache.pop(key, None)
        if found is None:
            found = Features.from_json(raw)
            if len(self._cache) >= CACHE:  # the least recently used goes
                del self._cache[next(iter(self._cache))]
        self._cache[key] = found
        return found

    def keys(self, feats: Features) -> dict[str, float]:
        """The index keys an article is found by, with their weight."""
        keys = {
            f"e:{e}": self.gazetteer.weight(e)
            for e in feats.entities
            if self.gazetteer.weight(e) >= STRONG
        }
        keys.update({f"a:{x}": 2.0 for x in feats.amounts if x.startswith("amount:")})
        keys.update({f"d:{x}": 1.0 for x in feats.dates})
        ranked = sorted(feats.terms, key=lambda t: (-feats.terms[t] * len(t), t))
        keys.update({f"t:{feats.lang}:{t}": 0.5 for t in ranked[:TERM_KEYS]})
        return keys

    def _idf(self, feats: Features, others: list[Features]) -> tuple[dict[str, float], float]:
        terms = set(feats.vocabulary)
        for other in others:
            if other.lang == feats.lang:
                terms.update(other.vocabulary)
        unknown = list(terms.difference(self._df))
        if unknown or self._total is None:
            found, self._total = self.store.term_frequencies(unknown)
            self._df.update({t: found.get(t, 0) for t in unknown})
        total = self._total
        idf = {t: math.log((total + 1) / (self._df[t] + 1)) + 1 for t in terms}
        return idf, math.log(total + 1) + 1

    def _count(self, feats: Features) -> None:
        """One more document holding the article's words, in the store and the cache."""
        terms = [f"{feats.lang}:{t}" for t in feats.terms]
        self.store.count_terms(terms)
        for term in terms:
            if term in self._df:
                self._df[term] += 1
        if self._total is not None:
            self._total += 1

    def assign(self, art: Unassigned) -> Assigned:
        """Put one article in a story (in one transaction)."""
        with self.store.transaction():
            if art.duplicate_of is not None:
                return self._assign_copy(art)
            text = self.store.article_text(art.id) or ""
            feats = self.features(art, text)
            # A seed file is reference text, not news: its story holds it and its copies.
            keys = self.keys(feats) if art.source != SEED else {}
            choice = self.choose(feats, keys=keys) if keys else Choice(None, None, None)
            self._count(feats)
            if choice.story_id is None or choice.link is None:
                story_id = self.store.new_story(feats.published)
                link = {"via": "new", "score": 0.0}
                via, score = "new", 0.0
            else:
                story_id = choice.story_id
                link = {"via": "match", "matched_article_id": choice.matched_article_id}
                link.update(choice.link.columns())
                via, score = "match", choice.link.score
            self.store.join_story(
                art.id, story_id, feats.published, feats.lang, feats.to_json(), link, keys
            )
            return Assigned(art.id, story_id, via, score, art)

    def _assign_copy(self, art: Unassigned) -> Assigned:
        assert art.duplicate_of is not None
        original = self.store.duplicate_root(art.duplicate_of)
        if original != art.duplicate_of:
            self.store.point_copy_at(art.id, original)
        story_id = self.store.article_story(original)
        if story_id is None:  # its original is not in a story yet: that one first
            found = self.store.unassigned_articles(original)
            if not found:
                raise LookupError(f"article {original} is gone")
            story_id = self.assign(found[0]).story_id
        raw = self.store.article_features(original)
        base = Features.from_json(raw) if raw else None
        published = utc_moment(art.published, art.fetched_at)
        if art.published and self.store.published_original(original, published):
            self.store.make_original(art.id, original)  # the earlier text is the original
        feats = Features(
            lang=(art.lang or (base.lang if base else "?")).lower()[:2],
            published=published,
            entities=base.entities if base else {},
            title_entities=base.title_entities if base else frozenset(),
            amounts=base.amounts if base else frozenset(),
            dates=base.dates if base else frozenset(),
            terms=base.terms if base else {},
            reaction=base.reaction if base else False,
        )
        link = {"via": "copy", "matched_article_id": original, "score": 1.0}
        self.store.join_story(art.id, story_id, published, feats.lang, feats.to_json(), link, [])
        return Assigned(art.id, story_id, "copy", 1.0, art)


# Articles assigned in one transaction by `cluster_new` (a commit cost about 0.5 ms, a
# sixth of an assignment).
BATCH = 64


def cluster_new(store: Store, settings: StoriesConfig | None = None) -> list[Assigned]:
    """Assign every stored article without a story, oldest published first (idempotent)."""
    clusterer = Clusterer(store, settings)
    pending = store.unassigned_articles()
    pending.sort(key=lambda a: (utc_moment(a.published, a.fetched_at), a.id))
    done: list[Assigned] = []
    for start in range(0, len(pending), BATCH):
        with store.transaction():  # one commit for many: a crash loses a batch, redone next time
            for art in pending[start : start + BATCH]:
                if store.article_story(art.id) is None:  # a copy may have assigned it already
                    done.append(clusterer.assign(art))
    return done


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def would_join(store: Store, settings: StoriesConfig, article: Article) -> dict[str, object] | None:
    """The stored story an article would join now, with the link's reasons; None when it
    would start its own. Changes nothing."""
    clusterer = Clusterer(store, settings)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    art = Unassigned(0, "", article.lang, article.title, article.published, now, None, False, [])
    choice = clusterer.choose(clusterer.features(art, article.text))
    if choice.story_id is None or choice.link is None:
        return None
    story = store.story(choice.story_id) or {}
    return {
        "story_id": choice.story_id,
        "title": story.get("title"),
        "matched_article_id": choice.matched_article_id,
        **choice.link.columns(),
    }
