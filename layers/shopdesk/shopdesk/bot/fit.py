"""The bot's answer held to what its channel takes in one message (``channels.limits``: 1,600 characters on
Twilio, 1,000 on Instagram, 2,000 on Messenger…), as an agent's reply is.

An article too long for the channel is cut at the end of a sentence (else of a word) with an ellipsis, so that
the whole message (the excerpt, the link to the full article, the closing question) fits; the link and the
question are never cut. An answer that cannot be cut sensibly is not sent, and a person answers (``too_long``):
an article with no link (the rest would be lost to the customer), an order's state or a question of the bot's
(nothing in them to leave out), or room for less than ``MIN_EXCERPT_CHARS`` of the article (a link longer than
the channel's limit, say).
"""

from __future__ import annotations

import re

from shopdesk.bot.decide import Decision, article_answer

ELLIPSIS = "…"
MIN_EXCERPT_CHARS = 160           # less than a text message's worth of the article answers nothing
SENTENCE_SHARE = 0.5              # a sentence's end is where to cut while it keeps half the room or more
# The end of a sentence (its closing quotes or brackets with it) before a space, a full-width one, or a paragraph
_SENTENCE_END = re.compile(r"[.!?…][\"'’”»)\]]*(?=\s)|[。！？]|\n[ \t]*\n")    # noqa: RUF001 (typography)
_TRAILING = ",;:-–—(["                     # noqa: RUF001 - left off before the ellipsis


def fit_answer(decision: Decision, closing: str, most: int) -> tuple[str, bool] | None:
    """The message to send for ``decision`` followed by ``closing`` (the question whether it helped) in at most
    ``most`` characters, and whether the article was cut; None when it cannot fit sensibly."""
    whole = (decision.text or "") + closing
    if len(whole) <= most:
        return whole, False
    article = decision.article
    if decision.action != "answer" or article is None or not decision.url:
        return None
    frame = len(article_answer("", decision.url, decision.language)) + len(closing)
    cut = excerpt(article.body, most - frame)
    if cut is None:
        return None
    return article_answer(cut, decision.url, decision.language) + closing, True


def excerpt(text: str, most: int) -> str | None:
    """``text`` in at most ``most`` characters: whole when it fits, else its beginning up to the end of a sentence
    (when that keeps ``SENTENCE_SHARE`` of the room) or of a word, with an ellipsis. None when less than
    ``MIN_EXCERPT_CHARS`` would be left, or no boundary is found."""
    text = text.strip()
    if len(text) <= most:
        return text
    room = most - len(ELLIPSIS) - 1          # the ellipsis, and the space before it after a sentence
    if room < MIN_EXCERPT_CHARS:
        return None
    window = text[:room + 1]                 # a boundary just after the room still counts
    ends = [m.start() if m.group().isspace() else m.end() for m in _SENTENCE_END.finditer(window)]
    sentence = max((end for end in ends if end <= room), default=0)
    if sentence >= max(MIN_EXCERPT_CHARS, SENTENCE_SHARE * room):
        return text[:sentence].rstrip() + " " + ELLIPSIS
    space = max((i for i, ch in enumerate(window) if ch.isspace()), default=0)
    head = text[:space].rstrip().rstrip(_TRAILING).rstrip()
    if len(head) < MIN_EXCERPT_CHARS:
        return None
    return head + ELLIPSIS
