"""Agents: settings, presence, capacity, the count of conversations they hold, and their teams.

The agent's ``META`` item is the one source of truth for capacity: assignment and transfer are
conditioned on it, whatever team a conversation comes from. An agent is in a team's pool through
one small membership item per team (``AGENT#<id>`` / ``TEAM#<team>``) that carries the Pool index
keys. A presence or team change writes the agent item and every membership in one transaction,
conditioned on the ``membership_version`` it read, so concurrent changes cannot leave a membership
with a stale presence or a team the agent left.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.table import ConditionFailed, PartFailed, Table, TransactionCancelled, Update
from shopdesk.errors import Conflict, NotFound
from shopdesk.models import Agent, Presence

WRITE_ATTEMPTS = 3


class Agents:
    def __init__(self, table: Table):
        self.table = table

    def get(self, agent_id: str) -> Agent | None:
        item = self.table.get(it.agent_pk(agent_id), it.META)
        return it.agent_from_item(item) if item else None

    def get_many(self, agent_ids: Sequence[str]) -> dict[str, Agent]:
        """The agents of these ids that exist, by id: one GetItem for one, one BatchGetItem per 100 for several."""
        wanted = list(dict.fromkeys(agent_ids))
        if len(wanted) <= 1:
            found = self.get(wanted[0]) if wanted else None
            return {found.id: found} if found else {}
        rows = self.table.batch_get([(it.agent_pk(agent_id), it.META) for agent_id in wanted])
        return {row["id"]: it.agent_from_item(row) for row in rows if row.get("type") == "agent"}

    def create(self, agent: Agent) -> bool:
        """Create an agent record with its memberships; False when it already exists."""
        item = {**it.agent_item(agent), "presence_changed_at": clock.now_iso()}   # dates its presence_changed event
        ops = [self.table.put_op(item, condition="attribute_not_exists(PK)")]
        ops += [self.table.put_op(it.membership_item(agent.id, team, agent.presence)) for team in agent.teams]
        try:
            self.table.transact(ops)
            return True
        except TransactionCancelled:
            return False

    def release_seat(self, agent_id: str, conversation_id: str) -> bool:
        """The seat an erased customer's conversation holds, given back once: the conversation loses its assignee and
        the agent one conversation held (never below zero), in one transaction conditioned on the conversation being
        the agent's and not resolved (a resolve gave the seat back). An erase that runs again finds no assignee, and
        gives nothing back twice. Whether a seat was freed (not: not theirs any more, or their count at zero already;
        the conversation goes with the erase all the same)."""
        leave = (Update().remove("assignee").remove("InboxPK")
                 .when("assignee = :agent AND #status IN (:open, :pending, :snoozed)", agent=agent_id, open="open",
                       pending="pending", snoozed="snoozed"))
        try:
            self.table.transact([self.table.update_op(it.conv_pk(conversation_id), it.META, leave),
                                 self.table.update_op(it.agent_pk(agent_id), it.META,
                                                      Update().add("active", -1).when("#active > :zero", zero=0))],
                                retry_conflicts=True)
        except TransactionCancelled:
            return False
        return True

    def set_email(self, agent_id: str, email: str) -> None:
        """The agent's work email as their sign-in says it now (one UpdateItem; not a setting: no version moves). An
        agent whose record is gone meanwhile is left so: their next sign-in makes it again."""
        with suppress(ConditionFailed):
            self.table.update(it.agent_pk(agent_id), it.META, Update().set("email", email).when("attribute_exists(PK)"))

    def set_presence(self, agent_id: str, presence: Presence) -> Agent:
        return self._change(agent_id, presence=presence)

    def deactivate(self, agent_id: str, by: str) -> Agent:
        """Take the agent off the desk: offline, marked deactivated (by whom, when); idempotent."""
        return self._change(agent_id, presence=Presence.OFFLINE, deactivated=(clock.now_iso(), by))

    def reactivate(self, agent_id: str) -> Agent:
        """Back on the desk (offline until they go online themselves)."""
        return self._change(agent_id, deactivated=None)

    def set_max_role(self, agent_id: str, role: str, *, while_uncapped: str | None = None) -> Agent:
        """The highest role the desk lets the agent use (an admin's setting: moves ``settings_version``).
        ``while_uncapped``: only while that agent's own record caps them at nothing (no ``max_role``, or ``admin``; no
        record at all), checked in the same transaction, so two admins lowering each other at the same moment cannot
        both succeed (PartFailed, nothing written, for the later one). Not the agent's own id (one item, two parts)."""
        also = [] if while_uncapped is None else [self.table.condition_op(
            it.agent_pk(while_uncapped), it.META, "attribute_not_exists(max_role) OR max_role = :admin",
            values={":admin": "admin"})]
        return self._change(agent_id, fields={"max_role": role}, also=also)

    def configure(self, agent_id: str, *, teams: list[str], capacity: int, skills: list[str], languages: list[str],
                  name: str | None = None, expected_version: int | None = None,
                  also: Sequence[dict[str, Any]] = ()) -> Agent:
        """Apply an admin's settings, keeping presence and load; with ``expected_version`` only over that version of
        the settings (Conflict otherwise: two admins editing one agent, the later save does not silently win).
        ``also``: parts of the same transaction (the teams it puts the agent in, named: ``ConfigStore.naming_op``);
        PartFailed, nothing written, when one fails its condition. Another save naming one of them at the same
        moment cancels the transaction (a conflict): it is sent again, and Busy when it keeps conflicting."""
        fields: dict[str, Any] = {"capacity": capacity, "skills": skills, "languages": languages}
        if name:
            fields["name"] = name
        return self._change(agent_id, teams=teams, fields=fields, expected_settings=expected_version, also=also)

    def _change(self, agent_id: str, *, presence: Presence | None = None, teams: list[str] | None = None,
                fields: dict[str, Any] | None = None, expected_settings: int | None = None,
                deactivated: tuple[str, str] | bool | None = False, also: Sequence[dict[str, Any]] = ()) -> Agent:
        """Write the agent item and its memberships together. An item from before agents had several
        teams (``team``, and the Pool keys on the item itself) is converted on the way. ``fields`` (an admin's
        settings) move ``settings_version``; with ``expected_settings`` only over that version. The write is
        conditioned on the item as read (``membership_version``, which every change moves). ``deactivated``:
        (when, by whom) takes the agent off the desk, None puts them back, False leaves it; a deactivated agent
        may not go online or away (Conflict, code ``deactivated``)."""
        for _ in range(WRITE_ATTEMPTS):
            item = self.table.get(it.agent_pk(agent_id), it.META)
            if item is None:
                raise NotFound(f"agent {agent_id} does not exist")
            before = it.agent_from_item(item)
            if expected_settings is not None and before.settings_version != expected_settings:
                raise Conflict(f"agent {agent_id}'s settings changed meanwhile (now version "
                               f"{before.settings_version}); reload them and apply your change again")
            if before.deactivated_at and deactivated is False and presence not in (None, Presence.OFFLINE):
                raise Conflict(f"{before.name or agent_id} was taken off the desk by an admin: ask one to put "
                               "them back").with_code("deactivated")
            if isinstance(deactivated, tuple) and before.deactivated_at:
                deactivated = (before.deactivated_at, before.deactivated_by or deactivated[1])   # idempotent
            marks: dict[str, Any] = {}
            if deactivated is None:
                marks = {"deactivated_at": None, "deactivated_by": None}
            elif isinstance(deactivated, tuple):
                marks = {"deactivated_at": deactivated[0], "deactivated_by": deactivated[1]}
            after = before.model_copy(update={**(fields or {}), **marks, "presence": presence or before.presence,
                                              "teams": teams or before.teams})
            update = Update()
            for name, value in marks.items():
                if value is None:
                    update.remove(name)
                else:
                    update.set(name, value)
            for name, value in (fields or {}).items():
                update.set(name, value)
            if fields:
                update.add("settings_version", 1)
            update.set("presence", after.presence.value).set("teams", after.teams).add("membership_version", 1)
            if after.presence is not before.presence:   # dates the lake's presence_changed event
                update.set("presence_changed_at", clock.now_iso())
            update.remove("team").remove("PoolPK").remove("PoolSK")
            seen = item.get("membership_version")
            if seen is None:
                update.when("attribute_exists(PK) AND attribute_not_exists(#membership_version)")
            else:
                update.when("#membership_version = :seen", seen=seen)
            ops = [self.table.update_op(it.agent_pk(agent_id), it.META, update)]
            ops += [self.table.put_op(it.membership_item(agent_id, team, after.presence)) for team in after.teams]
            ops += [self.table.delete_op(it.agent_pk(agent_id), it.team_sk(team))
                    for team in before.teams if team not in after.teams]
            try:
                self.table.transact([*ops, *also], retry_conflicts=bool(also))    # teams other saves name at once
            except TransactionCancelled as exc:
                if exc.failed[-1] >= len(ops):
                    raise PartFailed(exc.failed[-1] - len(ops)) from exc
                continue                      # changed since we read it: read again
            return after.model_copy(update={"settings_version": before.settings_version + 1}) if fields else after
        raise Conflict(f"agent {agent_id} is being changed by someone else; try again")

    def all(self, *, consistent: bool = False) -> list[Agent]:
        """Every agent (admin listing), from the agent items' own partition of the ByStatus index; ``consistent``:
        their items read again (one consistent BatchGetItem per hundred), so a change of their teams made just
        before is seen (a team's delete asks; the index lags)."""
        rows = self.table.query_all_items(index="ByStatus", key_condition="StatusPK = :pk", values={":pk": "AGENTS"})
        if consistent:
            rows = self.table.batch_get([(r["PK"], r["SK"]) for r in rows])
        return [it.agent_from_item(r) for r in rows]

    def online(self, *teams: str) -> list[Agent]:
        """Every online agent of any of these teams: one Query of the Pool index per team for their
        ids, then one BatchGetItem of their items, so presence, load and teams are read fresh."""
        ids: dict[str, None] = {}
        for team in dict.fromkeys(teams):
            rows = self.table.query_all(index="Pool", key_condition="PoolPK = :pk AND begins_with(PoolSK, :online)",
                                        names={}, values={":pk": it.pool_pk(team), ":online": "online#"})
            ids.update((row["PK"].split("#", 1)[1], None) for row in rows)    # memberships and old agent items
        found = [it.agent_from_item(r) for r in self.table.batch_get([(it.agent_pk(i), it.META) for i in ids])]
        return sorted((a for a in found if a.presence is Presence.ONLINE and not set(a.teams).isdisjoint(teams)),
                      key=lambda a: a.id)
