"""Topics: which articles an analyst wants to hear about, and why each one matched.

``matching`` reads a topic and judges an article; ``rules`` finds terms in text, ``arabic``
spells Arabic terms the ways the news writes them, ``scoring`` turns hits into a decision,
``quotes`` and ``explain`` say why, ``fetch`` reads one page to explain, and ``eval`` measures
the rules on the labelled sets shipped beside it.
"""

from pipelines.topics.matching import (
    FieldWeights,
    Topic,
    Veto,
    default_topics,
    load_topics,
    match_topics,
)

__all__ = ["FieldWeights", "Topic", "Veto", "default_topics", "load_topics", "match_topics"]
