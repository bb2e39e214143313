"""The timeline's system entries: what the desk writes on a conversation when something happens to it.

Every entry is made here in two forms, from the same values:

- ``text``, in English, as it always was: transcripts, exports and search read it, and an inbox shows it for an
  entry written before events existed, or of a kind it does not know;
- ``event``, ``{"kind": <stable key>, "params": {...}}``, which the inbox words in its agent's language
  (web/src/timelineEvents.ts, the ``timeline.event.<kind>`` messages). Params hold ids and machine values (agent
  ids, ISO times, statuses, priorities, SLA target names, counts, the bot's best article's id), never English made
  for people; text that is genuinely free (an agent's note, a macro's name, a platform's error) is a param as it
  is. They hold nothing about the customer the text does not hold (a transcript's recipient is the one address),
  and go with the message: bounded with it (``dal/items.py``), kept, exported and erased with it.

The kinds and their params (``?``: only when there is one):

- assignment: ``assigned`` {agent} (the router), ``assigned_by`` {agent, by, note?}, ``transferred``
  {from, to, by, note?}, ``assignee_silent`` {agent}, ``agent_offline`` {agent}
- status: ``status_changed`` {status, by}, ``reopened`` {by}, ``reopened_by_customer`` {}, ``thanks_kept`` {},
  ``snoozed`` {until, by}, ``snooze_ended`` {}
- messages that ask nothing (a STOP, a START, an out-of-office; ``why``: opt_out | opt_in | auto_reply):
  ``kept_resolved`` {why, channel}, ``nothing_to_answer`` {why, channel}, ``clocks_paused_unsubscribed``
  {channel}, ``clocks_resumed_subscribed`` {channel}
- SLA: ``sla_missed`` {target, due}, ``sla_warning`` {target, due}, ``sla_missed_reassigned`` {target, agent},
  ``first_response_lost`` {reopened?} (a person's reply that was the first response never reached the customer:
  ``logic.refused``; ``reopened`` the status the conversation was opened again from: pending, snoozed, resolved)
- routing: ``priority_raised`` {from, to, causes: [{cause: urgent, reasons} | {cause: negative, emotion?}]},
  ``routing_changed`` {by, changes, note?}, ``labels_changed`` {by, changes}, ``macro_applied`` {macro,
  macro_id, by, changes}; a change is {change: priority {from, to} | team {from, to, label?} | skills {from, to}
  | not_in_team {agent, team, queued} | labels_added {labels} | labels_removed {labels} | status {status,
  until?} | assigned {agent} | queued | note | reply {canned_response, title?}}
- the bot: ``bot_handoff`` {reason, article?, confidence?}, ``bot_resolved`` {why: confirmed | no_reply}
- orders: ``order_cancelled`` {order, by, reason}, ``order_refunded`` {order, by, amount?, currency?, items?},
  ``order_cancel_failed`` / ``order_refund_failed`` {order, by, error}
- transcripts and surveys: ``transcript_sent`` {to, language, messages, by?}, ``transcript_not_sent``
  {reason: no_email}, ``csat_skipped`` {reason: no_template {template} | no_template_configured | window_closed
  {channel}} (made with its text by ``csat.survey.plan``)
- what providers report (made with their text by the channel parsers, listed with their params at
  ``channels.base.timeline_event``; ``logic.webhooks`` masks their customer's words like the text): ``reaction``,
  ``edit``, ``unsend``, ``echo``, ``referral``, ``optin``, ``account_changed``, ``chat_opened``, ``preference``,
  ``bot_blocked``, ``bot_unblocked``, ``bot_status_changed``, ``unknown``, and ``unsupported`` {reason, detail}
  (an item the webhook could not read, ``logic.webhooks.record_unsupported``)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from shopdesk import clock
from shopdesk.bounds import clean_text
from shopdesk.ids import new_id
from shopdesk.models import ConversationStatus, Direction, Message, Priority, SystemEvent

TARGET_NAMES = {"first_response": "First response", "next_response": "Next response", "resolution": "Resolution"}
HANDOFF_WORDS = {   # the bot's hand-off reasons (shopdesk.bot.HANDOFF_REASONS) in English
    "human_requested": "the customer asked for a person",
    "negative_sentiment": "the customer is upset",
    "legal": "a legal matter",
    "safety": "a safety matter",
    "payment_account": "a payment or account-security matter",
    "repeated": "the customer asked again",
    "follow_up": "the customer wrote more right after the bot's answer",
    "not_helpful": "the customer said the answer did not help",
    "vip": "a VIP customer",
    "low_confidence": "no answer the bot is sure of",
    "no_translation": "no article in the customer's language",
    "not_published": "the article in the customer's language is not published",
    "order_unverified": "the order's email or postcode did not match",
    "order_not_found": "no such order",
    "damage_claim": "a damaged, faulty or wrong item, reported with a photo or file",
    "too_long": "its answer is too long for the channel, even shortened",
    "send_failed": "its message could not be sent to the customer",
}
BOT_RESOLVED = {"confirmed": "the customer confirmed the answer", "no_reply": "no reply from the customer"}
BotResolved = Literal["confirmed", "no_reply"]


def event(kind: str, **params: Any) -> SystemEvent:
    """A structured entry; params that are None are left out (they are the optional ones)."""
    return SystemEvent(kind=kind, params={k: v for k, v in params.items() if v is not None})


def system_message(conversation_id: str, text: str, author: str | None = None,
                   event: SystemEvent | None = None) -> Message:
    return Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.SYSTEM, text=text,
                   created_at=clock.now(), author=author, event=event)


def channel_name(channel: str) -> str:
    """A channel as English text names it (the inbox words its own, ``web/src/channels.ts``)."""
    return {"sms": "SMS", "whatsapp": "WhatsApp", "webchat": "web chat"}.get(channel, channel.title())


def unsubscribed(channel: str, subject: str = "the customer") -> str:
    return f"{subject} unsubscribed from {channel_name(channel)} (they replied STOP)"


def target_name(target: str) -> str:
    return TARGET_NAMES.get(target, target)


# ------------------------------------------------------------------------------ assignment

AN_AGENT = "an agent"


def agent_said(name: str | None) -> str:
    """An agent as the English text says them: their name, else "an agent": never their id, nor their work email (the
    text is the customer's too: their export holds it; the event keeps the id, and the inbox names them its own way,
    a colleague with no name by their work email)."""
    return (name or "").strip() or AN_AGENT


def said(names: Mapping[str, str], agent_id: str) -> str:
    """An agent a text names, by id: as ``names`` (each agent's id to ``agent_said``) says them, else "an agent"."""
    return names.get(agent_id) or AN_AGENT


def opening(text: str) -> str:
    """A sentence that starts by naming an agent: "an agent" capitalised there (a name kept as it is)."""
    return "A" + text[1:] if text.startswith(AN_AGENT) else text


def assigned(conversation_id: str, agent_id: str, agent_name: str | None) -> Message:
    """The router gave the conversation to an agent."""
    return system_message(conversation_id, f"Assigned to {agent_said(agent_name)}",
                          event=event("assigned", agent=agent_id))


def assigned_by(conversation_id: str, to: str, by: str, previous: str | None, note: str | None,
                names: Mapping[str, str]) -> Message:
    """An agent assigned it, or transferred it from its assignee, with an optional hand-off note. ``names``: each
    agent's id to how the text says them (``agent_said``); one it does not hold is "an agent"."""
    if previous:
        text, entry = (f"Transferred from {said(names, previous)} to {said(names, to)} by {said(names, by)}",
                       event("transferred", to=to, by=by, note=note, **{"from": previous}))
    else:
        text, entry = (f"Assigned to {said(names, to)} by {said(names, by)}",
                       event("assigned_by", agent=to, by=by, note=note))
    if note:
        text += f". Hand-off note: {note}"
    return system_message(conversation_id, text, author=by, event=entry)


def assignee_silent(conversation_id: str, agent_id: str, names: Mapping[str, str]) -> Message:
    return system_message(conversation_id, f"No reply from {said(names, agent_id)} in time: back in the queue for the "
                                           "next agent",
                          event=event("assignee_silent", agent=agent_id))


def agent_offline(conversation_id: str, agent_id: str, agent_name: str | None) -> Message:
    return system_message(conversation_id, f"{opening(agent_said(agent_name))} went offline: back in "
                                           "the queue",
                          event=event("agent_offline", agent=agent_id))


# ------------------------------------------------------------------------------ status

def status_changed(conversation_id: str, was: ConversationStatus, status: ConversationStatus, by: str,
                   names: Mapping[str, str]) -> Message:
    """``names``, here and below: each agent's id to how the text says them (``agent_said``; ``said``)."""
    if was is ConversationStatus.RESOLVED:
        return system_message(conversation_id, f"Reopened by {said(names, by)}", by, event("reopened", by=by))
    return system_message(conversation_id, f"Marked {status.value} by {said(names, by)}", by,
                          event("status_changed", status=status.value, by=by))


def folded_into(conversation_id: str, target_id: str, by: str, names: Mapping[str, str]) -> Message:
    """The customer's other open conversation took this one in when their customers were merged (logic.fold)."""
    return system_message(conversation_id, f"Merged into conversation {target_id} with its customer by "
                          f"{said(names, by)}: "
                          "it goes on there", by, event("folded_into", conversation=target_id, by=by))


def folded(conversation_id: str, source_id: str, channel: str, messages: int, by: str, names: Mapping[str, str]
           ) -> Message:
    """This conversation took in the customer's other open one (logic.fold)."""
    return system_message(
        conversation_id, f"Conversation {source_id} ({channel_name(channel)}, {messages} message"
        f"{'' if messages == 1 else 's'}) merged into this "
        f"one with its customer by {said(names, by)}: its messages show here", by,
        event("folded", conversation=source_id, channel=channel, messages=messages, by=by))


def customer_waits(conversation_id: str) -> Message:
    """A pending conversation opened again: the customer was waiting for an answer in the one merged into it."""
    return system_message(conversation_id, "Open again: the customer was waiting for an answer in the conversation "
                          "merged into this one", event=event("customer_waits"))


def unfolded(conversation_id: str, other_id: str, by: str, names: Mapping[str, str]) -> Message:
    """An unmerge took the two conversations apart again (logic.fold)."""
    return system_message(conversation_id, f"Conversation {other_id} taken apart from this one: its customers were "
                          f"unmerged by {said(names, by)}", by, event("unfolded", conversation=other_id, by=by))


def reopened_by_customer(conversation_id: str, message_at: datetime) -> Message:
    """Just before the customer's message that reopened a conversation the bot resolved."""
    return system_message(conversation_id, "Reopened by the customer's message",
                          event=event("reopened_by_customer")).model_copy(
        update={"created_at": message_at - timedelta(milliseconds=1)})


def thanks_kept(conversation_id: str, message_at: datetime) -> Message:
    """Just after a customer's thank-you kept on their resolved conversation (``logic.ingest``)."""
    return system_message(conversation_id, "The customer's thanks, kept here: the conversation stays resolved",
                          event=event("thanks_kept")).model_copy(
        update={"created_at": message_at + timedelta(milliseconds=1)})


QuietWhy = Literal["opt_out", "opt_in", "auto_reply"]


def _quiet(why: QuietWhy, channel: str) -> str:
    """A customer's message that asks nothing, in English (``logic.work.NOT_WRITTEN``)."""
    if why == "opt_out":
        return unsubscribed(channel, "The customer")
    if why == "opt_in":
        return f"The customer subscribed again on {channel_name(channel)} (they replied START)"
    return "An automatic reply (out of office)"


def kept_resolved(conversation_id: str, why: QuietWhy, channel: str, message_at: datetime) -> Message:
    """Just after a message that asks nothing (a STOP, a START, an out-of-office) kept on the customer's resolved
    conversation (``logic.ingest``)."""
    return system_message(conversation_id, f"{_quiet(why, channel)}: kept here, the conversation stays resolved",
                          event=event("kept_resolved", why=why, channel=channel)).model_copy(
        update={"created_at": message_at + timedelta(milliseconds=1)})


def nothing_to_answer(conversation_id: str, why: QuietWhy, channel: str) -> Message:
    """A conversation whose only message asks nothing: resolved by the router, never queued (``logic.consent``)."""
    return system_message(conversation_id, f"{_quiet(why, channel)}: nothing to answer, resolved",
                          event=event("nothing_to_answer", why=why, channel=channel))


def clocks_paused_unsubscribed(conversation_id: str, channel: str) -> Message:
    """The customer unsubscribed from the last channel of theirs on the conversation: nothing can be sent, so no
    response is late (``logic.consent``)."""
    return system_message(conversation_id, f"{_quiet('opt_out', channel)} and has no other channel here: the SLA "
                          "clocks are paused", event=event("clocks_paused_unsubscribed", channel=channel))


def clocks_resumed_subscribed(conversation_id: str, channel: str) -> Message:
    return system_message(conversation_id, f"{_quiet('opt_in', channel)}: the SLA clocks run again",
                          event=event("clocks_resumed_subscribed", channel=channel))


def snoozed(conversation_id: str, until: datetime, by: str, names: Mapping[str, str]) -> Message:
    return system_message(conversation_id, f"Snoozed until {clock.iso(until)} by {said(names, by)}", author=by,
                          event=event("snoozed", until=clock.iso(until), by=by))


def snooze_ended(conversation_id: str) -> Message:
    return system_message(conversation_id, "Snooze ended: open again", event=event("snooze_ended"))


# ------------------------------------------------------------------------------ SLA

def sla_missed(conversation_id: str, target: str, due: str) -> Message:
    return system_message(conversation_id, f"{target_name(target)} target missed (due {due})",
                          event=event("sla_missed", target=target, due=due))


def sla_warning(conversation_id: str, target: str, due: str) -> Message:
    return system_message(conversation_id, f"{target_name(target)} target close: due {due}",
                          event=event("sla_warning", target=target, due=due))


def first_response_lost(conversation_id: str, reopened: str | None = None) -> Message:
    """The reply that was the first response never reached the customer (logic.refused): they still wait for one.
    ``reopened``: the status (pending, snoozed, resolved) the conversation had, open again for it."""
    if reopened is None:
        return system_message(conversation_id, "The reply never reached the customer: the first response is still "
                                               "due", event=event("first_response_lost"))
    return system_message(conversation_id, f"The reply never reached the customer: the first response is still due, "
                                           f"and the conversation ({reopened}) is open again",
                          event=event("first_response_lost", reopened=reopened))


def sla_missed_reassigned(conversation_id: str, target: str, agent_id: str, names: Mapping[str, str]) -> Message:
    return system_message(conversation_id, f"{target_name(target)} target missed: taken from "
                                           f"{said(names, agent_id)} for the next agent",
                          event=event("sla_missed_reassigned", target=target, agent=agent_id))


# ------------------------------------------------------------------------------ routing

def urgent_cause(reasons: Iterable[str]) -> dict[str, Any]:
    """Why a message asks for a higher priority: it is urgent (the understanding's reasons)."""
    return {"cause": "urgent", "reasons": list(reasons)}


def negative_cause(emotion: str | None) -> dict[str, Any]:
    """Why a message asks for a higher priority: its tone is negative (with the emotion, when one was read)."""
    return {"cause": "negative", **({"emotion": emotion} if emotion else {})}


def cause_text(cause: Mapping[str, Any]) -> str:
    if cause["cause"] == "urgent":
        return f"urgent message ({', '.join(cause['reasons'])})"
    return f"negative message ({cause['emotion']})" if cause.get("emotion") else "negative message"


def priority_raised(conversation_id: str, was: Priority, to: Priority, causes: list[dict[str, Any]]) -> Message:
    """The router raised the priority for what the customer's message says (``logic.understand``)."""
    return system_message(conversation_id, f"Priority raised from {was.value} to {to.value}: "
                                           + "; ".join(cause_text(c) for c in causes),
                          event=event("priority_raised", to=to.value, causes=causes, **{"from": was.value}))


def change(kind: str, **params: Any) -> dict[str, Any]:
    """One change a routing edit, a label edit or a macro made (``params`` of None left out)."""
    return {"change": kind, **{k: v for k, v in params.items() if v is not None}}


def _names(values: list[str]) -> str:
    return ", ".join(values) or "none"


def change_text(done: Mapping[str, Any], names: Mapping[str, str],
                style: Literal["routing", "composed"] = "composed") -> str:
    """A change in the English of the entry that lists it: a routing change says "from … to …", the label
    and macro entries "… → …" and "labels +…"; an agent it names, as ``names`` says them."""
    kind = done["change"]
    if kind in ("priority", "team", "skills"):
        was, now = done["from"], done["to"]
        if kind == "skills":
            was, now = _names(was), _names(now)
        if style == "routing":
            return f"{kind} from {was} to {now}"
        return f"{kind} {was} → {now}" + (f" (label {done['label']})" if done.get("label") else "")
    if kind == "not_in_team":
        return f"{said(names, done['agent'])} is not in {done['team']}: " + ("back in the queue" if done["queued"]
                                                                  else "unassigned")
    if kind in ("labels_added", "labels_removed"):
        sign = "+" if kind == "labels_added" else "-"
        return f"labels {sign}" + f", {sign}".join(done["labels"])
    if kind == "status":
        return f"status {done['status']}" + (f" until {done['until']}" if done.get("until") else "")
    if kind == "assigned":
        return f"assigned to {said(names, done['agent'])}"
    if kind == "queued":
        return "back to the queue"
    if kind == "reply":
        return f"reply with “{done['title']}”" if done.get("title") else f"reply with {done['canned_response']}"
    return "a note"


def routing_changed(conversation_id: str, by: str, changes: list[dict[str, Any]], note: str | None,
                    names: Mapping[str, str]) -> Message:
    """An agent changed the priority, team or skills (``logic.reroute``): what changed, and whose seat it freed."""
    done = [change_text(c, names, "routing") for c in changes if c["change"] != "not_in_team"]
    text = f"Routing changed by {said(names, by)}: {'; '.join(done)}"
    for released in (c for c in changes if c["change"] == "not_in_team"):
        text += f". {opening(change_text(released, names))}"
    if note:
        text += f". Note: {note}"
    return system_message(conversation_id, text, author=by, event=event("routing_changed", by=by, changes=changes,
                                                                        note=note))


def labels_changed(conversation_id: str, by: str, changes: list[dict[str, Any]], names: Mapping[str, str]
                   ) -> Message:
    return system_message(conversation_id, f"Labels changed by {said(names, by)}: "
                                           + "; ".join(change_text(c, names) for c in changes),
                          author=by, event=event("labels_changed", by=by, changes=changes))


def macro_applied(conversation_id: str, macro_id: str, macro_name: str, by: str,
                  changes: list[dict[str, Any]], names: Mapping[str, str]) -> Message:
    return system_message(conversation_id, f"Macro “{macro_name}” applied by {said(names, by)}: "
                                           + ("; ".join(change_text(c, names) for c in changes)
                                              or "nothing to change"),
                          author=by, event=event("macro_applied", macro=macro_name, macro_id=macro_id, by=by,
                                                 changes=changes))


# ------------------------------------------------------------------------------ the bot

def bot_handoff(conversation_id: str, author: str, reason: str, article: str | None = None,
                confidence: float | None = None) -> Message:
    """The bot hands over to a person; with the best article it had, when it was not sure enough of it."""
    text = f"Handed over by the bot: {HANDOFF_WORDS.get(reason, reason)}"
    if article is not None and confidence is not None:
        text += f" (best article {article}, confidence {confidence:.2f})"
    return system_message(conversation_id, text, author=author, event=event(
        "bot_handoff", reason=reason, article=article,
        confidence=round(confidence, 4) if confidence is not None else None))


def bot_resolved(conversation_id: str, author: str, why: BotResolved) -> Message:
    return system_message(conversation_id, f"Resolved by the bot: {BOT_RESOLVED[why]}", author=author,
                          event=event("bot_resolved", why=why))


# ------------------------------------------------------------------------------ orders

def order_cancelled(conversation_id: str, order: str, by: str, reason: str, names: Mapping[str, str]) -> Message:
    return system_message(conversation_id, f"Order {order} cancelled by {said(names, by)} (reason: {reason})",
                          author=by,
                          event=event("order_cancelled", order=order, by=by, reason=reason))


def refunded_items(items: list[dict[str, Any]] | None) -> str:
    """The lines a refund chose, each {title, quantity} (None: everything not yet refunded), in English."""
    return "everything not yet refunded" if items is None else ", ".join(
        f"{x['quantity']} x {x['title']}" for x in items)


def order_refunded(conversation_id: str, order: str, by: str, done: str, amount: str | None, currency: str | None,
                   items: list[dict[str, Any]] | None, names: Mapping[str, str]) -> Message:
    """A refund done: ``done`` is the platform's account of it, ``items`` the lines chosen (``refunded_items``)."""
    return system_message(conversation_id, f"{done} by {said(names, by)} ({refunded_items(items)})", author=by,
                          event=event("order_refunded", order=order, by=by, amount=amount, currency=currency,
                                      items=items))


def order_action_failed(conversation_id: str, action: Literal["cancel", "refund"], order: str, by: str,
                        error: str, names: Mapping[str, str]) -> Message:
    """The platform refused: ``error`` in its words."""
    return system_message(conversation_id, f"{opening(said(names, by))} tried to {action} order {order}: {error}",
                          author=by,
                          event=event(f"order_{action}_failed", order=order, by=by, error=error))


# ------------------------------------------------------------------------------ transcripts and surveys

def transcript_sent(conversation_id: str, to: str, language: str, messages: int, by: str | None,
                    names: Mapping[str, str]) -> Message:
    """``by`` None: sent on resolve, as the shop's settings say."""
    return system_message(conversation_id, f"Transcript sent to {to} ({language}, {messages} messages) by "
                                           f"{said(names, by) if by else 'system'}", author=by,
                          event=event("transcript_sent", to=to, language=language, messages=messages, by=by))


def transcript_not_sent(conversation_id: str, why: str) -> Message:
    """On resolve, when the customer has no email address (``why`` says so in English)."""
    return system_message(conversation_id, f"No transcript sent on resolve: {why}",
                          event=event("transcript_not_sent", reason="no_email"))


def preview(text: str | None, attachments: int = 0) -> str | None:
    if text:
        return clean_text(text[:140])
    if attachments:
        return f"[{attachments} attachment{'s' if attachments > 1 else ''}]"
    return None
