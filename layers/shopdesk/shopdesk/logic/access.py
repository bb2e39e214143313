"""Who may see and act on what: the one place every use case of the agent and admin APIs asks.

Roles are the token's Cognito groups (``admins``, ``supervisors``), never above the highest role the caller's agent
record lets them use (``Agent.max_role``, set by an admin, ``PUT /admin/agents/{id}/max-role``; none set: the
token's): the smaller of the two wins, so an admin's demotion counts from the caller's next request with the token
they hold, and a record never gives a role the token lacks (roles are granted in Cognito, the groups).
Teams are the caller's agent record (set by an admin, ``PUT /admin/agents/{id}``), never the token, so a team change
counts from the next request.

A conversation is visible to, and can be acted on by:

- an admin: every conversation;
- an agent or a supervisor: the conversations of their teams; the ones they hold (assignee); the ones
  they were granted (``Conversation.granted``: everyone it was ever assigned or transferred to keeps
  access, so the agent who transferred a conversation out of their team can still read how it went,
  and the agent of another team it was transferred to can work on it; an agent of another team
  mentioned in a note is added to the same set, shopdesk.logic.mentions);
- a supervisor, besides: what the agents of their teams hold, whatever its team.

A conversation the router has not routed yet (``Conversation.routed`` False: ingest reads no settings, so its team
is a placeholder, ``default``) is no team's (``in_teams``): only admins, and whoever holds it or was granted it,
see it, until the router puts it in its team, as only they hear of it (shopdesk.logic.changes). So no agent of
``default`` opens, lists or finds a conversation the router is about to put in another team.

Figures (the reports, the SLA board) follow the same teams (``figures_of``): an admin reads the whole desk's, a
supervisor only those of their teams' conversations (none for a supervisor of no team), and ``team=`` narrows
either to one team (a supervisor's own; 403 for another). What a conversation counts under is each reader's rule
(docs/metrics.md, "Whose figures"; shopdesk.logic.board).

Anything else answers exactly as a conversation that does not exist (404, same body): nobody learns
that a conversation exists from an id they guessed. What a caller may do to a conversation they see
is each use case's own rule (e.g. routing changes: shopdesk.logic.reroute).

Before any of that, every request of the agent, admin and reports APIs is admitted (``admitted``, from the one
middleware of ``shopdesk.api.admission``): the caller's agent record is read once, a caller an admin took off the
desk is refused (403, code ``deactivated``) whatever their token says, and the record read is kept for the rest of
that request only, so the roles it lets them use (``held_roles``) and the teams below cost no second read. An agent
with no record yet (before their first sign-in creates it) is admitted, of the default team, with their token's roles.

The check then costs nothing more for the caller's own record, and one GetItem (the assignee's record) only for a
supervisor looking at a conversation of another team.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shopdesk.dal.agents import Agents
from shopdesk.errors import Deactivated, conversation_not_found
from shopdesk.logic import timeline
from shopdesk.models import Agent, Conversation
from shopdesk.privacy import audit

ADMIN, SUPERVISOR = "admins", "supervisors"
RANKS = ("agent", "supervisor", "admin")       # ``Agent.max_role``, lowest to highest
GROUPS = {"agent": frozenset[str](), "supervisor": frozenset({SUPERVISOR}), "admin": frozenset({ADMIN})}
DEFAULT_TEAM = "default"      # the team of an agent who has no record yet (the one it gets on first use)

# The caller's agent record as the request being served admitted it (their id, then the record or None before their
# first sign-in); None outside a request. Never kept past the request: a deactivation counts from the next one.
_admitted: contextvars.ContextVar[tuple[str, Agent | None] | None] = contextvars.ContextVar("admitted", default=None)


def roles(claim: object) -> frozenset[str]:
    """Cognito groups as API Gateway passes them: a list, or a string like "[admins supervisors]"."""
    if isinstance(claim, list | tuple | set | frozenset):
        return frozenset(str(c) for c in claim)
    text = str(claim or "").strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the agent id, name and work email (one Cognito verified) from the token, and their roles."""

    id: str
    name: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None

    @property
    def admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def supervisor(self) -> bool:
        return SUPERVISOR in self.roles

    @property
    def lead(self) -> bool:
        """A supervisor or an admin."""
        return self.admin or self.supervisor


def require(caller_roles: Iterable[str], *allowed: str) -> None:
    """403 unless the caller has one of the roles."""
    if not set(caller_roles) & set(allowed):
        raise PermissionError(f"this needs the role {' or '.join(allowed)}")


def record_of(agents: Agents, agent_id: str) -> Agent | None:
    """An agent's record: the one the request being served admitted when it is theirs, else read now."""
    admitted = _admitted.get()
    if admitted is not None and admitted[0] == agent_id:
        return admitted[1]
    return agents.get(agent_id)


def agent_names(agents: Agents | None, caller: Caller | None, *others: str | None) -> dict[str, str]:
    """How a timeline text says the agents it names (``timeline.agent_said``), by id: the caller by the record their
    request was admitted with (no read) and their token; the ``others`` (none: nothing read) read, one GetItem for
    one, one BatchGetItem for several. One not found is left out: the text says "an agent"."""
    said: dict[str, str] = {}
    if caller is not None:
        held = _admitted.get()
        mine = held[1] if held is not None and held[0] == caller.id else None
        said[caller.id] = timeline.agent_said((mine and mine.name) or caller.name)
    wanted = [agent_id for agent_id in others if agent_id and agent_id not in said]
    if wanted and agents is not None:
        said |= {agent_id: timeline.agent_said(agent.name)
                 for agent_id, agent in agents.get_many(wanted).items()}
    return said


def within(token_roles: Iterable[str], max_role: str | None) -> frozenset[str]:
    """The token's groups, or, when they are above ``max_role`` (``agent`` < ``supervisor`` < ``admin``; an admin may do
    all a supervisor may), that role's group alone: the smaller of the two. None: the token's."""
    held = frozenset(token_roles)
    rank = 2 if ADMIN in held else 1 if SUPERVISOR in held else 0
    if max_role is None or rank <= RANKS.index(max_role):
        return held
    return GROUPS[max_role]


def held_roles(agent_id: str, token_roles: Iterable[str]) -> frozenset[str]:
    """The roles the caller may use: their token's groups, never above the highest role the record the request
    admitted lets them use (``within``; no record, or outside an admitted request: the token's)."""
    admitted = _admitted.get()
    record = admitted[1] if admitted is not None and admitted[0] == agent_id else None
    return within(token_roles, record.max_role if record is not None else None)


@contextmanager
def admitted(agents: Agents, agent_id: str) -> Iterator[Agent | None]:
    """Serve one request of ``agent_id``: their record read (one consistent GetItem), Deactivated (403) when an
    admin took them off the desk, else the record kept for ``record_of`` until the request is answered."""
    agent = agents.get(agent_id)
    if agent is not None and agent.deactivated_at:
        raise Deactivated(agent_id)
    token = _admitted.set((agent_id, agent))
    try:
        yield agent
    finally:
        _admitted.reset(token)


def in_teams(conv: Conversation, teams: Iterable[str]) -> bool:
    """Whether the conversation is one of these teams': routed to one of them (none before it is routed)."""
    return conv.routed and conv.team in teams


@dataclass
class Access:
    agents: Agents

    def teams(self, caller: Caller) -> list[str]:
        """The caller's teams, from their agent record (the default team before their first sign-in), as the request
        admitted it."""
        agent = record_of(self.agents, caller.id)
        return list(agent.teams) if agent is not None else [DEFAULT_TEAM]

    def may_see(self, caller: Caller, conv: Conversation) -> bool:
        if caller.admin or conv.assignee == caller.id or caller.id in conv.granted:
            return True
        teams = set(self.teams(caller))
        if in_teams(conv, teams):
            return True
        if caller.supervisor and conv.assignee:          # what the agents of their teams hold
            holder = self.agents.get(conv.assignee)
            return holder is not None and bool(teams & set(holder.teams))
        return False

    def seer(self, caller: Caller) -> Callable[[Conversation], bool]:
        """``may_see`` for many conversations, with the caller's teams read once."""
        if caller.admin:
            return lambda conv: True
        teams = set(self.teams(caller))

        def sees(conv: Conversation) -> bool:
            if conv.assignee == caller.id or caller.id in conv.granted or in_teams(conv, teams):
                return True
            if caller.supervisor and conv.assignee:
                holder = self.agents.get(conv.assignee)
                return holder is not None and bool(teams & set(holder.teams))
            return False
        return sees

    def check(self, caller: Caller, conv: Conversation) -> Conversation:
        """The conversation, if the caller may see it; else the same NotFound as a missing one."""
        if not self.may_see(caller, conv):
            raise conversation_not_found(conv.id, hidden_from_caller=True, customer_id=conv.customer.id)
        audit.note(conversation_id=conv.id, customer_id=conv.customer.id)     # whose data the request concerns
        return conv

    def team_queue(self, caller: Caller, team: str) -> None:
        """A team's waiting queue is for its members and admins (403 for anyone else)."""
        if not caller.admin and team not in self.teams(caller):
            raise PermissionError(f"only members of team {team} (and admins) see its queue")

    def figures_of(self, caller: Caller, team: str | None = None) -> list[str] | None:
        """The teams whose figures the caller reads: None for the whole desk (an admin who names no team), else
        their teams (a supervisor), or ``team`` alone (an admin's any, a supervisor's one of theirs: 403 for
        another). 403 for anyone but supervisors and admins."""
        require(caller.roles, SUPERVISOR, ADMIN)
        if caller.admin:
            return None if team is None else [team]
        teams = self.teams(caller)
        if team is None:
            return teams
        if team not in teams:
            raise PermissionError(f"only supervisors of team {team} (and admins) read its figures")
        return [team]

    def members(self, teams: Iterable[str]) -> list[str]:
        """The agents of any of these teams, as their records have them now (one Query of every agent)."""
        wanted = set(teams)
        return sorted(a.id for a in self.agents.all() if wanted & set(a.teams))
