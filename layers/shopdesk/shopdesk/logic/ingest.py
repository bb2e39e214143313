"""Ingest: a verified, parsed customer message becomes part of the customer's one open conversation.

Budget per message: one GetItem (the identity tells where it belongs), one TransactWriteItems
(dedupe marker + message + conversation, or a whole new conversation), one SQS SendMessage. The marker
keeps the routing work until the router confirms it, so a send lost after the transaction is made good
by the sweep (``dal.conversations._marker_op``), or sooner by a delivery of the message again (a duplicate
re-sends it). Once the transaction is done the message is stored: a send the queue refuses is a warning
(``logic.work.send_kept``), and the provider is answered 2xx and the message counted as any other.
A conversation the bot resolved is remembered by the identity, and the customer's next message reopens it
within the same budget (``reopen_inbound``); one a person resolved stays resolved: the next message starts
another.
An email that names its conversation (reply+<id>@ address) skips the GetItem; one that only
names it through In-Reply-To/References costs one BatchGetItem more. An answer to a satisfaction survey (the
identity says one waits) is one transaction and, for a rating, one SendMessage too (``shopdesk.csat.answer``).
A STOP (or a START after one) costs one UpdateItem more: the identity remembers the customer unsubscribed.
A message that comes while its customer's erase runs is stored before the erase's last read, and erased with the
rest, or refused (``CustomerErasing``: the identity says so, or the transaction's condition on it or the
conversation does), and delivered again by its provider once the erase is over: a new customer's (dal/erased.py).
A mark whose erase holds no more (it failed for good and the table refused its release too: ``dal.erased.holds``)
refuses nothing: met on the identity, it is let go there, on its siblings and on the conversations the message may
go to (``Conversations.let_go_failed_hold``: one BatchGetItem of the job, one UpdateItem per item, only then), and the
message is stored; met only by the store's transaction (on a sibling, or the conversation it joins: the release
refused part way), it is let go there and the transaction sent again (``Conversations._store_inbound``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from aws_lambda_powertools import Logger

from shopdesk import clock, metrics
from shopdesk.bounds import bound, bound_text
from shopdesk.csat import answer
from shopdesk.dal.conversations import Conversations, IdentityRace, StaleConversation
from shopdesk.dal.csat import Surveys
from shopdesk.dal.erased import CustomerErasing
from shopdesk.dal.identities import IdentityRecord
from shopdesk.dal.items import marker_pk, message_sk
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict, DuplicateDelivery
from shopdesk.ids import new_id
from shopdesk.logic.email_thread import thread_references
from shopdesk.logic.timeline import kept_resolved, preview, reopened_by_customer, thanks_kept
from shopdesk.logic.work import NOT_WRITTEN, inbound_work, send_kept
from shopdesk.models import (
    Attachment,
    Conversation,
    CustomerRef,
    Direction,
    Identity,
    InboundMessage,
    Message,
    Priority,
    ReplyRoute,
)
from shopdesk.privacy.masking import mask, mask_name, mask_payload
from shopdesk.privacy.settings import PrivacyPolicy

logger = Logger(child=True)

NAME_BYTES = 512        # a customer's display name as a provider reports it, stored on several items
ROUTE_STRING_BYTES = 2_000      # a subject or Message-ID in a reply route (real ones are far shorter)
ROUTE_CONTEXT_BYTES = 16_000
THANKS_KEPT_DAYS = 7    # a thank-you this long after the resolve stays on it; later, it opens a conversation


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["stored", "duplicate"]
    conversation_id: str | None = None
    message_id: str | None = None
    new_conversation: bool = False
    message_sk: str | None = None


def masked_value(value: Any, policy: PrivacyPolicy, kinds: list[str]) -> Any:
    """Every string of a payload masked (a contact card, a button's title, an unsupported item's raw copy)."""
    if isinstance(value, str):
        result = mask(value, policy.patterns)
        kinds.extend(result.kinds)
        return result.text
    if isinstance(value, dict):
        return {k: masked_value(v, policy, kinds) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_value(v, policy, kinds) for v in value]
    return value


def masked_payload(payload: Any, policy: PrivacyPolicy, kinds: list[str]) -> Any:
    """What a channel sent with the message masked, its ids, keys, links and the stored mail's place left as they are
    (``privacy.masking.mask_payload``)."""
    return mask_payload(payload, policy.patterns, kinds)


def masked_name(name: str | None, policy: PrivacyPolicy, kinds: list[str]) -> str | None:
    """A name the channel gives (the customer's, a file's) masked (``privacy.masking.mask_name``)."""
    result = mask_name(name, policy.patterns)
    kinds.extend(result.kinds)
    return result.text


def masked_files(attachments: list[Attachment], policy: PrivacyPolicy, kinds: list[str]) -> list[Attachment]:
    """The files with their names masked (a name is copied onto the message, the search index and the key of the
    file's copy in the media bucket)."""
    return [a.model_copy(update={"filename": masked_name(a.filename, policy, kinds)}) if a.filename else a
            for a in attachments]


def masked(inbound: InboundMessage, policy: PrivacyPolicy) -> tuple[InboundMessage, list[str]]:
    """The message with card numbers, IBANs and the shop's patterns masked in everything that is stored
    (text, subject, quoted history, payload, the raw copy of an unsupported item, the name the channel gives the
    customer and the names of their files), and what was masked. What the payload and the raw copy hold to name
    things (ids, keys, links, where SES stored the mail: ``privacy.masking.machine_field``) is kept as it is."""
    kinds: list[str] = []
    changes: dict[str, Any] = {"text": masked_value(inbound.text, policy, kinds),
                               "profile_name": masked_name(inbound.profile_name, policy, kinds),
                               "attachments": masked_files(inbound.attachments, policy, kinds)}
    if inbound.payload:
        changes["payload"] = masked_payload(inbound.payload, policy, kinds)
    if inbound.raw:
        changes["raw"] = masked_payload(inbound.raw, policy, kinds)
    if inbound.email is not None:
        changes["email"] = inbound.email.model_copy(update={
            "subject": masked_value(inbound.email.subject, policy, kinds),
            "quoted_text": masked_value(inbound.email.quoted_text, policy, kinds)})
    return inbound.model_copy(update=changes), list(dict.fromkeys(kinds))


def _at(inbound: InboundMessage) -> datetime:
    """When the customer's message came: now, or when a kept request was received (its replay, later)."""
    return inbound.received_at or clock.now()


def _message(inbound: InboundMessage, conversation_id: str, masked_kinds: list[str] | None = None,
             policy: PrivacyPolicy | None = None) -> Message:
    payload: dict[str, Any] | None = dict(inbound.payload) if inbound.payload else None
    if inbound.email is not None:
        payload = {**(payload or {}), "email": inbound.email.model_dump(exclude_none=True)}
    if inbound.reply_context:
        payload = {**(payload or {}), "reply_context": inbound.reply_context}
    if inbound.kind == "unsupported":
        payload = {**(payload or {}), "raw": inbound.raw}     # kept whole: a later version may render it
    return Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.INBOUND,
                   channel=inbound.channel, text=inbound.text, status="received", attachments=inbound.attachments,
                   created_at=_at(inbound), provider_id=inbound.provider_id, provider=inbound.provider,
                   kind="auto_reply" if inbound.email and inbound.email.auto_submitted else inbound.kind,
                   subject=inbound.email.subject if inbound.email else None, payload=payload,
                   masked=masked_kinds or [], expires_at=_expiry(policy),
                   sender_unproven=bool(inbound.email and inbound.email.contact_form),
                   identity=f"{inbound.identity_kind}#{inbound.customer_address}")


def _expiry(policy: PrivacyPolicy | None) -> datetime | None:
    days = policy.retention.messages_days if policy else None
    return clock.now() + timedelta(days=days) if days else None


def _route(inbound: InboundMessage) -> ReplyRoute:
    """Where an answer to this message goes, with what the provider needs to thread it."""
    context: dict[str, Any] = {}
    if inbound.email is not None:
        context = {"subject": inbound.email.subject, "message_id": inbound.email.message_id,
                   "references": thread_references(inbound.email.references, inbound.email.message_id)}
    elif inbound.reply_context or inbound.payload:
        message_id = (inbound.payload or {}).get("message_id") or inbound.provider_id
        context = {"message_id": str(message_id)}
        if inbound.channel == "webchat" and (inbound.payload or {}).get("email"):
            context["email"] = inbound.payload["email"]        # the shop signed the visitor in with it
    # The route is copied onto the conversation item: what the provider wrote into it is bounded.
    kept = bound({k: v for k, v in context.items() if v}, max_string=ROUTE_STRING_BYTES, max_items=20,
                 max_bytes=ROUTE_CONTEXT_BYTES).value
    return ReplyRoute(channel=inbound.channel, to=inbound.reply_to, sender=inbound.shop_address,
                      provider=inbound.provider, last_inbound_at=_at(inbound), context=kept or None)


def ingest(inbound: InboundMessage, conversations: Conversations, work: Queue,
           first_response_targets: dict[Priority, int], *, thread: str | None = None,
           policy: PrivacyPolicy | None = None, unless_erased: Mapping[str, Any] | None = None) -> IngestResult:
    """Store ``inbound`` once. ``thread`` names a conversation the message says it belongs to
    (email threading); it wins over the customer's open conversation while it is not resolved.
    ``policy`` (the privacy settings in force): card numbers, IBANs and the shop's patterns are masked
    before anything is written, and the message gets its retention. A message kept and replayed
    (``InboundMessage.received_at``) is dated when it came: its place on the timeline and its clocks.
    ``unless_erased`` (a replay's: the check of its sender's erase mark, ``ErasedAddresses.not_erased_since_op``)
    goes into whichever transaction stores the message; refused, ``SenderErased`` is raised, nothing stored or sent.
    A customer whose erase runs: ``CustomerErasing``, nothing stored or sent (the provider delivers it again)."""
    kinds: list[str] = list(inbound.masked)     # masked before it came here (a kept request's text)
    if policy is not None:
        inbound, found = masked(inbound, policy)
        kinds = list(dict.fromkeys([*kinds, *found]))
        if policy.retention.dedupe_markers_days:
            conversations.marker_ttl_seconds = policy.retention.dedupe_markers_days * 86400
    received = inbound
    for _ in range(3):
        identity = conversations.get_identity(received.identity_kind, received.customer_address)
        if identity is not None and identity.erasing:
            # an erase that failed for good and whose release the table refused holds them no more: let go
            if not conversations.let_go_failed_hold(identity, (thread, identity.open_conversation_id,
                                                               identity.reopenable_conversation_id,
                                                               identity.last_conversation_id)):
                raise CustomerErasing()     # (the transactions refuse it too: an erase that marks them after this read)
            identity = replace(identity, erasing=None)
        expected_open = identity.open_conversation_id if identity else None
        inbound, opted_out = consented(received, identity)
        route = _route(inbound).model_copy(update={"opted_out": opted_out or None})
        done = partial(_settled, inbound, identity, conversations)
        if identity is not None and identity.csat and not expected_open and inbound.consent is None:
            # a satisfaction survey waits for this customer's answer (shopdesk.csat.answer)
            try:
                taken = answer.take(identity, _message(inbound, "", kinds, policy), provider=inbound.provider,
                                    provider_id=inbound.provider_id, surveys=Surveys(conversations), work=work,
                                    unless_erased=unless_erased)
            except DuplicateDelivery as duplicate:
                return done(_duplicate(duplicate, work))
            if taken is not None:
                return done(IngestResult("stored", taken.conversation_id, taken.message.id,
                                         message_sk=_sk(taken.message)))
        if answer.pressed(inbound.payload) is not None and not inbound.attachments:
            # a survey's button pressed again (answered already, or its time passed: Telegram and WhatsApp keep the
            # buttons on the survey): nothing to store, and no conversation to open for it
            logger.info("survey button pressed after its survey", extra={"provider": inbound.provider})
            return IngestResult("duplicate")
        kept = _kept(inbound, identity, expected_open, thread)
        if kept is not None:
            try:
                return done(_keep(inbound, *kept, conversations, kinds, policy, unless_erased))
            except DuplicateDelivery as duplicate:
                return done(_duplicate(duplicate, work))
            except StaleConversation:
                pass          # reopened meanwhile: the thank-you goes where any message would
        for target in dict.fromkeys(t for t in (thread, expected_open) if t):
            message = _message(inbound, target, kinds, policy)
            routing = inbound_work(target, message, marker=marker_pk(inbound.provider, inbound.provider_id))
            try:
                conversations.append_inbound(
                    provider=inbound.provider, provider_id=inbound.provider_id, message=message,
                    channel=inbound.channel, route=route.model_dump(mode="json", exclude_none=True),
                    preview=preview(inbound.text, len(inbound.attachments)), work=routing,
                    asks=message.kind not in NOT_WRITTEN, replayed=inbound.received_at is not None,
                    unless_erased=unless_erased)
            except DuplicateDelivery as duplicate:
                return done(_duplicate(duplicate, work))
            except StaleConversation:
                continue      # resolved a moment ago: try the next candidate, else start the next conversation
            send_kept(work, routing)
            return done(IngestResult("stored", target, message.id, message_sk=_sk(message)))
        reopenable = identity.reopenable_conversation_id if identity is not None and not expected_open else None
        automatic = inbound.email is not None and inbound.email.auto_submitted      # an out-of-office reopens nothing
        if identity is not None and reopenable and reopenable != thread and not automatic:
            try:
                return done(_reopen(inbound, identity, reopenable, route, conversations, work, kinds, policy,
                                    unless_erased))
            except DuplicateDelivery as duplicate:
                return done(_duplicate(duplicate, work))
            except StaleConversation:
                pass          # reopened or taken meanwhile: the message starts a conversation
        try:
            return done(_start(inbound, identity, expected_open, route, conversations, work, kinds, policy,
                               unless_erased))
        except DuplicateDelivery as duplicate:
            return done(_duplicate(duplicate, work))
        except IdentityRace:
            thread = None     # another message of this customer opened the conversation first: join it
    raise Conflict("the customer's conversation kept changing; the provider will retry")


def _kept(inbound: InboundMessage, identity: IdentityRecord | None, expected_open: str | None,
          thread: str | None) -> tuple[str, Callable[[datetime], Message]] | None:
    """The resolved conversation a message stays on, with the entry that says so (made from the message's time), for
    a customer with nothing open:
    their last conversation, still resolved. A message that asks nothing (a STOP, a START, an out-of-office) stays
    whenever it comes; one that only thanks (``understanding.closing``) within ``THANKS_KEPT_DAYS`` of the resolve.
    An email naming another thread, a file, and anything more go where any message goes."""
    if identity is None or expected_open or not identity.last_conversation_id or not identity.last_resolved_at:
        return None
    if (thread is not None and thread != identity.last_conversation_id) or inbound.attachments:
        return None
    last = identity.last_conversation_id
    if inbound.kind in ("opt_out", "opt_in"):
        return last, partial(kept_resolved, last, inbound.kind, inbound.channel)
    if inbound.email is not None and inbound.email.auto_submitted:
        return last, partial(kept_resolved, last, "auto_reply", inbound.channel)
    if inbound.kind != "text":
        return None
    if _at(inbound) - clock.parse_iso(identity.last_resolved_at) > timedelta(days=THANKS_KEPT_DAYS):
        return None
    from shopdesk.understanding.closing import only_thanks  # its cue patterns, only where one may be thanks

    return (last, partial(thanks_kept, last)) if only_thanks(inbound.text) else None


def _keep(inbound: InboundMessage, conversation_id: str, entry: Callable[[datetime], Message],
          conversations: Conversations, kinds: list[str], policy: PrivacyPolicy | None,
          unless_erased: Mapping[str, Any] | None = None) -> IngestResult:
    """A message on the resolved conversation it belongs to, with a system entry saying it stays resolved: no
    routing work, no acknowledgement, nobody's capacity."""
    message = _message(inbound, conversation_id, kinds, policy)
    note = entry(message.created_at)        # just after the message
    conversations.keep_on_resolved(provider=inbound.provider, provider_id=inbound.provider_id, message=message,
                                   note=note, replayed=inbound.received_at is not None, unless_erased=unless_erased)
    logger.info("message kept on the resolved conversation", extra={"conversation_id": conversation_id,
                                                                     "kind": message.kind})
    if note.event is not None and note.event.kind == "thanks_kept":
        metrics.count("ThanksKeptResolved", channel=inbound.channel)
    return IngestResult("stored", conversation_id, message.id, message_sk=_sk(message))


def consented(inbound: InboundMessage, identity: IdentityRecord | None) -> tuple[InboundMessage, bool]:
    """The message as it is stored (a STOP is an ``opt_out``, a START or YES of a customer who unsubscribed an
    ``opt_in``: the router neither answers nor acknowledges them, and they start no clock) and whether the
    customer is unsubscribed from its channel once it is: nothing automatic goes to them there, and an agent is
    told so before writing (``ReplyRoute.opted_out``)."""
    was_out = identity is not None and inbound.channel in identity.opted_out
    if inbound.consent == "stop":
        return inbound.model_copy(update={"kind": "opt_out"}), True
    if inbound.consent == "start" and was_out:
        return inbound.model_copy(update={"kind": "opt_in"}), False
    return (inbound.model_copy(update={"consent": None}) if inbound.consent else inbound), was_out


def _settled(inbound: InboundMessage, identity: IdentityRecord | None, conversations: Conversations,
             result: IngestResult) -> IngestResult:
    """What follows a stored message (or its delivery again): consent remembered, and a customer we knew without
    a name named by the first channel that gives one (an SMS customer writing on WhatsApp, say: its profile name)."""
    _consent_kept(inbound, conversations, result)
    name = bound_text(inbound.profile_name, NAME_BYTES).value if inbound.profile_name else None
    if name and name.strip() and identity is not None and not identity.customer_name and result.conversation_id:
        conversations.name_customer(identity, name.strip(), result.conversation_id)
    return result


def _consent_kept(inbound: InboundMessage, conversations: Conversations, result: IngestResult) -> IngestResult:
    """After a STOP or START is stored (or comes again: the first delivery may have stopped before this), the
    identity remembers it: later messages and every send read it there."""
    if inbound.consent is not None:
        conversations.identities.set_opted_out(inbound.identity_kind, inbound.customer_address, inbound.channel,
                                               clock.iso(clock.now()) if inbound.consent == "stop" else None)
        if result.outcome == "stored":          # a rise says something sent them what they did not want
            metrics.count("OptOuts" if inbound.consent == "stop" else "OptIns", channel=inbound.channel)
    return result


def _start(inbound: InboundMessage, identity: IdentityRecord | None, expected_open: str | None, route: ReplyRoute,
           conversations: Conversations, work: Queue, kinds: list[str], policy: PrivacyPolicy | None,
           unless_erased: Mapping[str, Any] | None = None) -> IngestResult:
    """A new conversation. Its SLA clocks, language, skills and team are set by the router a moment later
    (from the message's own time), so ingest reads no configuration: one GetItem, one transaction. Until then
    its team is a placeholder (``routed`` False): admins hear of it, no team does (``shopdesk.logic.live``)."""
    now = _at(inbound)
    conversation = Conversation(
        id=new_id("c_"), priority=Priority.NORMAL, routed=False,
        previous_agent=identity.last_agent if identity else None,
        previous_agent_at=identity.last_agent_at if identity else None,
        customer=CustomerRef(
            id=identity.customer_id if identity else new_id("u_"),
            name=(identity.customer_name if identity else None) or bound_text(inbound.profile_name, NAME_BYTES).value,
            identities=[Identity(kind=inbound.identity_kind, address=inbound.customer_address)]),
        channel=inbound.channel, route=route, routes={inbound.channel: route},
        created_at=now, updated_at=now,      # enters the queue once the router has classified it
        last_message_preview=preview(inbound.text, len(inbound.attachments)), message_count=1,
    )
    message = _message(inbound, conversation.id, kinds, policy)
    routing = inbound_work(conversation.id, message, new_conversation=True,
                           marker=marker_pk(inbound.provider, inbound.provider_id))
    conversations.start_conversation(provider=inbound.provider, provider_id=inbound.provider_id,
                                     conversation=conversation, message=message, identity=identity,
                                     expected_open=expected_open, work=routing, unless_erased=unless_erased)
    send_kept(work, routing)
    return IngestResult("stored", conversation.id, message.id, new_conversation=True, message_sk=_sk(message))


def _reopen(inbound: InboundMessage, identity: IdentityRecord, conversation_id: str, route: ReplyRoute,
            conversations: Conversations, work: Queue, kinds: list[str], policy: PrivacyPolicy | None,
            unless_erased: Mapping[str, Any] | None = None) -> IngestResult:
    """The customer wrote again after the bot resolved their conversation: it reopens (the router restarts its
    clocks from this message, and the bot sees it afresh), with a system entry saying so."""
    message = _message(inbound, conversation_id, kinds, policy)
    note = reopened_by_customer(conversation_id, message.created_at)
    routing = inbound_work(conversation_id, message, marker=marker_pk(inbound.provider, inbound.provider_id))
    conversations.reopen_inbound(provider=inbound.provider, provider_id=inbound.provider_id, message=message,
                                 channel=inbound.channel, route=route.model_dump(mode="json", exclude_none=True),
                                 preview=preview(inbound.text, len(inbound.attachments)), identity=identity,
                                 note=note, work=routing, unless_erased=unless_erased)
    send_kept(work, routing)
    return IngestResult("stored", conversation_id, message.id, message_sk=_sk(message))


def _duplicate(duplicate: DuplicateDelivery, work: Queue) -> IngestResult:
    """A delivery we have. If its routing was never confirmed (the first delivery's send to the work queue
    failed, or the function stopped before it), send it now: a delivery again closes the gap before the sweep does,
    and a copy of work already sent is dropped by the queue's deduplication or done harmlessly again."""
    if duplicate.unrouted:
        send_kept(work, duplicate.unrouted)
    return IngestResult("duplicate")


def _sk(message: Message) -> str:
    return message_sk(message)
