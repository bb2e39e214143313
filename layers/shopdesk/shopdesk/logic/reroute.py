"""People correct what the router decided: a conversation's priority, team and skills.

Who may do what (roles are the token's Cognito groups, as in the admin API):

- supervisors and admins: any change, on any conversation that is not resolved;
- the assignee, on their own conversation: raise the priority (lowering it is a supervisor's call), set the
  skills, send it to another team;
- anyone else: nothing, nor a label the routing settings send to another team (``check_label_move``: it would
  move the conversation); and who may not see the conversation at all (shopdesk.logic.access) gets the
  404 of a conversation that does not exist.

A change is one transaction with everything that follows from it (Conversations.reroute): the SLA clocks
rebound to the new priority's targets, or to the policy that applies to the new team (and the customer's tier,
as the conversation records it), keeping the business time already used; the conversation's place in its
queue; the released assignee's capacity; the note on the timeline (masked as a note is:
``PrivacyPolicies.masked``). It is conditioned on the conversation as read and read again when another event won.

A change that changes nothing (the priority, team and skills it names are the conversation's already, as read at
the write) is refused: a 422 with the code ``nothing_to_change``, its note not written (a note alone is a note).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopdesk import clock
from shopdesk.dal.agents import Agents
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import ClockRead, Conversations
from shopdesk.dal.queues import Queue
from shopdesk.errors import Conflict, Forbidden, InvalidFields, NotFound
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.access import ADMIN, SUPERVISOR, Access, Caller, agent_names
from shopdesk.logic.business_time import ConversationClocks
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.work import enqueue_drain
from shopdesk.models import Agent, Conversation, ConversationStatus, Message, Priority
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

LEADS = frozenset({ADMIN, SUPERVISOR})


@dataclass(frozen=True)
class RoutingChange:
    """What the caller asks for; None leaves that part as it is."""

    priority: Priority | None = None
    team: str | None = None
    skills: list[str] | None = None
    note: str | None = None


@dataclass(frozen=True)
class _Applied:
    team: str
    queued: bool                  # waiting in the team's queue after the change
    drain: bool                   # a change that may let an online agent of the team take it now
    released: Agent | None


def teams_of(agent: Agent) -> set[str]:
    """The teams an agent works in (the one place that knows how membership is stored)."""
    return set(agent.teams)


def check_allowed(conv: Conversation, change: RoutingChange, by: str, roles: Iterable[str]) -> None:
    """Supervisors and admins may change anything; the assignee may change their own conversation
    except lowering its priority. Raises PermissionError (403)."""
    if LEADS & set(roles):
        return
    if conv.assignee != by:
        raise PermissionError("only the conversation's assignee, supervisors and admins may change its routing")
    if change.priority is not None and change.priority.rank > conv.priority.rank:
        raise PermissionError("lowering a conversation's priority needs the role supervisors or admins")


def check_label_move(conv: Conversation, label: str, team: str, by: str, roles: Iterable[str]) -> None:
    """A label the routing settings send to another team (``team_by_label``; ``label``: its name) moves the
    conversation as a team change on the routing route would, so by that route's rule (``check_allowed``): who may
    not change the conversation's team may not add the label either. Raises Forbidden (403, code
    ``label_moves_team``)."""
    try:
        check_allowed(conv, RoutingChange(team=team), by, roles)
    except PermissionError as exc:
        raise Forbidden(f"the label {label} moves the conversation to team {team}, and {exc}",
                        "label_moves_team", label=label, team=team) from exc


def nothing_to_change(conv: Conversation) -> InvalidFields:
    """The refusal of a change that changes nothing: the body names what the conversation has already."""
    return InvalidFields([{"loc": ("body",), "type": "nothing_to_change", "msg": (
        f"the conversation's priority ({conv.priority.value}), team ({conv.team}) and skills "
        f"({', '.join(sorted(conv.skills)) or 'none'}) are what this change asks for already: nothing to change "
        "(a note alone is a note: POST /agent/conversations/{id}/notes)")}]).with_code("nothing_to_change")


def describe(conv: Conversation, priority: Priority, team: str, skills: list[str], by: str,
             released: str | None, note: str | None, names: Mapping[str, str]) -> Message:
    """The timeline's account of a change: who changed what, whose seat it freed, and the note (masked already);
    ``names``: how its text says them (``access.agent_names``)."""
    changes = []
    if priority is not conv.priority:
        changes.append(timeline.change("priority", to=priority.value, **{"from": conv.priority.value}))
    if team != conv.team:
        changes.append(timeline.change("team", to=team, **{"from": conv.team}))
    if skills != sorted(conv.skills):
        changes.append(timeline.change("skills", to=skills, **{"from": sorted(conv.skills)}))
    if released:
        changes.append(timeline.change("not_in_team", agent=released, team=team,
                                       queued=conv.status is ConversationStatus.OPEN))
    return timeline.routing_changed(conv.id, by, changes, note, names)


@dataclass
class Rerouter:
    conversations: Conversations
    agents: Agents
    config: ConfigStore
    work: Queue
    book: PolicyBook
    privacy: PrivacyPolicies | None = None     # masking of the note (without: read from ``config``)
    access: Access = field(init=False)

    def __post_init__(self) -> None:
        self.access = Access(self.agents)
        if self.privacy is None:
            self.privacy = PrivacyPolicies(self.config)

    def change(self, conversation_id: str, change: RoutingChange, caller: Caller) -> Conversation:
        applied: list[_Applied] = []
        audited: list[tuple[dict[str, Any], dict[str, Any]]] = []     # the written change, as was and is
        by = caller.id
        said, kinds = self.privacy.masked(change.note) if self.privacy and change.note else (change.note, ())

        def write(read: ClockRead, clocks: ConversationClocks) -> None:
            conv = self.access.check(caller, read.conversation)
            check_allowed(conv, change, by, caller.roles)
            if conv.status is ConversationStatus.RESOLVED:
                raise Conflict("a resolved conversation keeps its routing; reopen it first").with_code("resolved")
            priority = change.priority or conv.priority
            team = change.team or conv.team
            skills = sorted(set(change.skills)) if change.skills is not None else sorted(conv.skills)
            if (priority, team, skills) == (conv.priority, conv.team, sorted(conv.skills)):
                raise nothing_to_change(conv)
            released = None
            if team != conv.team:
                self._check_team(team)
                holder = self.agents.get(conv.assignee) if conv.assignee else None
                released = holder if holder is not None and team not in teams_of(holder) else None
                self.book.rebind(clocks, conv.channel, team, priority, choose=True, tier=conv.customer.tier,
                                 at=clock.now())
            elif priority is not conv.priority:
                self.book.rebind(clocks, conv.channel, team, priority)
            names = agent_names(None, caller)       # the caller as admitted; the one released, read just above
            if released is not None:
                names[released.id] = timeline.agent_said(released.name)
            note = describe(conv, priority, team, skills, by, released.id if released else None, said, names)
            note = note.model_copy(update={"masked": list(kinds)})
            self.conversations.reroute(read, clocks, priority=priority, team=team, skills=skills,
                                       release=released is not None, note=note)
            queued = conv.status is ConversationStatus.OPEN and (
                released is not None or (conv.assignee is None and conv.waiting_since is not None))
            applied.append(_Applied(team, queued, team != conv.team or skills != sorted(conv.skills), released))
            audited[:] = [_audited(conv, priority, team, skills, released)]

        if sla_engine.with_clocks(self.conversations, conversation_id, write, self.book) is None:
            raise Conflict("the conversation changed meanwhile; reload it and try again").with_code("changed_meanwhile")
        before, after = audited[-1]
        audit.note(before=before, after=after, **({"note": audit.fingerprint(said)} if said else {}))
        for done in applied:
            if done.queued and done.drain:                 # an online agent of the team takes it now
                enqueue_drain(self.work, done.team, "rerouted")
            for team in sorted(teams_of(done.released)) if done.released else ():
                enqueue_drain(self.work, team, "released")  # the assignee's freed seat
        return self.conversations.get_meta(conversation_id)

    def _check_team(self, team: str) -> None:
        check_team(self.book, self.config, team)


def _audited(conv: Conversation, priority: Priority, team: str, skills: list[str], released: Agent | None
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a routing change changed, as it was and is (priority, team, skills; the assignee it released)."""
    was = {"priority": conv.priority.value, "team": conv.team, "skills": sorted(conv.skills),
           "assignee": conv.assignee}
    now = {"priority": priority.value, "team": team, "skills": skills,
           "assignee": None if released is not None else conv.assignee}
    changed = [name for name in was if was[name] != now[name]]
    return {k: was[k] for k in changed}, {k: now[k] for k in changed}


def check_team(book: PolicyBook, config: ConfigStore, team: str) -> None:
    """A team exists when a supervisor created it, or the routing settings send conversations to it."""
    if team in book.teams():
        return
    if config.get("team", team) is None:      # created in the last minute (the book is cached)
        raise NotFound(f"team {team} does not exist; a supervisor creates it with PUT /admin/teams/{team}")
