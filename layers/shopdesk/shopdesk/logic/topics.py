"""Contact reasons: the topics of a conversation (docs/metrics.md, "Topics").

A topic is a normalised name (``normalise``: case-folded, accents dropped, every run of other characters one
``_``, at most 60 characters: "Returns & Refunds" is ``returns_refunds``). Three sources name them, strongest
first (``SOURCES``):

1. **label**: a label an agent put on the conversation (its id, normalised; a label's id does not change when
   it is renamed, so a week's figures do not split on a rename). The only source that can be taken back:
   removing the label removes the topic, unless a weaker source named it too.
2. **article**: the knowledge-base article the bot answered with: each of its tags, or its original's id when
   it has none (a translation counts as its original, so one reason is not split by language).
3. **intent**: what the router understood the customer asked for, among the intents that are reasons
   (``REASON_INTENTS``; "yes", "thanks", "human" are conversation moves, not reasons).

The article and intent topics are facts about what the customer asked: the router and the bot add them to the
conversation's ``topics`` string set, as ``<source>:<topic>``, in the writes they make anyway (no extra
request). Labels are read from the conversation's ``labels``. The event lake derives ``topic_added`` and
``topic_removed`` from the difference of two images (``changes``); when several sources name one topic it is
one topic, and the event says the strongest source that named it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

SOURCES = ("label", "article", "intent")          # precedence: strongest first
REASON_INTENTS = frozenset({"order_status", "payment_account", "legal", "safety"})
MAX_LENGTH = 60
_OTHER = re.compile(r"[^a-z0-9]+")


def normalise(name: str) -> str | None:
    """The topic a name stands for, or None when nothing of it is left."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    topic = _OTHER.sub("_", plain).strip("_")[:MAX_LENGTH].rstrip("_")
    return topic or None


def _tagged(source: str, names: Iterable[str]) -> set[str]:
    return {f"{source}:{topic}" for topic in (normalise(n) for n in names) if topic}


def from_intents(intents: Iterable[str]) -> set[str]:
    """The stored entries for a message's intents (only those that are reasons)."""
    return _tagged("intent", (i for i in intents if i in REASON_INTENTS))


def from_article(article_id: str, tags: Iterable[str] = (), translation_of: str | None = None) -> set[str]:
    """The stored entries for the article the bot answered with: its tags, or its original's id."""
    return _tagged("article", list(tags)) or _tagged("article", [translation_of or article_id])


def of_image(image: Mapping[str, Any] | None) -> dict[str, str]:
    """topic -> the strongest source naming it, from a conversation item (a stream image or a read)."""
    if not image:
        return {}
    named: dict[str, str] = {}
    for entry in image.get("topics") or ():
        source, _, topic = str(entry).partition(":")
        if source in SOURCES and topic:
            named.setdefault(topic, source)
            if SOURCES.index(source) < SOURCES.index(named[topic]):
                named[topic] = source
    for label in image.get("labels") or ():
        topic = normalise(str(label))
        if topic:
            named[topic] = "label"
    return named


def changes(new: Mapping[str, Any] | None, old: Mapping[str, Any] | None
            ) -> tuple[dict[str, str], list[str]]:
    """(topics added with their source, topics removed) between two images of one conversation."""
    after, before = of_image(new), of_image(old)
    added = {topic: source for topic, source in sorted(after.items()) if topic not in before}
    removed = sorted(topic for topic in before if topic not in after)
    return added, removed
