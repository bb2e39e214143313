"""``@name`` in a note notifies that agent: the mentions view, its unread count, and read access.

Who is named: after an ``@`` that does not continue a word or an address (``bob@shop.com`` names nobody),
the longest agent id or display name that matches there, case-insensitively and ending at a word boundary
(``@Ana Lima`` names the agent called "Ana Lima", ``@ana`` the agent whose id is ``ana``). An id wins over a
display name of the same length; a display name that two agents share and no id settles is refused (400,
naming the candidates' ids) rather than guessed. An ``@word`` that names no agent is plain text. Naming
oneself notifies nobody.

A mentioned agent who could not see the conversation (another team, never assigned or granted) is granted
it for good, like an agent it was transferred to (``shopdesk.logic.access``): they can read it, and act on it
as any granted agent may. The note, the mention items and the grants are one transaction; the note's audit record
names the agents it mentioned and those it granted the conversation (``details.mentioned``, ``details.granted``).

A mention is read when the agent opens the conversation (``GET /agent/conversations/{id}``: only the
mentions they were shown, a newer one stays unread) or says so (``POST .../mentions/read``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.mentions import Mention, Mentions
from shopdesk.errors import BadRequest
from shopdesk.logic.access import Access, Caller, in_teams
from shopdesk.models import Agent, Conversation, Direction, Message
from shopdesk.privacy import audit

MENTION_START = re.compile(r"(?<![\w.+\-@])@")     # an @ that does not continue a word or an address


def _continues(text: str, at: int) -> bool:
    """True when the character at ``at`` would continue the word before it."""
    return at < len(text) and (text[at].isalnum() or text[at] == "_")


def find_mentions(text: str, agents: Iterable[Agent]) -> list[Agent]:
    """The agents a note names, in the order they are first named (see the module's rules)."""
    keys = [(key, agent, is_id) for agent in agents
            for key, is_id in ((agent.id, True), ((agent.name or "").strip(), False)) if key]
    found: dict[str, Agent] = {}
    for match in MENTION_START.finditer(text):
        start = match.end()
        best: dict[str, tuple[Agent, bool]] = {}
        best_length = 0
        for key, agent, is_id in keys:
            end = start + len(key)
            if text[start:end].casefold() != key.casefold() or _continues(text, end) or len(key) < best_length:
                continue
            if len(key) > best_length:
                best, best_length = {}, len(key)
            if is_id or agent.id not in best:
                best[agent.id] = (agent, is_id)
        if not best:
            continue
        by_id = [agent for agent, is_id in best.values() if is_id]
        if by_id:
            chosen = by_id[0]
        elif len(best) == 1:
            chosen = next(iter(best.values()))[0]
        else:
            named = text[start:start + best_length]
            raise BadRequest(f"@{named} names several agents ({', '.join(sorted(best))}): write @ and the agent's id")
        found.setdefault(chosen.id, chosen)
    return list(found.values())


def may_see(agent: Agent, conv: Conversation) -> bool:
    """Whether an agent sees the conversation without a grant (their team's once routed, theirs, granted before)."""
    return conv.assignee == agent.id or agent.id in conv.granted or in_teams(conv, agent.teams)


@dataclass
class MentionDesk:
    mentions: Mentions
    conversations: Conversations
    agents: Agents

    @property
    def access(self) -> Access:
        return Access(self.agents)

    def add_note(self, caller: Caller, conv: Conversation, note: Message) -> Message:
        """Store a note the caller may write (checked by the caller of this), notifying whom it names."""
        named = find_mentions(note.text or "", self.agents.all()) if "@" in (note.text or "") else []
        mentioned = [a for a in named if a.id != caller.id]
        if mentioned:
            note = note.model_copy(update={"payload": {**(note.payload or {}),
                                                       "mentions": [a.id for a in mentioned]}})
        grants = [a.id for a in mentioned if not may_see(a, conv)]
        self.mentions.add_note(conv, note, [a.id for a in mentioned], grants)
        if mentioned:       # the note's audit record: whom it named, and whom it let in (as an assignee is)
            audit.note(mentioned=sorted(a.id for a in mentioned), granted=sorted(grants))
        return note

    def list(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[tuple[Mention, Conversation]],
                                                                             str | None]:
        """The conversations the caller was mentioned in, newest mention first, with the unread state."""
        try:
            page, next_cursor = self.mentions.list(caller.id, limit, cursor)
        except ValueError as exc:        # a cursor that is not ours
            raise BadRequest(str(exc)) from exc
        return [(m, c) for m, c in page if self.access.may_see(caller, c)], next_cursor

    def opened(self, caller: Caller, conv: Conversation) -> Conversation:
        """The caller was shown the conversation (with its messages): the mentions they saw are read."""
        if caller.id not in conv.mentions_unread:
            return conv
        seen = next((m.id for m in reversed(conv.messages) if m.direction is Direction.NOTE
                     and caller.id in ((m.payload or {}).get("mentions") or [])), None)
        if seen is not None and self.mentions.mark_read(conv.id, caller.id, seen):
            conv = conv.model_copy(update={"mentions_unread": [a for a in conv.mentions_unread if a != caller.id]})
        return conv

    def read(self, caller: Caller, conversation_id: str) -> None:
        """Mark every mention of the caller in the conversation read."""
        conv = self.access.check(caller, self.conversations.get_meta(conversation_id))
        self.mentions.mark_read(conv.id, caller.id)

    def unread(self, caller: Caller) -> int:
        return self.mentions.unread_count(caller.id)
