"""The FAQ and order-status bot: it answers a customer's message from the knowledge base or their orders only
when it is sure, says where the answer comes from, asks whether it solved the question, and hands over to a
person at once, visibly and with the reason, when it is not sure or should not answer.

- ``decide.py``: what the bot would do with one message (pure: understanding + index + settings + the
  conversation's bot state); ``POST /agent/assist/answer`` and the bench call it as the router does.
- ``converse.py``: the router's step between admitting a message and assigning it: decide, then reply
  (queued like any reply), hand over, or resolve, with the conversation's ``bot`` state written conditionally
  (never while a human is assigned, never after a handover, never twice in a burst).
- ``orders.py``: "where is my order" from the customer's own orders; ``phrases.py``: the bot's words in the
  seven languages.
- ``fit.py``: an answer held to what its channel takes in one message (``channels.limits``).

A message of the bot's that the conversation then waits on (``waited_on``) and that never reaches the customer
(the provider refused it: the dispatcher or a receipt marks it failed) hands the conversation to a person
(``send_failed``, ``Bot.send_failed``): it would otherwise wait, pending, for a reply to something never received.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shopdesk.models.admin import Channel, Language, Slug
from shopdesk.models.conversation import ConversationBot as BotState
from shopdesk.models.message import Message

__all__ = ["DEFAULT_THRESHOLD", "HANDOFF_REASONS", "WAITED_ON_ACTIONS", "BotSettings", "BotState", "BotStateName",
           "HandoffReason", "waited_on"]

BotStateName = Literal["answering", "handed_off", "resolved"]
HandoffReason = Literal["human_requested", "negative_sentiment", "legal", "safety", "payment_account",
                        "repeated", "follow_up", "not_helpful", "vip", "low_confidence", "no_translation",
                        "not_published", "order_unverified", "order_not_found", "damage_claim",
                        "too_long", "send_failed"]
HANDOFF_REASONS: tuple[str, ...] = HandoffReason.__args__        # type: ignore[attr-defined]

# The bot's messages the conversation waits on: an article with its question, an order's state, a request for an
# order's proof. Not the closing words of a resolve: the customer had their answer and confirmed it.
WAITED_ON_ACTIONS = frozenset({"answer", "order", "verify"})


def waited_on(message: Message) -> bool:
    """A message of the bot's that the conversation waits on (``WAITED_ON_ACTIONS``): lost, nobody answers."""
    bot = (message.payload or {}).get("bot")
    return message.author == "bot" and message.kind == "bot" and isinstance(bot, dict) \
        and bot.get("action") in WAITED_ON_ACTIONS

# Chosen on tests/bot_eval/tuning.jsonl by bench/bot.py --tune with the index's weights (never on the evaluation
# set): the lowest confidence at which the tuning split has precision >= 0.95 and false answers <= 0.03.
DEFAULT_THRESHOLD = 0.41


class BotSettings(BaseModel):
    """``PUT /admin/bot``: where and when the bot answers, how sure it must be, and what it does for a language
    the knowledge base has no translation in."""

    model_config = ConfigDict(extra="ignore")     # stored settings may hold a field a later version removed;
                                                  # a body naming one is refused (api.bodies.KnownFields)

    enabled: bool = False
    channels: Annotated[list[Channel] | None, Field(max_length=20, description="only these channels; "
                                                    "null or absent: every channel")] = None
    teams: Annotated[list[Slug] | None, Field(max_length=50, description="only conversations of these teams; "
                                              "null or absent: every team")] = None
    when: Literal["always", "outside_business_hours"] = "always"
    confidence_threshold: Annotated[float | None, Field(ge=0, le=1, description="answers below it are handed "
                                                        f"over; null: the tuned default ({DEFAULT_THRESHOLD})")] = None
    fallback_language: Annotated[Language | None, Field(description="the article's language to answer in when "
                                                        "it has no translation in the customer's; null: hand "
                                                        "over instead")] = None
    resolve_after_seconds: Annotated[int, Field(ge=60, le=30 * 86400, description="an answered conversation "
                                                "the customer does not come back to is resolved after this "
                                                "long")] = 86400

    @property
    def threshold(self) -> float:
        return DEFAULT_THRESHOLD if self.confidence_threshold is None else self.confidence_threshold
