"""Reactions: third parties speaking about a deal, and the one-line reason of a match.

An article can name Morocco, Israel and their defence deal many times and still not be
news of the deal: Algiers denouncing "the military alliance", a Palestinian faction
condemning a drone purchase, the Polisario accusing Rabat. Such articles recap the deal
to report what someone else says of it. They are a kind of match of their own,
``"reaction"``, which a topic's ``reactions`` option sends as an alert (``"alert"``),
keeps as context beside the story without alerting (``"context"``, the default) or drops
(``"ignore"``).

A matched article is a reaction when its title names a *voice* (a term of
``[topics.reaction] voices``: Algeria, Hamas, the Polisario...), and the title or the
first paragraph of the text has a voice within ``REACTION_SPAN`` words of a *verb* of
reacting (``verbs``: condemns, dénonce, تندد,
מגנה, and the verbs of saying, since "Algeria says the pact targets it" is a reaction
too), in either order (Arabic and Hebrew often put the verb first).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence

from pipelines.topics.rules import Document, Hit

REACTION = "reaction:"
VOICE, VERB = REACTION + "voice", REACTION + "verb"
REACTION_SPAN = 6  # words between a voice and its verb
POLICIES = ("context", "alert", "ignore")
WHY_TERMS = 4  # matched words quoted in a match's reason


def reaction_voice(doc: Document, hits: Sequence[Hit]) -> Hit | None:
    """The voice whose reaction the article reports, if it is one (see the module)."""
    first_text = _first_text_part(doc)
    places = [h for h in hits if doc.paragraphs[h.start] in (0, first_text)]
    voices = [h for h in places if VOICE in h.labels]
    if not any(doc.paragraphs[h.start] == 0 for h in voices):
        return None  # the headline says whose reaction it is
    verbs = [h for h in places if VERB in h.labels and VOICE not in h.labels]
    for voice in voices:
        part = doc.paragraphs[voice.start]
        for verb in verbs:
            if doc.paragraphs[verb.start] != part:
                continue
            gap = verb.start - voice.end if verb.start >= voice.end else voice.start - verb.end
            if gap <= REACTION_SPAN:
                return voice
    return None


def reaction_words(doc: Document) -> int:
    """How many words a reaction is looked for in: the title and first text paragraph."""
    first = _first_text_part(doc)
    return bisect_right(doc.paragraphs, first) if first >= 0 else doc.title_words


def _first_text_part(doc: Document) -> int:
    """The first paragraph of the text that has words (part 0 is the title)."""
    if doc.title_words < len(doc.paragraphs):
        return doc.paragraphs[doc.title_words]
    return -1


def why(
    labels: Sequence[str],
    terms: Mapping[str, list[str]],
    voice: str | None = None,
) -> str:
    """One line a reader understands: "Morocco + Israel + defence: Barak MX, FAR, IAI".

    ``labels`` name the groups in the topic's order; ``terms`` are the words matched per
    group, strongest first. One word of each group is quoted first, then the next ones,
    up to ``WHY_TERMS`` distinct words.
    """
    quoted: list[str] = []
    said: list[str] = []
    lists = list(terms.values())
    for rank in range(max((len(x) for x in lists), default=0)):
        for words in lists:
            if rank < len(words) and _says_more(words[rank], said):
                quoted.append(words[rank])
                said.append(words[rank].casefold())
    line = " + ".join(labels)
    if quoted:
        line += ": " + ", ".join(quoted[:WHY_TERMS])
    return f"reaction of {voice} — {line}" if voice else line


def _says_more(word: str, said: Sequence[str]) -> bool:
    """False for a word the line already quotes, or another form of a quoted single word
    ("Morocco" after "Moroccan", "Israeli" after "Israel"); phrases differ by their words."""
    key = word.casefold()
    for other in said:
        n = min(len(key), len(other), 6)
        single = " " not in key and " " not in other
        if key == other or (single and n >= 5 and key[:n] == other[:n]):
            return False
    return True
