"""A merge of two customers who each had an open conversation makes the two one (called from logic.merge).

One open conversation per customer is the desk's rule (dal.identities): every channel's next message goes to
it. When a merge joins two customers who both had one open (an agent merging a chat visitor into an email
customer, a visitor proving their email with a code while their email waits), the survivor's conversation
takes the other in, as helpdesks merge tickets:

- the other's messages show in it, in time order among its own (they stay where they were written: delivery
  receipts, retries, search and erasure find them there; ``Conversations.get_with_messages`` reads both);
- it takes the other's channels it lacks, so its agent answers the customer there too (the web chat shows
  the visitor this one conversation, agents' replies included), and replies go where the customer wrote last:
  the other's channel when they wrote there later (an unmerge gives the reply channel back if nothing came on
  it since, and takes off every route to the other's addresses: ``logic.merge``);
- the other is resolved as merged: its seat freed, no survey; it names the one it went into (``folded_into``),
  and the reports count it as merged, not resolved (docs/metrics.md); its clocks stop unmeasured (``stopped``:
  nobody met or missed a target of it, so no SLA figure counts them), and it keeps since when its customer was
  waiting (``folded_awaiting_since``);
- a customer who was waiting for an answer there waits in it now: a snoozed or pending survivor's conversation
  opens again, and its clocks run from when they began to wait (as if they had written there);
- its system entries (assignments, clocks) stay its own: the survivor's shows what was written there.

Only conversations of one team are made one: whoever may see the survivor's would otherwise read another
team's conversation in it (docs/security.md). Two of different teams stay open side by side, as before this
module, each for its team to finish.

An unmerge takes them apart: the other's messages leave the survivor's conversation, its channels go back to
it, and it is open again (its customer's slot, its team's queue), as it was when merged. A merge undone was a
mistake, not a new request of the customer's, so the conversation goes on with the cycle it had, not a new one
(docs/metrics.md, "Cycle"):

- its status change says so (``folded_into`` goes in the same write; the lake's reason ``unmerged``), and no
  reopen figure counts it;
- its cycle start and first response stay (``cycle_started_at``, ``sla.first_response_at``): a first response
  still owed is measured from the customer's message, not from the unmerge;
- a customer who was waiting when it was merged and still is (nobody answered in the survivor's since) waits
  since then again (``awaiting_since``, and their place in the queue), as they did;
- its clocks are the ones the fold stopped, taken up again: one that was running counts the merged time too,
  since the customer waited all along (one that stood still, pending or snoozed, runs from the unmerge); a
  deadline that passed meanwhile is a breach at the next sweep. Fresh clocks would forgive the desk the time its
  mistake cost the customer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict, NotFound
from shopdesk.logic import sla_engine, snooze, timeline
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.work import count_not_sent, enqueue_drain, enqueue_refill
from shopdesk.models import Conversation, ConversationStatus
from shopdesk.models.customer import Folded

logger = Logger(child=True)


@dataclass
class Folder:
    conversations: Conversations
    book: Callable[[], PolicyBook]            # built on first use: configuration is read only when clocks move
    work: Queue | None = None                 # the freed seat's refill, the reopened one's drain

    def customers(self) -> Customers:
        return Customers(self.conversations.table)

    def plan(self, source_id: str, target_id: str) -> Folded | None:
        """What ``fold`` will do, for the merge record: None when there is nothing to fold (the same
        conversation, one gone or resolved meanwhile, or two teams' conversations)."""
        if source_id == target_id:
            return None
        try:
            source, target = self.conversations.get_meta(source_id), self.conversations.get_meta(target_id)
        except NotFound:
            return None
        if ConversationStatus.RESOLVED in (source.status, target.status):
            return None
        if source.team != target.team:        # its messages would show to a team that may not see them
            return None
        return Folded(conversation=source.id, into=target.id, channels=sorted(set(source.routes) - set(target.routes)))

    def fold(self, source_id: str, target_id: str, *, by: str, names: Mapping[str, str]) -> bool:
        """Take ``source_id`` into ``target_id``; False when nothing was folded (one gone or resolved meanwhile,
        or folded already). ``names``: how the entries say who merged (``timeline.said``)."""
        try:
            source, target = self.conversations.get_meta(source_id), self.conversations.get_meta(target_id)
        except NotFound:
            return False
        if source.id in target.folded or source.status is ConversationStatus.RESOLVED:
            return False
        waiting = self.conversations.awaiting_since(source.id)          # read before its resolve removes it
        self.conversations.fold(target, source, timeline.folded(target.id, source.id, source.channel,
                                                                source.message_count, by, names), waiting)
        self.conversations.mark_folded(source.id, target.id, waiting)
        now = clock.now()
        for _ in range(3):
            try:
                self.conversations.set_status(source, ConversationStatus.RESOLVED,
                                              timeline.folded_into(source.id, target.id, by, names), None,
                                              identities=[])
                break
            except Conflict:            # changed meanwhile (a reply, an assignment): read it again
                source = self.conversations.get_meta(source_id)
                if source.status is ConversationStatus.RESOLVED:
                    break
        else:
            logger.warning("merged conversation left open: it kept changing", extra={"conversation_id": source_id})
            return True
        sla_engine.apply(self.conversations, source.id, lambda clocks: clocks.on_fold(now), self.book())
        work = self.work.for_request() if self.work is not None else None     # one send's wait at worst: _route
        if source.assignee and work is not None:
            self._route(enqueue_refill, work, source.assignee, source.id)          # the seat it freed
        if waiting is not None:
            self._customer_waits(target.id, waiting, work)
        return True

    def _route(self, send: Callable[[Queue, str, str], None], work: Queue, whom: str, conversation_id: str,
               reason: str = "merged") -> None:
        """A routing send made after the merge and the fold were stored (the freed seat's refill, the reopened
        conversation's drain), or after an unmerge (the conversation open again in its team's queue): one the queue
        refused, or did not answer within its client's time, fails nothing. The sweep drains every team each minute
        (``logic.sla``), which assigns the conversation and fills the seat as these would have; it is logged and
        counted (``count_not_sent``, which pages), and the merge or unmerge is answered as done (a web-chat visitor's
        proof of their email is verified: the code is used, and the merge on the trail).
        The fold's sends go through ``Queue.for_request``: once one ran out of time, the other is not tried, so a queue
        that hangs costs the merge one send at its worst (3 s with the web chat's client), not two."""
        try:
            send(work, whom, reason)
        except Exception:
            logger.warning("routing work after a merge or unmerge not sent: the sweep's drain does it", exc_info=True,
                           extra={"conversation_id": conversation_id, "reason": reason})
            count_not_sent("drain")

    def _customer_waits(self, target_id: str, since: datetime, work: Queue | None = None) -> None:
        """The other conversation's customer was waiting for an answer: the one it went into owes it now, as if
        they had written there. A snoozed or pending one opens again (a snooze ends when the customer writes),
        and its clocks run from when they began to wait (a first response, or the next one after a reply)."""
        target = self.conversations.get_meta(target_id)
        if target.status is ConversationStatus.SNOOZED:
            snooze.wake(self.conversations, self.book(), target_id)
        elif target.status is ConversationStatus.PENDING:
            with contextlib.suppress(Conflict):
                self.conversations.set_status(target, ConversationStatus.OPEN, timeline.customer_waits(target_id),
                                              None)
        sla_engine.apply(self.conversations, target_id, sla_engine.customer_wrote(since), self.book())
        if target.status is not ConversationStatus.OPEN and not target.assignee and work is not None:
            self._route(enqueue_drain, work, target.team, target_id)          # open again, in its team's queue

    def unfold(self, source_id: str, target_id: str, channels: list[str], *, by: str, names: Mapping[str, str]
               ) -> None:
        """Take them apart again (an unmerge): the target gives back the other's messages and channels, and the
        other is open again, waiting in its team's queue, as it was when merged (the unmerge gave its customer's
        identities back their slot on it): the same cycle, its customer waiting since when they did if nobody
        answered them meanwhile, its clocks taken up again (module docstring). What was erased meanwhile is left
        alone."""
        target_waits, target_gone = None, False
        try:
            source: Conversation | None = self.conversations.get_meta(source_id)
        except NotFound:
            source = None
        try:
            target_waits = self.conversations.awaiting_since(target_id)     # before: an answer there since the fold?
            self.conversations.unfold(target_id, source_id, channels,
                                      timeline.unfolded(target_id, source_id, by, names), source)
        except NotFound:
            target_gone = True
        if source is None:
            return
        if source.status is not ConversationStatus.RESOLVED:
            self.conversations.mark_folded(source_id, None)
            return
        # the customer waits still if the survivor's conversation, which owed them the answer since the merge, gave
        # none: it waits for one since before the merge (a reply clears that, a message after it starts a later
        # wait); one erased meanwhile answered nobody
        wait = self.conversations.folded_wait(source_id)
        still = wait is not None and (target_gone or (target_waits is not None and target_waits <= wait[1]))
        try:
            self.conversations.set_status(source, ConversationStatus.OPEN,
                                          timeline.unfolded(source_id, target_id, by, names),
                                          None, identities=[], unfolding=True,
                                          awaiting_since=wait[0] if wait is not None and still else None)
        except Conflict:
            self.conversations.mark_folded(source_id, None)
            logger.warning("unmerged conversation left resolved: it changed meanwhile",
                           extra={"conversation_id": source_id})
            return
        now = clock.now()
        sla_engine.apply_tier(self.conversations, self.customers(), source_id, self.book(), at=now,
                              then=lambda clocks: clocks.on_unfold(now))
        if self.work is not None:
            self._route(enqueue_drain, self.work.for_request(), source.team, source_id, "unmerged")  # its team's queue
