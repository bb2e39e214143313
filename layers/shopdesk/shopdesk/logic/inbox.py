"""What agents do from the inbox: list, read, reply, note, assign, change status, set presence.

Every use case takes the caller and asks shopdesk.logic.access whether they may see the conversation
(404 as for a missing one if not) before it reads further or acts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.channels import limits as channel_limits
from shopdesk.config import TemplateSpec
from shopdesk.dal import items as it
from shopdesk.dal.agents import Agents
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.identities import split_key
from shopdesk.dal.mentions import Mentions
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import decode_cursor, encode_cursor
from shopdesk.errors import BadRequest, Conflict, InvalidFields, NotFound, ShopdeskError, conversation_not_found
from shopdesk.ids import new_id
from shopdesk.logic import sla_engine, stuck, timeline
from shopdesk.logic.access import Access, Caller, agent_names, in_teams, record_of
from shopdesk.logic.attachments import Attachments, FileRef, check_channel, library_prefix, outbound_prefix
from shopdesk.logic.canned import CannedLibrary
from shopdesk.logic.email_thread import email_thread, reply_address_for
from shopdesk.logic.mentions import MentionDesk
from shopdesk.logic.personalise import DEFAULT_SHOP_NAME, Personaliser, Rendered
from shopdesk.logic.sla_engine import PolicyBook, book_for
from shopdesk.logic.stuck import never_taken_up
from shopdesk.logic.windows import check_consent, free_text_allowed, templates_allowed
from shopdesk.logic.work import Unsent, enqueue_drain, enqueue_refill, send_outbound
from shopdesk.models import (
    Agent,
    Attachment,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Presence,
    Priority,
    ReplyRoute,
)
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

logger = Logger(child=True)
View = Literal["mine", "unassigned", "all", "granted", "mentions"]
Sort = Literal["default", "breach_risk"]
MAX_RISK_SORTED = 1000          # sort=breach_risk reads the teams' queues whole, up to this many each


RETRY_CLAIM_SECONDS = 60      # a claim to send a reply again older than this, with no new reply, was cut short
REPLY_KEY_SECONDS = 24 * 3600   # how long a reply's Idempotency-Key answers its first request's answer
REPLY_KEY_HELD_SECONDS = 120    # a key still in flight this long after it was taken was left by a stopped function


@dataclass(frozen=True)
class PreparedReply:
    """A reply rendered and routed, not yet queued (``Inbox.prepare_reply``; a macro queues it after its
    transaction)."""

    route: ReplyRoute
    rendered: Rendered | None              # None: files only
    payload: dict[str, Any]
    files: list[Attachment] = field(default_factory=list)   # checked as stored and against the channel


@dataclass(frozen=True)
class HeldKey:
    """A reply's Idempotency-Key as its request took it (``Inbox.reply``): marked with the reply in the transaction
    that stores it."""

    agent_id: str
    key: str
    fingerprint: str


class QueueUnavailable(ShopdeskError):
    """The outbound queue refused the reply; it is marked failed so the agent can send it again. ``stored``: the
    reply as stored (failed), which its Idempotency-Key then answers."""

    def __init__(self, detail: str, stored: Message | None = None) -> None:
        super().__init__(detail)
        self.stored = stored


@dataclass
class Inbox:
    conversations: Conversations
    agents: Agents
    work: Queue
    outbound: Queue
    first_response_targets: dict[Priority, int]
    default_capacity: int
    templates: list[TemplateSpec] = field(default_factory=list)
    email_from: str = ""
    book: PolicyBook | None = None
    customers: Customers | None = None
    personaliser: Personaliser | None = None      # variables and canned responses in replies
    privacy: PrivacyPolicies | None = None         # retention of messages and closed conversations; masking of notes
    files: Attachments | None = None              # outbound attachments (None: no media bucket)
    mentions: MentionDesk | None = None           # @name in notes (logic/mentions.py)
    access: Access = field(init=False)

    def __post_init__(self) -> None:
        self.access = Access(self.agents)
        if self.privacy is not None:          # the timeline's other writes expire as messages do: one read
            self.conversations.retention.share(self.privacy)

    def _policies(self) -> PolicyBook:
        if self.book is None:           # built on first use: configuration is read only when clocks move
            self.book = book_for(self.conversations, self.first_response_targets)
        return self.book

    def _clocks(self, conversation_id: str, change: Any) -> None:
        sla_engine.apply(self.conversations, conversation_id, change, self._policies())

    # ------------------------------------------------------------------ reading
    def list(self, caller: Caller, view: View, status: ConversationStatus | None, limit: int,
             cursor: str | None, team: str | None = None, label: str | None = None, sort: Sort = "default"
             ) -> tuple[list[Conversation], str | None]:
        """``mine``: what the caller holds. ``unassigned``: the waiting conversations of the caller's teams
        (or of ``team``, one of theirs; any for an admin). ``all``: everything for an admin; for anyone else
        their teams' conversations and the ones they hold, merged newest activity first. ``granted``: the
        conversations the caller was given access to (assigned, transferred to them; mentions), whatever
        their team, newest grant first. With ``label``, any view holds only the conversations with that label,
        read from the label's ByLabel partition (newest activity first) rather than the view's own index.
        ``mentions``: the conversations the caller was mentioned in, newest mention first (logic/mentions.py; the
        agent API adds each one's mention). ``sort=breach_risk`` (the unassigned view only): most likely to breach
        first (the sweep's estimate, logic/breach_risk.py), those without one last in the queue's order.
        Without ``status``, ``mine``, ``all`` and a label list the conversations still being worked before the
        resolved ones (``_working_first``)."""
        try:
            if sort == "breach_risk":
                if view != "unassigned" or label is not None:
                    raise BadRequest("sort=breach_risk orders the waiting conversations: view=unassigned, "
                                     "without label")
                if team:
                    self.access.team_queue(caller, team)
                if status not in (None, ConversationStatus.OPEN):
                    return [], None
                return self._list_by_risk([team] if team else self.access.teams(caller), limit, cursor)
            if view == "mentions" and label is None:
                if self.mentions is None:
                    self.mentions = MentionDesk(Mentions(self.conversations.table), self.conversations, self.agents)
                page, next_cursor = self.mentions.list(caller, limit, cursor)
                return [c for _, c in page if status is None or c.status is status], next_cursor
            if label is not None:
                return self._list_labelled(caller, view, status, label, limit, cursor, team)
            if view == "mine":
                if status is not None:
                    return self.conversations.list_inbox(caller.id, status.value, limit, cursor)
                # One Query per status, merged: the Inbox index alone sorts by status name first, which would
                # put every resolved conversation before the open ones.
                return self._merged({f"inbox:{s.value}": partial(self.conversations.list_inbox, caller.id, s.value,
                                                                 limit) for s in ConversationStatus},
                                    order=_working_first, newest_first=True, resume=partial(_visible_key, caller.id),
                                    limit=limit, cursor=cursor)
            if view == "granted":
                items, next_cursor = self.conversations.list_granted(caller.id, limit, cursor)
                return [c for c in items if (status is None or c.status is status)
                        and self.access.may_see(caller, c)], next_cursor
            if view == "unassigned":
                if team:
                    self.access.team_queue(caller, team)
                if status not in (None, ConversationStatus.OPEN):
                    return [], None      # only open conversations wait for an agent
                return self._list_waiting([team] if team else self.access.teams(caller), limit, cursor)
            statuses = [status.value] if status else [s.value for s in ConversationStatus]
            if caller.admin:
                if status is not None:
                    return self.conversations.list_by_status(status.value, limit, cursor)
                return self._merged({s: partial(self.conversations.list_by_status, s, limit) for s in statuses},
                                    order=_working_first, newest_first=True, resume=_status_key,
                                    limit=limit, cursor=cursor)
            return self._list_visible(caller, statuses, limit, cursor)
        except ValueError as exc:       # a cursor that is not ours
            raise BadRequest(str(exc)) from exc

    def _list_visible(self, caller: Caller, statuses: list[str], limit: int, cursor: str | None
                      ) -> tuple[list[Conversation], str | None]:
        """The "all" view of an agent or supervisor: per status, one Query of the Access index for each of
        their teams and one of their own inbox (what they hold, whatever its team), merged newest activity
        first; a conversation both in a team of theirs and held by them comes once."""
        teams = self.access.teams(caller)
        sources: dict[str, Callable[[str | None], tuple[list[Conversation], str | None]]] = {}
        for s in statuses:
            for t in teams:
                sources[f"team:{t}:{s}"] = partial(self.conversations.list_team, t, s, limit)
            sources[f"inbox:{s}"] = partial(self.conversations.list_inbox, caller.id, s, limit)
        return self._merged(sources, order=_working_first_by_id, newest_first=True,
                            resume=partial(_visible_key, caller.id), limit=limit, cursor=cursor)

    def _list_labelled(self, caller: Caller, view: View, status: ConversationStatus | None, label: str, limit: int,
                       cursor: str | None, team: str | None) -> tuple[list[Conversation], str | None]:
        """A view narrowed to one label: per status one Query of the label's ByLabel partition and one
        BatchGetItem (#110), merged newest activity first, then kept if the view holds it (what the caller holds,
        what waits in their teams' queues, what was granted to them, what they may see). A page may hold fewer
        than ``limit``; the cursor goes on."""
        if view == "unassigned":
            if team:
                self.access.team_queue(caller, team)
            if status not in (None, ConversationStatus.OPEN):
                return [], None
            statuses = [ConversationStatus.OPEN.value]
        else:
            statuses = [status.value] if status else [s.value for s in ConversationStatus]
        page, next_cursor = self._merged(
            {s: partial(self.conversations.list_labelled, label, s, limit) for s in statuses},
            order=_working_first_by_id, newest_first=True, resume=partial(_label_key, label),
            limit=limit, cursor=cursor)
        if view == "mine":
            keep: Callable[[Conversation], bool] = lambda c: c.assignee == caller.id   # noqa: E731
        elif view == "granted":
            keep = lambda c: caller.id in c.granted and self.access.may_see(caller, c)   # noqa: E731
        elif view == "unassigned":
            teams = {team} if team else set(self.access.teams(caller))
            keep = lambda c: c.assignee is None and in_teams(c, teams)   # noqa: E731
        else:
            keep = self.access.seer(caller)
        return [c for c in page if keep(c)], next_cursor

    def _list_by_risk(self, teams: list[str], limit: int, cursor: str | None
                      ) -> tuple[list[Conversation], str | None]:
        """Waiting conversations of the teams, the highest breach risk first (then the queue's order): each
        team's queue read whole (#230), sorted, and paged by position (a cursor holds the offset; a queue that
        moved between pages moves its conversations, as any live ordering must)."""
        start = 0
        if cursor:
            position = decode_cursor(cursor) or {}
            start = position.get("risk_offset") if isinstance(position.get("risk_offset"), int) else -1
            if start < 0:
                raise BadRequest("cursor is not valid")
        waiting = {c.id: c for t in dict.fromkeys(teams) for c in self.conversations.waiting(t, MAX_RISK_SORTED)}
        ordered = sorted(waiting.values(), key=lambda c: (
            c.breach_risk is None, -(c.breach_risk or 0.0), c.priority.rank, c.waiting_since or c.created_at, c.id))
        page = ordered[start:start + limit]
        more = start + limit < len(ordered)
        return page, encode_cursor({"risk_offset": start + limit}) if more else None

    def _list_waiting(self, teams: list[str], limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """Waiting conversations of the teams, most urgent first, then longest waiting."""
        return self._merged({t: partial(self.conversations.list_queue, t, limit) for t in teams},
                            order=lambda c: (c.priority.rank, c.waiting_since or c.created_at, c.id),
                            newest_first=False, resume=_queue_key, limit=limit, cursor=cursor)

    @staticmethod
    def _merged(sources: dict[str, Callable[[str | None], tuple[list[Conversation], str | None]]], *,
                order: Callable[[Conversation], Any], newest_first: bool,
                resume: Callable[[str, Conversation], dict[str, object]], limit: int,
                cursor: str | None) -> tuple[list[Conversation], str | None]:
        """One page over several index partitions (statuses, teams' queues): one Query each, merged.

        The cursor carries each partition's own position, so paging never skips or repeats."""
        positions = decode_cursor(cursor) if cursor else dict.fromkeys(sources)
        merged: list[tuple[str, Conversation]] = []
        ends: dict[str, str | None] = {}
        for name, position in positions.items():
            if name not in sources:
                raise BadRequest("cursor is not valid")
            page, end = sources[name](encode_cursor(position) if isinstance(position, dict) else None)
            merged.extend((name, c) for c in page)
            ends[name] = end
        merged.sort(key=lambda pair: order(pair[1]), reverse=newest_first)
        # The first `limit` distinct conversations; a second copy from another partition (a conversation
        # in a team of the caller and held by them) sorts next to the first and is passed over with it.
        taken: list[tuple[str, Conversation]] = []
        seen: set[str] = set()
        for name, conv in merged:
            if conv.id not in seen and len(seen) == limit:
                break
            taken.append((name, conv))
            seen.add(conv.id)
        # Resume each partition after the last item of it we returned; those we did not reach stay put.
        next_positions: dict[str, object] = {}
        for name, position in positions.items():
            returned = [c for n, c in taken if n == name]
            fetched = [c for n, c in merged if n == name]
            if len(returned) < len(fetched):
                next_positions[name] = resume(name, returned[-1]) if returned else position
            elif ends[name]:
                next_positions[name] = decode_cursor(ends[name])
        first: dict[str, Conversation] = {}
        for _, conv in taken:
            first.setdefault(conv.id, conv)
        return list(first.values()), encode_cursor(next_positions) if next_positions else None

    def get(self, caller: Caller, conversation_id: str) -> Conversation:
        """The conversation with its messages (their files' links are made only after this check). Of the
        conversations merged into it (logic.fold: one team's, but whom it was assigned or granted to differs), the
        messages of one the caller may not open are left out, as that conversation is."""
        conv = self.access.check(caller, self.conversations.get_with_messages(conversation_id))
        if not conv.folded:
            return conv
        sees = self.access.seer(caller)
        hidden = set()
        for other in conv.folded:
            try:
                if not sees(self.conversations.get_meta(other)):
                    hidden.add(other)
            except NotFound:
                continue
        if not hidden:
            return conv
        return conv.model_copy(update={"messages": [m for m in conv.messages if m.conversation_id not in hidden]})

    def _visible(self, caller: Caller, conversation_id: str) -> Conversation:
        return self.access.check(caller, self.conversations.get_meta(conversation_id))

    # ------------------------------------------------------------------ writing
    def reply(self, caller: Caller, conversation_id: str, text: str | None, channel: str | None = None,
              canned_response_id: str | None = None, attachments: Sequence[FileRef] = (), *,
              key: str | None = None) -> Message:
        """Queue a reply on the channel the customer last wrote from, or on another of theirs. The text (or
        the canned response's body) is rendered first: what is stored and sent is the rendered text. Files
        (``attachments``, uploaded with ``upload``; a canned response's own) are checked as stored and against
        the channel's limits before anything is queued (``AttachmentRefused``: 422).

        ``key`` (the request's ``Idempotency-Key``): the reply is sent once whatever number of times the request
        comes with it. The key is taken (for this caller in this conversation, for ``REPLY_KEY_SECONDS``) before
        anything is queued; a repeat answers the reply the first request stored and sends nothing again (one stored
        and never queued, its function stopped in between, it queues: ``answered_before``); the same key
        with another body is refused (422, code ``idempotency_key_reused``), and a repeat while the first is still
        being handled too (409, code ``reply_key_in_flight``). A first request refused before it stored anything
        lets the key go, so the same key may be sent again; one stored and marked failed because the queue refused
        it (503) keeps the key, and a repeat answers that failed reply, which the agent sends again from the
        timeline (its own claim), never a second copy beside it."""
        read = self.conversations.read_clocks(conversation_id)     # the access check's read, and the clocks'
        conv = self.access.check(caller, read.conversation)
        if key is None:
            return self._reply(caller, conv, read, text, channel, canned_response_id, attachments)
        sent = self._sent(text)[0] if text else text      # the digest of the text as it is stored and sent (masked)
        return self._once(caller, conv.id, key, reply_fingerprint(sent, channel, canned_response_id, attachments),
                          lambda held: self._reply(caller, conv, read, text, channel, canned_response_id, attachments,
                                                   held))

    def _once(self, caller: Caller, conversation_id: str, key: str, fingerprint: str,
              send: Callable[[HeldKey], Message]) -> Message:
        """``send`` a reply or template once per ``key`` (its request's Idempotency-Key; ``fingerprint``, its body's
        digest): the key is taken before ``send`` runs, and a repeat answers the message its first request stored."""
        held = self.take_key(caller.id, conversation_id, key, fingerprint)
        if held is not None:
            return self.answered_before(conversation_id, held)
        try:
            return send(HeldKey(caller.id, key, fingerprint))
        except Exception:
            # refused before the message was stored: the key may be used again. A message stored marked the key in
            # its own transaction (a step after the queue failed, or the queue refused it and it is marked failed), so
            # the key stays with it and a repeat answers it; the release leaves such a key as it is
            self.let_key_go(caller.id, conversation_id, key, fingerprint)
            raise

    def take_key(self, agent_id: str, conversation_id: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        """Take a request's Idempotency-Key in this conversation (``_once``; a macro's apply, for each conversation it
        names: ``MacroDesk.apply``). None: this request took it (mark it with what it stores, ``HeldKey``, or let it
        go); else the item of the first request, whose answer ``answered_before`` gives. The same key with another
        body is refused (422, ``idempotency_key_reused``), and one whose first request is still at work (409,
        ``reply_key_in_flight``)."""
        held = self.conversations.hold_reply_key(agent_id, conversation_id, key, fingerprint, REPLY_KEY_SECONDS,
                                                 REPLY_KEY_HELD_SECONDS)
        if held is None:
            return None
        if held.get("fingerprint") != fingerprint:
            raise InvalidFields([{"loc": ("header", "Idempotency-Key"), "type": "idempotency_key_reused",
                                  "msg": "this Idempotency-Key was sent with another request: a new reply, template "
                                         "or macro's apply needs a new key"}]).with_code("idempotency_key_reused")
        if not held.get("message_sk"):
            raise _in_flight()
        return held

    def let_key_go(self, agent_id: str, conversation_id: str, key: str, fingerprint: str) -> None:
        """A key this request took, refused before it stored anything: the same key may be sent again."""
        self.conversations.release_reply_key(agent_id, conversation_id, key, fingerprint)

    def _reply(self, caller: Caller, conv: Conversation, read: ClockRead, text: str | None, channel: str | None,
               canned_response_id: str | None, attachments: Sequence[FileRef], key: HeldKey | None = None) -> Message:
        prepared = self.prepare_reply(caller, conv, text, channel, canned_response_id, attachments)
        message = self.send_reply(conv, prepared, caller.id, read=read, key=key)
        audit.note(**audited_reply(message))
        return message

    def answered_before(self, conversation_id: str, held: dict[str, Any]) -> Message:
        """What a repeat of a keyed request answers (``held``: its key's item, ``take_key``): the message its first
        request stored, queued again when it may never have been (``never_taken_up``)."""
        sent = self.conversations.get_message(conversation_id, str(held["message_sk"]))
        if sent is None:
            raise _in_flight()
        if never_taken_up(sent):
            # stored with its key done, then perhaps never queued (its function stopped between the two): queued again
            # as the first request queued it, under the same deduplication id, so the queue drops a copy within five
            # minutes and the dispatcher's intent (``record_intent``) sends it once all the same
            try:
                send_outbound(self.outbound, conversation_id, it.message_sk(sent))
            except Unsent as exc:
                raise QueueUnavailable("the reply could not be queued; it is kept: send the request again with the "
                                       "same Idempotency-Key", sent) from exc
        return sent

    def prepare_reply(self, caller: Caller, conv: Conversation, text: str | None, channel: str | None = None,
                      canned_response_id: str | None = None, attachments: Sequence[FileRef] = ()) -> PreparedReply:
        """Everything a reply needs before it is queued: its route, the rendered text (MissingVariables /
        TemplateInvalid, 422, when it cannot be sent as it is), its files checked, its payload. Nothing is
        written."""
        route = self._route(conv, channel)
        permission = free_text_allowed(route.channel, route.last_inbound_at, clock.now())
        payload: dict[str, Any] = {"tag": permission.tag} if permission.tag else {}
        rendered = self._render(caller, conv, text, canned_response_id) if text or canned_response_id else None
        canned_files = [f.attachment() for f in rendered.canned.attachments] if rendered and rendered.canned else []
        files = list(canned_files)
        if attachments:
            files += self._files().confirm(attachments, [outbound_prefix(conv.id, caller.id)], known=canned_files)
        if not files and rendered is None:
            raise BadRequest("the reply has no text and no files")
        check_channel(files, route.provider, route.channel)
        # the text as it is sent (``_queue`` masks it): a card number's mask is longer than a 13-digit card, a shop
        # pattern's is its label, so a reply the channel takes as typed may be too long once masked
        too_long = channel_limits.text_refusal(channel_limits.limits_for(route.provider, route.channel),
                                               self._sent(rendered.text)[0] if rendered else None)
        if too_long is not None:
            raise InvalidFields([{"loc": ("body", "text"), "type": "string_too_long", "msg": too_long}])
        if rendered is not None and rendered.canned is not None:
            payload["canned_response_id"] = rendered.canned.id
        return PreparedReply(route, rendered, payload, _unique(files))

    def send_reply(self, conv: Conversation, prepared: PreparedReply, author: str, *,
                   read: ClockRead | None = None, key: HeldKey | None = None) -> Message:
        """Queue a prepared reply (and count the canned response's use). ``read``: the conversation's clocks as
        the caller read them, if it did; ``key``: the request's Idempotency-Key, marked with the reply as it is
        stored."""
        rendered = prepared.rendered
        message = self._queue(conv, prepared.route, author, text=rendered.text if rendered else None,
                              payload=prepared.payload, attachments=prepared.files, read=read, key=key)
        if rendered is not None and rendered.canned is not None and self.personaliser is not None:
            self.personaliser.canned.count_use(rendered.canned)
        return message

    def retry(self, caller: Caller, conversation_id: str, message_id: str, *, key: str | None = None) -> Message:
        """Send a failed reply again, as a new reply at the end of the timeline: the same channel, text, files
        (or template). Parts the provider took before the failure (one message per file on some channels) are
        not sent twice: the new reply resumes after them. The failed one stays, with its error, and is sent again
        only once: the customer would get it twice (if the new one fails too, that one is sent again).

        A reply stuck in the outbound queue (``logic.stuck``: not sent, and nothing tried to send it for an hour) is
        sent again the same way: first it is marked failed (code ``stuck``), only while nothing took it up meanwhile,
        so its old queue record, if it ever comes back (a redrive of the dead-letter queue), sends nothing.

        ``key`` (the request's ``Idempotency-Key``), as a reply's (``reply``, the same ``_once``): a repeat of the
        request with it answers the new reply its first request stored (202), where one without it, or with another
        key, is refused as sent again already (409)."""
        conv = self.access.check(caller, self.conversations.get_with_messages(conversation_id))
        if key is None:
            return self._retry(caller, conv, message_id)
        return self._once(caller, conv.id, key, retry_fingerprint(message_id),
                          lambda held: self._retry(caller, conv, message_id, held))

    def _retry(self, caller: Caller, conv: Conversation, message_id: str, key: HeldKey | None = None) -> Message:
        failed = next((m for m in conv.messages if m.id == message_id), None)
        if failed is None or failed.direction is not Direction.OUTBOUND:
            raise NotFound(f"reply {message_id} does not exist in conversation {conv.id}")
        now = clock.now()
        is_stuck = failed.status != "failed" and failed.id in stuck.stuck_replies(conv.messages, now)
        if failed.status != "failed" and not is_stuck:
            raise Conflict(f"only a failed reply, or one stuck in the queue for an hour, can be sent again; this one "
                           f"is {failed.status}").with_code("not_failed", status=failed.status or "")
        again = next((m for m in conv.messages if m.retry_of == failed.id), None)
        if again is not None:
            raise Conflict(f"this reply was sent again already ({again.id}); if that one failed too, send it again"
                           ).with_code("sent_again_already")
        route = self._route(conv, failed.channel if failed.channel in conv.routes else None)
        payload = {k: v for k, v in (failed.payload or {}).items() if k in ("template", "canned_response_id")}
        if failed.kind != "template":
            permission = free_text_allowed(route.channel, route.last_inbound_at, clock.now())
            if permission.tag:
                payload["tag"] = permission.tag
        payload["retry_of"] = failed.id
        check_channel(failed.attachments, route.provider, route.channel)
        resume = (failed.parts_sent, failed.part_ids) if route.channel == failed.channel else (0, [])
        if is_stuck and not self.conversations.give_up_stuck(failed.conversation_id, it.message_sk(failed),
                                                             now - stuck.STUCK_AFTER, stuck.gave_up(failed)):
            raise Conflict("this reply is being sent right now: it can be sent again only if that fails"
                           ).with_code("not_failed", status=failed.status or "")
        if not self.conversations.claim_retry(conv.id, it.message_sk(failed), RETRY_CLAIM_SECONDS):
            # two presses at once (two tabs, two agents): both read no new reply; one may send it
            raise Conflict("this reply is being sent again already; if that one fails too, send it again"
                           ).with_code("sent_again_already")
        again = self._queue(conv, route, caller.id, text=failed.text, payload=payload, kind=failed.kind or "text",
                            attachments=failed.attachments, resume=resume, key=key)
        audit.note(**audited_reply(again))
        return again

    def upload(self, caller: Caller, conversation_id: str | None, filename: str, content_type: str,
               size: int, channel: str | None = None) -> dict[str, object]:
        """A presigned upload for one file: for a reply in a conversation the caller may see, or (no
        conversation) for a canned response. With ``channel`` (one of the conversation's), a file that channel
        cannot carry is refused before it is uploaded, as the reply would be (AttachmentRefused). The file's name is
        masked first (``PrivacyPolicies.masked_name``), so the key it is stored under, and the export, hold it
        masked."""
        if self.privacy is not None:
            filename = self.privacy.masked_name(filename)
        if conversation_id is not None:
            conv = self._visible(caller, conversation_id)
            if channel is not None and channel in conv.routes:
                check_channel([Attachment(filename=filename, content_type=content_type, size=size)],
                              conv.routes[channel].provider, channel)
            prefix = outbound_prefix(conv.id, caller.id)
        else:
            prefix = library_prefix(caller.id)
        return self._files().upload(prefix, filename, content_type, size)

    def _files(self) -> Attachments:
        if self.files is None:
            raise BadRequest("attachments are not available here (no media bucket is configured)")
        return self.files

    def preview(self, caller: Caller, conversation_id: str, text: str | None,
                canned_response_id: str | None = None) -> str:
        """The text as the customer would get it, without sending it or counting a use: rendered and masked as a reply
        is (``_sent``). It shows the customer's name and order as the order panel does: its audit record names the
        order it read (``details.order``)."""
        rendered = self._render(caller, self._visible(caller, conversation_id), text, canned_response_id)
        if rendered.order:
            audit.note(order=rendered.order)
        return self._sent(rendered.text)[0]

    def reply_languages(self, caller: Caller, conversation_id: str) -> tuple[str | None, str]:
        """What a canned response's body is chosen by for a reply in this conversation
        (shopdesk.logic.canned.chosen_body): the customer's language and the shop's default one."""
        return self._visible(caller, conversation_id).language, self._policies().routing().default_language

    def _render(self, caller: Caller, conv: Conversation, text: str | None,
                canned_response_id: str | None) -> Rendered:
        if self.personaliser is None:       # no order lookup: order.* has no value (422 naming it)
            library = CannedLibrary(CannedResponses(self.conversations.table))
            self.personaliser = Personaliser(self.conversations, lambda: self._policies().routing(),
                                             DEFAULT_SHOP_NAME, library)
        return self.personaliser.render(caller, conv, text, canned_response_id)

    def send_template(self, caller: Caller, conversation_id: str, name: str, language: str,
                      parameters: list[str], channel: str | None = None, *, key: str | None = None) -> Message:
        """Queue an approved WhatsApp template. ``key`` (the request's ``Idempotency-Key``): sent once, as a reply
        is (``reply``): the same key for the caller in this conversation, a reply's or a template's."""
        conv = self._visible(caller, conversation_id)
        if key is None:
            return self._template(caller, conv, name, language, parameters, channel)
        sent = [self._sent(value)[0] for value in parameters]       # the digest of the parameters as sent (masked)
        return self._once(caller, conv.id, key, template_fingerprint(name, language, sent, channel),
                          lambda held: self._template(caller, conv, name, language, parameters, channel, held))

    def _template(self, caller: Caller, conv: Conversation, name: str, language: str, parameters: list[str],
                  channel: str | None, key: HeldKey | None = None) -> Message:
        route = self._route(conv, channel)
        if not templates_allowed(route.channel):
            raise BadRequest(f"templates are a WhatsApp feature; {route.channel} takes a normal reply")
        template = next((t for t in self.templates if t.name == name and t.language == language), None)
        if template is None:
            raise NotFound(f"no approved template {name!r} in {language!r} (GET /agent/templates lists them)")
        if len(parameters) != template.parameters:
            raise BadRequest(f"template {name!r} takes {template.parameters} parameters, got {len(parameters)}")
        _check_parameters([self._sent(value)[0] for value in parameters])     # as they are sent (``_queue``)
        payload = {"template": {"name": name, "language": language, "parameters": parameters,
                                "provider_ref": template.twilio_content_sid}}
        sent = self._queue(conv, route, caller.id, text=template.render(parameters), payload=payload,
                           kind="template", key=key)
        audit.note(**audited_reply(sent))
        return sent

    def _route(self, conv: Conversation, channel: str | None) -> ReplyRoute:
        """Where an agent's message goes: the channel the customer last wrote on, or another of theirs here; one
        they unsubscribed from is refused (OptedOut, 409) before anything is written."""
        if channel is not None and channel not in conv.routes:
            raise BadRequest(f"the customer has not written on {channel} in this conversation; "
                             f"choose one of {sorted(conv.routes)}")
        route = conv.route if channel is None else conv.routes[channel]
        check_consent(route.channel, route.opted_out)
        return route

    def _queue(self, conv: Conversation, route: ReplyRoute, agent_id: str, *, text: str | None,
               payload: dict[str, Any], kind: str = "text", attachments: Sequence[Attachment] = (),
               resume: tuple[int, list[str]] = (0, []), read: ClockRead | None = None,
               key: HeldKey | None = None) -> Message:
        """Store the reply, with the SLA clocks it stops in the same transaction, then queue it for sending. ``key``:
        the request's Idempotency-Key, marked with the reply in the transaction that stores it.

        The one path of every agent's message to a customer (a reply, a template, a macro's reply, a Send again): its
        text and a template's parameters are masked here (``_sent``: card numbers and the shop's patterns, not an
        IBAN), and what is stored is what the dispatcher sends, so a card number an agent pastes is neither kept nor
        sent; ``masked`` says what was."""
        text, kinds = self._sent(text) if text else (text, ())
        template = payload.get("template")
        if isinstance(template, dict) and template.get("parameters"):
            said = [self._sent(str(value)) for value in template["parameters"]]
            payload["template"] = {**template, "parameters": [value for value, _ in said]}
            kinds = (*kinds, *(kind for _, found in said for kind in found))
        subject, threading = email_thread(route, reply_address_for(conv.id, self.email_from))
        payload.update(threading)
        message = Message(id=new_id("m_"), conversation_id=conv.id, direction=Direction.OUTBOUND,
                          channel=route.channel, text=text, status="queued", created_at=clock.now(),
                          author=agent_id, to=route.to, sender=route.sender, provider=route.provider, kind=kind,
                          subject=subject, payload=payload or None, attachments=list(attachments),
                          parts_sent=resume[0], part_ids=list(resume[1]), expires_at=self._expiry(),
                          masked=list(dict.fromkeys(kinds)))

        also = [] if key is None else [self.conversations.reply_key_op(key.agent_id, conv.id, key.key, key.fingerprint,
                                                                       it.message_sk(message))]

        def write(read: ClockRead, clocks: Any) -> None:
            clocks.on_agent_reply(message.created_at)
            self.conversations.add_outbound(read.conversation, message, clocks=(read, clocks), also=also)

        if sla_engine.with_clocks(self.conversations, conv.id, write, self._policies(), first=read) is None:
            # every attempt lost to another change of the clocks: the reply still goes, its clocks unmoved
            logger.warning("reply stored without moving the clocks", extra={"conversation_id": conv.id})
            self.conversations.add_outbound(conv, message, also=also)
        try:
            send_outbound(self.outbound, conv.id, it.message_sk(message))
        except Unsent as exc:
            self.conversations.record_attempt(
                conv.id, it.message_sk(message), attempts=0, failed=True,
                error={"code": None, "message": "The reply could not be queued for sending; send it again"})
            audit.failed(503, **audited_reply(message))     # the request's record says so (a macro's goes on)
            raise QueueUnavailable("the reply could not be queued; it is marked failed", message) from exc
        return message

    def _expiry(self) -> datetime | None:
        """When a message written now expires (the admins' message retention), if it does."""
        days = self.privacy.current().retention.messages_days if self.privacy else None
        return clock.now() + timedelta(days=days) if days else None

    def note(self, caller: Caller, conversation_id: str, text: str) -> Message:
        conv = self._visible(caller, conversation_id)
        message = self.note_message(caller, conv.id, text)
        audit.note(message=message.id)         # the request's audit record names the note, never its words
        if self.mentions is not None:          # @name notifies that agent (logic/mentions.py)
            return self.mentions.add_note(caller, conv, message)
        if not self.conversations.add_message(message):     # gone, or its customer's erase holds it
            raise conversation_not_found(conv.id)
        return message

    def note_message(self, caller: Caller, conversation_id: str, text: str) -> Message:
        """A note as it is stored (not written here; a macro writes it in its transaction)."""
        text, kinds = self._masked(text)      # a note is never sent: a card number an agent pastes is masked
        return Message(id=new_id("m_"), conversation_id=conversation_id, direction=Direction.NOTE, text=text,
                       created_at=clock.now(), author=caller.id, masked=list(kinds), expires_at=self._expiry())

    def _masked(self, text: str) -> tuple[str, tuple[str, ...]]:
        """An agent's words for the timeline (a note, a hand-off note) as they are stored (``PrivacyPolicies.masked``,
        the one path of every text a person of the desk writes)."""
        if self.privacy is None:
            return text, ()
        return self.privacy.masked(text)

    def _sent(self, text: str) -> tuple[str, tuple[str, ...]]:
        """An agent's words to a customer (a reply, a template's parameters) as they are stored and sent
        (``PrivacyPolicies.masked_sent``): card numbers and the shop's patterns masked, an IBAN kept (the shop's,
        given to be paid); a note masks IBANs too (``_masked``)."""
        if self.privacy is None:
            return text, ()
        return self.privacy.masked_sent(text)

    def assign(self, caller: Caller, conversation_id: str, to_agent: str, note: str | None = None) -> Conversation:
        """Assign or transfer to any agent with room, in the conversation's team or not (as the router's
        rules allow a transfer today); the new assignee is granted access for good (logic/access.py)."""
        conv = self._visible(caller, conversation_id)
        audit.note(before={"assignee": conv.assignee}, after={"assignee": to_agent})
        by_agent = caller.id
        if conv.assignee == to_agent:
            return conv
        if conv.status is ConversationStatus.RESOLVED:
            raise Conflict("a resolved conversation cannot be assigned; reopen it first").with_code("resolved")
        target = self.agents.get(to_agent)
        if target is None:
            raise NotFound(f"agent {to_agent} does not exist")
        if not target.free:                       # said by name; one that fills up meanwhile is refused by the write
            raise Conflict(f"{target.name or target.id} has no free capacity ({target.active} of {target.capacity} "
                           "conversations): choose someone with room, or raise their capacity in Settings → Agents"
                           ).with_code("no_capacity", agent=target.name or target.id, active=target.active,
                                       capacity=target.capacity)
        previous = conv.assignee
        note, kinds = self._masked(note) if note else (note, ())   # stored on the timeline as a note is: masked
        if note:
            audit.note(note=audit.fingerprint(note))    # the hand-off note as a routing note is: a fingerprint
        entry = timeline.assigned_by(conv.id, to_agent, by_agent, previous, note,
                                     self._names(caller, target, previous))
        self.conversations.transfer(conv, to_agent, entry.model_copy(update={"masked": list(kinds)}))
        if previous:
            enqueue_refill(self.work, previous, "transfer")     # the seat it freed, in any of their teams
        return self.conversations.get_meta(conversation_id)

    def _names(self, caller: Caller, target: Agent, previous: str | None) -> dict[str, str]:
        """How an assignment's text says each agent it names (``access.agent_names``): the caller as their request was
        admitted (no read), the new assignee by the record just read; the one it is transferred from, when that is
        someone else, read (one GetItem)."""
        said = agent_names(self.agents, caller, *([previous] if previous != target.id else []))
        return {**said, target.id: timeline.agent_said(target.name)}

    def set_status(self, caller: Caller, conversation_id: str, status: ConversationStatus,
                   note: Message | None = None) -> Conversation:
        """Change the status; the SLA clocks it pauses, resumes or ends are written in the same transaction. A
        reopen takes fresh clocks under the customer's tier as it is now, written after (``apply_tier``).
        ``note`` is the timeline's entry in place of "Marked <status>" (a snooze says until when); it is written
        even when the status stays (a snooze moved to another time)."""
        read = self.conversations.read_clocks(conversation_id)     # the access check's read, and the clocks'
        conv = self.access.check(caller, read.conversation)
        audit.note(before={"status": conv.status.value,
                           **({"snoozed_until": clock.iso(conv.snoozed_until)} if conv.snoozed_until else {})},
                   after={"status": status.value})      # a snooze's end: Snoozer.set_status adds it
        by_agent = caller.id
        if conv.status is status:
            if note is not None:
                self.conversations.add_message(note)
            return conv
        given = note
        if note is None or conv.status is ConversationStatus.RESOLVED:      # a reopen says so, then the note
            note = timeline.status_changed(conv.id, conv.status, status, by_agent, agent_names(None, caller))
        identities = self.slot_holders(conv, status)
        now = clock.now()
        if conv.status is ConversationStatus.RESOLVED:
            self.conversations.set_status(conv, status, note, None, identities=identities)
            # a reopen: fresh clocks under the policy the customer's tier (as it is now) chooses
            if self.customers is None:
                self.customers = Customers(self.conversations.table)
            sla_engine.apply_tier(self.conversations, self.customers, conv.id, self._policies(), at=now,
                                  then=lambda clocks: clocks.on_status(status, now))
        else:
            def write(again: ClockRead, clocks: Any) -> None:
                if again.conversation.status is not conv.status:
                    raise Conflict("the conversation changed meanwhile; reload it and try again"
                                   ).with_code("changed_meanwhile")
                clocks.on_status(status, now)
                self.conversations.set_status(again.conversation, status, note, None, identities=identities,
                                              clocks=(again, clocks))

            if sla_engine.with_clocks(self.conversations, conv.id, write, self._policies(), first=read) is None:
                # every attempt lost to another change of the clocks: the status still changes, its clocks unmoved
                logger.warning("status changed without moving the clocks", extra={"conversation_id": conv.id})
                self.conversations.set_status(conv, status, note, None, identities=identities)
        if given is not None and given is not note:          # after the reopen's entry
            self.conversations.add_message(given.model_copy(
                update={"created_at": max(given.created_at, note.created_at + timedelta(milliseconds=1))}))
        if status is ConversationStatus.RESOLVED and conv.assignee:
            enqueue_refill(self.work, conv.assignee, f"status:{status.value}")
        elif status is ConversationStatus.OPEN:
            enqueue_drain(self.work, conv.team, f"status:{status.value}")
        return self.conversations.get_meta(conversation_id)

    def slot_holders(self, conv: Conversation, status: ConversationStatus) -> list[str] | None:
        """The identities whose open-conversation slot a status change touches: on a resolve, those that hold
        this conversation; on a reopen, every identity of the customer (one slot across all channels)."""
        resolving, reopening = status is ConversationStatus.RESOLVED, conv.status is ConversationStatus.RESOLVED
        if not (resolving or reopening):
            return None
        if self.customers is None:
            self.customers = Customers(self.conversations.table)
        keys = self.customers.slot_keys(conv)
        if reopening:
            return keys
        held = self.customers.identities.get_many(split_key(key) for key in keys)
        return [key for key, record in held.items() if record.open_conversation_id == conv.id]

    def me(self, agent_id: str, name: str | None, email: str | None = None) -> Agent:
        """The calling agent's record, made at their first sign-in; the work email their token gives kept on it
        (written only when it is new or changed), so that colleagues can name one with no name by it. A change of a
        record's email is audited, before and after (this GET's record only then: ``audit.changed``)."""
        agent, changed = self._signed_in(agent_id, name, email)
        if changed:
            audit.note(before=changed[0], after=changed[1])
            audit.changed()
        return agent

    def _signed_in(self, agent_id: str, name: str | None, email: str | None
                   ) -> tuple[Agent, tuple[dict[str, Any], dict[str, Any]] | None]:
        """The caller's record (``me``) and, when their email on it changed, the email before and after."""
        agent = record_of(self.agents, agent_id)          # as the request admitted it: no second read
        if agent is None:
            agent = Agent(id=agent_id, name=name, email=email, capacity=self.default_capacity)
            if not self.agents.create(agent):
                agent = self.agents.get(agent_id) or agent
        if email and agent.email != email:
            self.agents.set_email(agent.id, email)
            changed = {"email": agent.email}, {"email": email}
            return agent.model_copy(update={"email": email}), changed
        return agent, None

    def set_presence(self, agent_id: str, name: str | None, presence: Presence, email: str | None = None) -> Agent:
        me, changed = self._signed_in(agent_id, name, email)   # as the request admitted it: its presence before
        agent = self.agents.set_presence(me.id, presence)
        before, after = changed or ({}, {})               # the email too, when the token's changed it
        audit.note(before={**before, "presence": me.presence.value}, after={**after, "presence": agent.presence.value})
        # offline: after the grace period the sweep returns the agent's open conversations to the queue
        grace = None
        if presence is Presence.OFFLINE:
            grace = clock.iso(clock.now() + timedelta(seconds=self._policies().routing().offline_grace_seconds))
        self.conversations.set_agent_timer(agent_id, "agent_offline", grace)
        if presence is Presence.ONLINE:
            enqueue_refill(self.work, agent.id, "agent-online")
        return agent


def _in_flight() -> Conflict:
    return Conflict("the first request with this Idempotency-Key is still being handled; send it again in a "
                    "moment").with_code("reply_key_in_flight")


def _check_parameters(parameters: Sequence[str]) -> None:
    """A template's parameters as they are sent, held to what the API takes as typed (``TEMPLATE_PARAMETER_CHARS``):
    one its mask made longer is refused with the problem of one typed too long (422, ``string_too_long``)."""
    most = channel_limits.TEMPLATE_PARAMETER_CHARS
    errors = [{"loc": ("body", "parameters", index), "type": "string_too_long",
               "msg": f"String should have at most {most} characters"}
              for index, value in enumerate(parameters) if len(value) > most]
    if errors:
        raise InvalidFields(errors)


def audited_reply(message: Message) -> dict[str, Any]:
    """What a reply's audit record says of it (a reply, one sent again, a template, a macro's): which message, on
    which channel, with how many files; never their words or names (docs/security.md, section 9)."""
    return {"message": message.id, "channel": message.channel, "files": len(message.attachments)}


def _unique(files: list[Attachment]) -> list[Attachment]:
    """Each stored file once, in order (a canned response's file named again in the request)."""
    unique: dict[str | None, Attachment] = {}
    for file in files:
        unique.setdefault(file.storage_key, file)
    return list(unique.values())


def _working_first(conv: Conversation) -> tuple[bool, datetime]:
    """A list's order without a status (sorted descending): the conversations still being worked (open, pending,
    snoozed) before the resolved ones, each newest activity first. A resolved conversation is history: a day of
    them must not push the open ones off an agent's first page. Equal keys keep their index's order (the sort is
    stable), so what a page returns of a partition is always the start of what it fetched, where the cursor
    resumes."""
    return conv.status is not ConversationStatus.RESOLVED, conv.updated_at


def _working_first_by_id(conv: Conversation) -> tuple[bool, datetime, str]:
    """``_working_first``, then the id: where one conversation can come from two partitions (a team's and the
    caller's inbox), so its copies sort next to each other and the second is passed over."""
    return *_working_first(conv), conv.id


def _status_key(status: str, conv: Conversation) -> dict[str, object]:
    """The ByStatus index position of a conversation, as DynamoDB's LastEvaluatedKey would name it."""
    updated = clock.iso(conv.updated_at)
    return {"PK": {"S": it.conv_pk(conv.id)}, "SK": {"S": it.META},
            "StatusPK": {"S": it.status_pk(status)}, "StatusSK": {"S": updated}}


def _visible_key(agent_id: str, source: str, conv: Conversation) -> dict[str, object]:
    """The Access or Inbox index position of a conversation in the "all" view's partition ``source``."""
    kind, _, rest = source.partition(":")
    sort = {"S": f"{conv.status.value}#{clock.iso(conv.updated_at)}"}
    base = {"PK": {"S": it.conv_pk(conv.id)}, "SK": {"S": it.META}, "InboxSK": sort}
    if kind == "team":
        return {**base, "AccessPK": {"S": it.access_team(rest.rsplit(":", 1)[0])}}
    return {**base, "InboxPK": {"S": it.inbox_pk(agent_id)}}


def _label_key(label: str, status: str, conv: Conversation) -> dict[str, object]:
    """The ByLabel index position of a labelled conversation, as DynamoDB's LastEvaluatedKey would name it."""
    return {"PK": {"S": it.conv_pk(conv.id)}, "SK": {"S": it.label_sk(label)}, "LabelPK": {"S": it.label_pk(label)},
            "LabelSK": {"S": it.label_index_sk(status, clock.iso(conv.updated_at), conv.id)}}


def _queue_key(team: str, conv: Conversation) -> dict[str, object]:
    """The Queue index position of a waiting conversation, as DynamoDB's LastEvaluatedKey would name it."""
    since = clock.iso(conv.waiting_since or conv.created_at)
    return {"PK": {"S": it.conv_pk(conv.id)}, "SK": {"S": it.META},
            "QueuePK": {"S": it.queue_pk(team)}, "QueueSK": {"S": it.queue_sk(conv.priority, since, conv.id)}}


def reply_fingerprint(text: str | None, channel: str | None, canned_response_id: str | None,
                      attachments: Sequence[FileRef]) -> str:
    """A digest of a reply's request body (not the text itself: the key's item keeps nothing the customer wrote or
    was written), which a repeat of the request with the same Idempotency-Key must match. ``text``: as it is stored
    and sent, masked (``Inbox._sent``), never as typed: a digest of a typed card number beside its stored last four
    digits gives the whole number back by trying the few billion numbers left. Two requests whose texts differ only
    inside a masked card number are the same request."""
    body = {"text": text, "channel": channel, "canned_response_id": canned_response_id,
            "attachments": [[f.key, f.filename, f.content_type, f.size] for f in attachments]}
    return _body_digest(body)


def template_fingerprint(name: str, language: str, parameters: Sequence[str], channel: str | None) -> str:
    """A digest of a template's request body, as ``reply_fingerprint`` is of a reply's, its ``parameters`` as sent,
    masked (a key sent with a reply and then with a template, or the other way, is another body: 422)."""
    return _body_digest({"template": {"name": name, "language": language, "parameters": list(parameters)},
                         "channel": channel})


def retry_fingerprint(message_id: str) -> str:
    """A digest of a "Send again" request (the failed reply it names), as ``reply_fingerprint`` is of a reply's (a key
    sent with a reply and then with a Send again, or the other way, is another body: 422)."""
    return _body_digest({"retry_of": message_id})


def macro_fingerprint(macro_id: str, conversation_ids: Sequence[str]) -> str:
    """A digest of a macro's apply request (the macro and the conversations in order), as ``reply_fingerprint`` is of
    a reply's: one key for the whole request, the same digest on each conversation's key item."""
    return _body_digest({"macro_id": macro_id, "conversation_ids": list(conversation_ids)})


def _body_digest(body: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
