"""Several changes to one conversation as one write: what labels and macros are made of.

A ``Plan`` starts from one consistent read of the conversation (its clocks and version) and takes the changes
in order, each by the rule its own use case applies elsewhere:

- labels: only known, unretired labels may be added (any may be taken off); a label the routing settings send
  to another team (``team_by_label``) moves the conversation there, by the routing rule of who may change its
  team (shopdesk.logic.labels);
- priority and team: shopdesk.logic.reroute's rules (who may, a resolved conversation keeps its routing, the
  team must exist, the clocks rebound, an assignee who is not in the new team gives it up);
- status and snooze: shopdesk.logic.inbox's and shopdesk.logic.snooze's (the clocks pause, resume or stop; a
  resolve frees the customer's slot and the assignee's seat; a snooze wakes by its timer);
- assignment: the assignment route's (the agent must exist and have room; the previous one's seat is freed;
  the new assignee is granted access for good), or back to the queue;
- a note.

``Conversations.edit`` then writes the outcome, the notes and one timeline entry in one TransactWriteItems,
conditioned on the conversation as read; when another event won meanwhile, the plan is made again from a
fresh read. Nothing of a plan is written if any change is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import KEEP, ClockConflict, ClockRead, Conversations, Edit
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict, NotFound, ShopdeskError
from shopdesk.ids import new_id
from shopdesk.logic.access import Access, Caller, agent_names
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.logic.reroute import RoutingChange, check_allowed, check_label_move, check_team, teams_of
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.timeline import agent_said, change
from shopdesk.logic.work import enqueue_drain, enqueue_refill
from shopdesk.models import Conversation, ConversationStatus, Direction, Message, Priority
from shopdesk.models.labels import MAX_LABELS, Label

ATTEMPTS = 4


class Refused(ShopdeskError):
    """A change of a plan cannot be made: 409 (the conversation's state forbids it) or 422 (it names something
    that does not exist or may not be used; ``loc`` says where in the request). Nothing was written."""

    def __init__(self, detail: str, status: int = 409, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(detail)
        self.detail, self.status, self.loc = detail, status, loc


@dataclass
class Plan:
    """The changes to one conversation so far, applied to what was read."""

    read: ClockRead
    clocks: ConversationClocks
    caller: Caller
    edit: Edit = field(default_factory=Edit)
    said: list[dict[str, Any]] = field(default_factory=list)   # what the timeline entry lists (timeline.change)
    agents_read: dict[str, str] = field(default_factory=dict)  # the agents it read, as its text says them

    @property
    def names(self) -> dict[str, str]:
        """How the timeline entry says the agents it names (``access.agent_names``): the caller as their request was
        admitted, and the agents the plan read anyway (the assignee a team change releases, the one it assigns)."""
        return {**agent_names(None, self.caller), **self.agents_read}

    @property
    def conv(self) -> Conversation:
        return self.read.conversation

    @property
    def status(self) -> ConversationStatus:
        return self.edit.status or self.conv.status

    @property
    def team(self) -> str:
        return self.edit.team or self.conv.team

    @property
    def priority(self) -> Priority:
        return self.edit.priority or self.conv.priority

    @property
    def assignee(self) -> str | None:
        return self.conv.assignee if self.edit.assignee is KEEP else self.edit.assignee

    @property
    def labels(self) -> list[str]:
        return list(self.edit.labels) if self.edit.labels is not None else list(self.conv.labels)

    def audited(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """What the plan changes, as it was and as it is written, for the audit trail: labels, priority, team,
        status (a snooze with its end), assignee; (None, None) when nothing. Notes and replies are no field of
        the conversation: ``said`` lists them (ids, never the words)."""
        fields = {"labels": (sorted(self.conv.labels), sorted(self.labels)),
                  "priority": (self.conv.priority.value, self.priority.value), "team": (self.conv.team, self.team),
                  "status": (self.conv.status.value, self.status.value),
                  "assignee": (self.conv.assignee, self.assignee)}
        changed = {name: values for name, values in fields.items() if values[0] != values[1]}
        if self.edit.snooze_until:
            changed["snoozed_until"] = (self.conv.snoozed_until and clock.iso(self.conv.snoozed_until),
                                        self.edit.snooze_until)
        if not changed:
            return None, None
        return {k: v[0] for k, v in changed.items()}, {k: v[1] for k, v in changed.items()}


@dataclass
class Composer:
    conversations: Conversations
    agents: Agents
    config: ConfigStore
    work: Queue
    book: PolicyBook
    slot_holders: Callable[[Conversation, ConversationStatus], list[str] | None]
    # the inbox's own rule for the notes it writes (privacy: masked and expiring); without it, a plain note
    note_message: Callable[[Caller, str, str], Message] | None = None
    on_resolved: Callable[[str], object] | None = None     # after a resolve (the satisfaction survey, a transcript)
    access: Access = field(init=False)

    def __post_init__(self) -> None:
        self.access = Access(self.agents)

    # ------------------------------------------------------------------ running a plan
    def run(self, caller: Caller, conversation_id: str, build: Callable[[Plan], Message | None]) -> Conversation:
        """Read the conversation, let ``build`` add the changes and make the timeline entry (None: nothing to
        write), write them in one transaction; from a fresh read when another event won meanwhile. The
        caller must be allowed to see the conversation (else the 404 of a missing one)."""
        for _ in range(ATTEMPTS):
            read = self.conversations.read_clocks(conversation_id)
            self.access.check(caller, read.conversation)
            clocks = read.clocks or self.book.clocks(read.conversation.channel, read.conversation.team,
                                                     read.conversation.priority, tier=read.conversation.customer.tier)
            plan = Plan(read, clocks, caller)
            entry = build(plan)
            if entry is None:
                return read.conversation
            plan.edit.messages = [*plan.edit.messages, entry]
            try:
                self.conversations.edit(read, plan.clocks, plan.edit)
            except ClockConflict:
                continue
            self._after(plan)
            return self.conversations.get_meta(conversation_id)
        raise Conflict("the conversation changed meanwhile; reload it and try again").with_code("changed_meanwhile")

    def _after(self, plan: Plan) -> None:
        """What the routing needs to hear once it is written: a conversation now waiting (an online agent of
        its team may take it), a seat freed (its agent may take the next one)."""
        conv = plan.conv
        if plan.status is ConversationStatus.OPEN and plan.assignee is None and (
                conv.assignee is not None or conv.status is not ConversationStatus.OPEN or plan.team != conv.team):
            enqueue_drain(self.work, plan.team, "composed")
        held_before = conv.assignee if conv.status is not ConversationStatus.RESOLVED else None
        held_after = plan.assignee if plan.status is not ConversationStatus.RESOLVED else None
        if held_before and held_before != held_after:
            enqueue_refill(self.work, held_before, "composed")
        if (self.on_resolved is not None and plan.status is ConversationStatus.RESOLVED
                and conv.status is not ConversationStatus.RESOLVED):
            self.on_resolved(conv.id)

    # ------------------------------------------------------------------ the changes
    def labels(self, plan: Plan, add: Iterable[str], remove: Iterable[str], known: dict[str, Label]) -> None:
        """Add and take off labels. Unknown or retired labels cannot be added (422 naming them); a label
        routed to a team (``team_by_label``) sends the conversation there, when the caller may change its team
        (403 otherwise, as the routing route's)."""
        add, remove = list(dict.fromkeys(add)), list(dict.fromkeys(remove))
        refused = [label for label in add if label not in known or known[label].retired]
        if refused:
            raise Refused("unknown or retired labels: " + ", ".join(refused), 422, ("body", "add"))
        before = plan.labels
        after = sorted((set(before) | set(add)) - set(remove))
        if len(after) > MAX_LABELS:
            raise Refused(f"a conversation takes at most {MAX_LABELS} labels", 422)
        added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
        if not added and not removed:
            return
        plan.edit.labels = after
        if added:
            plan.said.append(change("labels_added", labels=added))
        if removed:
            plan.said.append(change("labels_removed", labels=removed))
        routes = self.book.routing().team_by_label
        for label in added:
            team = routes.get(label)
            if team and team != plan.team and plan.status is not ConversationStatus.RESOLVED:
                check_label_move(plan.conv, known[label].name, team, plan.caller.id, plan.caller.roles)
                self._move_team(plan, team, label=label)

    def priority(self, plan: Plan, priority: Priority) -> None:
        self._routable(plan)
        check_allowed(plan.conv, RoutingChange(priority=priority), plan.caller.id, plan.caller.roles)
        if priority is plan.priority:
            return
        self.book.rebind(plan.clocks, plan.conv.channel, plan.team, priority)
        plan.said.append(change("priority", to=priority.value, **{"from": plan.priority.value}))
        plan.edit.priority = priority

    def team(self, plan: Plan, team: str) -> None:
        self._routable(plan)
        check_allowed(plan.conv, RoutingChange(team=team), plan.caller.id, plan.caller.roles)
        if team != plan.team:
            self._move_team(plan, team)

    def _move_team(self, plan: Plan, team: str, label: str | None = None) -> None:
        """To another team (``label``: the label routed to it that was added)."""
        try:
            check_team(self.book, self.config, team)
        except NotFound as exc:
            raise Refused(str(exc), 422) from exc
        self.book.rebind(plan.clocks, plan.conv.channel, team, plan.priority, choose=True,
                         tier=plan.conv.customer.tier, at=clock.now())
        plan.said.append(change("team", to=team, label=label, **{"from": plan.team}))
        plan.edit.team = team
        holder = self.agents.get(plan.assignee) if plan.assignee else None
        if holder is not None and team not in teams_of(holder):
            plan.edit.assignee = None
            plan.said.append(change("not_in_team", agent=holder.id, team=team, queued=False))
            plan.agents_read[holder.id] = agent_said(holder.name)

    def status(self, plan: Plan, status: ConversationStatus, until: datetime | None = None) -> None:
        self._routable(plan, "changes status")
        if until is not None and until <= clock.now():
            raise Refused("a snooze must end in the future", 422)
        if status is plan.status and until is None:
            return
        now = clock.now()
        plan.clocks.on_status(status, now)
        if status is ConversationStatus.RESOLVED:
            plan.edit.slots = self.slot_holders(plan.conv, status) or []
        plan.edit.status = status
        plan.edit.snooze_until = clock.iso(until) if until is not None else None
        plan.said.append(change("status", status=status.value, until=clock.iso(until) if until is not None else None))

    def assign(self, plan: Plan, agent_id: str | None) -> None:
        self._routable(plan, "is assigned")
        if agent_id == plan.assignee:
            return
        if agent_id is not None:
            agent = self.agents.get(agent_id)
            if agent is None:
                raise Refused(f"agent {agent_id} does not exist", 422)
            plan.agents_read[agent.id] = agent_said(agent.name)
        plan.edit.assignee = agent_id
        plan.said.append(change("assigned", agent=agent_id) if agent_id else change("queued"))

    def note(self, plan: Plan, text: str) -> None:
        note = (self.note_message(plan.caller, plan.conv.id, text) if self.note_message is not None else
                Message(id=new_id("m_"), conversation_id=plan.conv.id, direction=Direction.NOTE, text=text,
                        created_at=clock.now(), author=plan.caller.id))
        plan.edit.messages = [*plan.edit.messages, note]
        plan.said.append(change("note"))

    @staticmethod
    def _routable(plan: Plan, what: str = "keeps its routing") -> None:
        if plan.conv.status is ConversationStatus.RESOLVED:
            raise Refused(f"a resolved conversation {what} as it is; reopen it first")
