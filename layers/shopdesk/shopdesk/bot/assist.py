"""Agent assist: what the bot would do with a message, and the best articles for a conversation, for an agent
to read and insert into a reply. Nothing is sent and nothing is written.

- ``POST /agent/assist/answer`` ``{text}``: any agent (it reads only the knowledge base, which every agent
  may read).
- ``GET /agent/conversations/{id}/assist``: the customer's latest messages searched, for an agent who may see
  the conversation (``shopdesk.logic.access``, through the inbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shopdesk.bot import BotSettings
from shopdesk.bot.decide import Decision, decide
from shopdesk.dal.config import ConfigStore
from shopdesk.kb.loader import IndexCache
from shopdesk.logic.access import ADMIN, Caller, require
from shopdesk.models import Conversation, Direction
from shopdesk.understanding import Understanding, understand

LATEST = 3             # the customer's messages since an agent's last answer, at most this many, are the question


@dataclass
class Assistant:
    index: IndexCache
    config: ConfigStore
    default_language: Callable[[], str]
    understand: Callable[..., Understanding] = understand

    def settings(self) -> BotSettings:
        stored = self.config.get("bot", "settings") or {}
        return BotSettings.model_validate({k: v for k, v in stored.items() if k != "version"})

    def answer(self, caller: Caller, text: str, latest: bool = True, with_article: str | None = None) -> Decision:
        """What the bot would do, with the best articles even when it would hand over (an agent wants them most
        then). ``latest``: against the knowledge base as it is now (an admin trying an article just published),
        else the container's index as last checked. ``with_article``: as if that article (a draft or a retired
        one) were published — admins, to check an article before publishing it."""
        if with_article is not None:
            require(caller.roles, ADMIN)
            index = self.index.with_article(with_article)
        else:
            index = self.index.get(latest)
        settings, understood = self.settings(), self.understand(text)
        decision = decide(text, understood, index, settings, self.default_language())
        if not decision.alternatives:
            decision = replace(decision, alternatives=index.search(text, understood.language))
        return decision

    def for_conversation(self, caller: Caller, conv: Conversation) -> Decision | None:
        """The customer's latest words (since an agent last answered; acknowledgements and the bot's answers do not
        count) as the question; None when there are none."""
        words: list[str] = []
        for message in reversed(conv.messages):
            if message.direction is Direction.OUTBOUND and message.author not in (None, "bot"):
                break
            if message.direction is Direction.INBOUND and message.text:
                words.insert(0, message.text)
                if len(words) == LATEST:
                    break
        if not words:
            return None
        return self.answer(caller, "\n".join(words), latest=False)
