"""Admins configure the desk: agents, teams, calendars, SLA policies, routing settings, customers' tiers.

Roles come from the token (Cognito groups). Every change needs ``admins``; supervisors may read what they
need to lead their teams (agents, teams, calendars, SLA policies, routing settings, customers), and agents
nothing. Each use case checks the caller's roles itself, so no route can forget it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from shopdesk import clock
from shopdesk.bot import BotSettings
from shopdesk.csat import CsatSettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.config import ConfigStore, NamedGone
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.counts import Counts
from shopdesk.dal.customers import Customers
from shopdesk.dal.macros import Macros
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import PartFailed
from shopdesk.errors import BadRequest, Conflict, InvalidFields, NotFound
from shopdesk.logic import expectations, sla_engine
from shopdesk.logic.access import ADMIN, DEFAULT_TEAM, SUPERVISOR, require, roles
from shopdesk.logic.labels import macros_that
from shopdesk.logic.overview import WORKING
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.unique import refuse_taken
from shopdesk.logic.work import enqueue_refill
from shopdesk.models.admin import CHANNELS, CUSTOMER_LANGUAGES, AgentSettings, RoutingSettings, Team
from shopdesk.models.customer import TIER_PATTERN
from shopdesk.models.given import saved_over
from shopdesk.models.sla import BusinessHours, SlaPolicy
from shopdesk.phone import shop_phone, to_e164
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

AGENT_SETTINGS = ("teams", "capacity", "skills", "languages")

READ, WRITE = (ADMIN, SUPERVISOR), (ADMIN,)
Roles = Iterable[str]
Settings = TypeVar("Settings", bound=BaseModel)
Visible = Callable[[str], bool]         # whether the caller may see a customer (one of their conversations)
SETTINGS_ATTEMPTS = 3         # a save racing another admin's save of other fields is merged over it this often
__all__ = ["ADMIN", "READ", "SUPERVISOR", "WRITE", "Admin", "identity_of", "require", "roles"]


Known = tuple[str, ...] | Callable[[str], bool]


def refuse_unknown(*checks: tuple[tuple[str | int, ...], Iterable[str] | None, Known, str]) -> None:
    """InvalidFields (422) naming each value that is not one shopdesk knows: ``(where, values, known, what)``, where
    ``known`` is the names known (listed in the refusal) or, for names a shop makes up (tiers), a test of a name. A
    channel misspelt in a setting would silently never match; a language without texts would be English; a team
    nobody created would be a queue no conversation waits in."""
    def knows(known: Known, value: str) -> bool:
        return known(value) if callable(known) else value in known

    refused = [{"loc": ("body", *where), "type": "value_error",
                "msg": f"{value!r} is not {what}" + ("" if callable(known) else f": one of {', '.join(known)}")}
               for where, values, known, what in checks for value in values or () if not knows(known, value)]
    if refused:
        raise InvalidFields(refused)


def refuse_backwards_targets(policy: SlaPolicy) -> None:
    """InvalidFields (422) for a priority whose first answer may take longer than resolving the conversation: such a
    policy breaches its resolution before its first response can, so one of the two targets is a typo. Checked when
    a policy is saved, not in the model: a stored policy is read as it is."""
    refused = [{"loc": ("body", "targets", priority.value, "first_response"), "type": "value_error",
                "msg": f"the first-response target ({t.first_response:g} s) of {priority.value} conversations is "
                       f"longer than their resolution target ({t.resolution:g} s): the resolution would breach "
                       "first; shorten the one or lengthen the other"}
               for priority, t in policy.targets.items()
               if t.first_response is not None and t.resolution is not None and t.first_response > t.resolution]
    if refused:
        raise InvalidFields(refused)


TEAM = "a team of this desk (create it first: PUT /admin/teams/<id>, or Settings → Teams)"
LANGUAGE = "a language shopdesk writes its messages in"
TIER = ("a tier a customer can have (a letter, then letters, digits, - or _; at most 32), as PUT "
        "/admin/customers/<id> gives them")


def team_gone(team: str, *where: str | int) -> InvalidFields:
    """The refusal of a save naming a team deleted while it was being saved (as if it had never been: 422)."""
    return InvalidFields([{"loc": ("body", *where), "type": "value_error", "msg": f"{team!r} is not {TEAM}"}])


def is_tier(value: str) -> bool:
    """Whether a policy's tier can match a customer's: tiers compare case-insensitively (``AppliesTo.matches``), and
    a customer's is always a ``Tier``."""
    return TIER_PATTERN.fullmatch(value.strip().casefold()) is not None


def routed_teams(settings: RoutingSettings) -> set[str]:
    """The teams routing settings send conversations to (by default, by channel, by label), and the default team,
    which is always one of the desk's: an agent is in it until an admin moves them, and a conversation may be sent
    back to it after the settings' default moved elsewhere."""
    return {DEFAULT_TEAM, settings.default_team, *settings.team_by_channel.values(), *settings.team_by_label.values()}


def identity_of(phone: str | None, email: str | None) -> tuple[str, str]:
    """The identity a lookup names, as ingest stores it: a phone number in E.164 (its ``+`` may arrive as
    ``%2B``, or as a space when sent unencoded, or be left out; a national number, ``(415) 555-0101``, is read in
    the shop's country as the inbox's search reads it), an email address lower-cased."""
    if (phone is None) == (email is None):
        raise BadRequest("find a customer by one identity: ?phone=+31612345678 or ?email=ann@example.com")
    if phone is not None:
        number = to_e164(phone) or shop_phone(phone) or to_e164("+" + phone.strip())
        if number is None:
            raise BadRequest(f"{phone!r} is not a phone number: write it in international form (+31612345678) or "
                             "as the shop's country writes it")
        return "phone", number
    address = (email or "").strip().lower()
    if "@" not in address.strip("@"):
        raise BadRequest(f"{email!r} is not an email address")
    return "email", address


@dataclass
class Admin:
    config: ConfigStore
    agents: Agents
    work: Queue
    customers: Customers
    conversations: Conversations
    book: PolicyBook
    counts: Counts              # a team's conversations not resolved (a delete asks)
    macros: Macros              # the macros that move conversations to a team (a delete asks)
    close_sockets: Callable[[str], int] | None = None    # an agent's open WebSocket connections closed, how many
    privacy: PrivacyPolicies | None = None      # masking of what admins write in settings (without: from ``config``)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(self.config)

    # ------------------------------------------------------------------ agents
    def list_agents(self, by: Roles) -> list[dict[str, Any]]:
        require(by, *READ)
        return [a.model_dump() for a in self.agents.all()]

    def set_agent(self, by: Roles, agent_id: str, settings: AgentSettings, expected_version: int | None = None
                  ) -> dict[str, Any]:
        """New settings count from the next assignment. More capacity, or a team the agent was not
        in, refills the agent at once (most urgent first across all their teams). With ``expected_version``
        only over that version of the agent's settings (409 otherwise). Teams must be the desk's
        (``known_teams``) and languages ones conversations are detected in: 422 naming each other one (the agent
        would never be given such work). A change of teams counts at once for the agent's open WebSocket
        connections too: they are closed (``close_sockets``), and the inbox connects again, listed under the teams
        the agent has now (a socket keeps the audiences it connected with: ``shopdesk.logic.live``). A team the agent
        is put in is named in the same transaction (``ConfigStore.naming_op``): deleted meanwhile, the save is the
        422 above; a delete racing the save sees the agent in it (``delete_team``)."""
        require(by, *WRITE)
        before = self.agents.get(agent_id)
        if before is None:
            raise NotFound(f"agent {agent_id} has not signed in yet")
        refuse_unknown((("teams",), settings.teams, self.known_teams(), TEAM),
                       (("languages",), settings.languages, CUSTOMER_LANGUAGES, LANGUAGE))
        joined = self.deletable(set(settings.teams) - set(before.teams))
        try:
            after = self.agents.configure(agent_id, teams=settings.teams, capacity=settings.capacity,
                                          skills=settings.skills, languages=settings.languages, name=settings.name,
                                          expected_version=expected_version,
                                          also=[self.config.naming_op("team", team) for team in joined])
        except PartFailed as exc:
            raise team_gone(joined[exc.index], "teams") from exc
        sockets: dict[str, int] = {}
        if set(after.teams) != set(before.teams) and self.close_sockets:   # after the write: $connect reads it
            sockets["sockets_closed"] = self.close_sockets(agent_id)
        if after.capacity > before.capacity or set(after.teams) - set(before.teams):
            enqueue_refill(self.work, agent_id, "settings")
        audit.note(before=before.model_dump(include=set(AGENT_SETTINGS)),
                   after=after.model_dump(include=set(AGENT_SETTINGS)), **sockets)
        return after.model_dump()

    def deactivate_agent(self, by: Roles, agent_id: str, caller_id: str) -> dict[str, Any]:
        """Take an agent off the desk (they left the shop, or their account is compromised): offline at once, never
        assigned nor transferred to; every request of theirs to the agent, admin and reports APIs refused from now
        on (403 ``deactivated``, ``shopdesk.api.admission``), whatever token they hold, and their open WebSocket
        connections closed (``close_sockets``; a new one is refused at ``$connect``); the conversations they hold go
        back to their teams' queues at the sweep's next run (as an agent gone offline's do after the grace period,
        here without it). Idempotent; audited. An admin cannot take themselves off (409 ``deactivating_self``:
        they would be locked out of the admin API that puts them back). Their sign-in is the identity provider's to
        disable (Cognito's AdminDisableUser): this takes them off the desk."""
        require(by, *WRITE)
        if agent_id == caller_id:
            raise Conflict("you cannot take yourself off the desk: another admin can").with_code("deactivating_self")
        before = self.agents.get(agent_id)
        if before is None:
            raise NotFound(f"agent {agent_id} has not signed in yet")
        after = self.agents.deactivate(agent_id, caller_id)
        closed = self.close_sockets(agent_id) if self.close_sockets else 0     # after the mark: a new one is refused
        self.conversations.set_agent_timer(agent_id, "agent_offline", clock.now_iso())
        audit.note(before={"deactivated_at": before.deactivated_at, "presence": before.presence.value},
                   after={"deactivated_at": after.deactivated_at, "presence": after.presence.value},
                   sockets_closed=closed)
        return after.model_dump()

    def set_max_role(self, by: Roles, agent_id: str, role: str, caller_id: str) -> dict[str, Any]:
        """The highest role an agent may use (``agent``, ``supervisor``, ``admin``), whatever the Cognito groups of the
        token they hold: a role taken away is refused from their next request (``access.held_roles``), and on any
        change of it their open WebSocket connections are closed (``close_sockets``) so the one the inbox opens again
        hears what they may use now (a socket keeps the audiences it connected with: a raised cap would otherwise
        reach it only when they reconnect, up to an hour later).
        It never raises what their token gives (roles are granted in Cognito: ``admin`` here lets the token's groups
        count again). An admin cannot lower their own (409 ``demoting_self``: as with a deactivation, another admin
        can). A cap is set only while the caller's own record caps them at nothing, checked in the same write: two
        admins lowering each other at the same moment, each admitted as an admin, would otherwise both succeed and
        leave the desk no admin; the later is refused (409 ``last_admin``), nothing changed. (Who holds the Cognito
        ``admins`` group shopdesk cannot know: the recovery when none is left is in docs/security.md.) Audited."""
        require(by, *WRITE)
        if agent_id == caller_id and role != "admin":
            raise Conflict("you cannot lower your own role: another admin can").with_code("demoting_self")
        before = self.agents.get(agent_id)
        if before is None:
            raise NotFound(f"agent {agent_id} has not signed in yet")
        try:
            after = self.agents.set_max_role(agent_id, role, while_uncapped=caller_id if role != "admin" else None)
        except PartFailed as exc:
            raise Conflict("another admin lowered your own role while this was being saved: you are no longer an "
                           "admin, and lowering theirs too could leave the desk with none; nothing was changed"
                           ).with_code("last_admin") from exc
        sockets: dict[str, int] = {}
        changed = role != (before.max_role or "admin")     # none and admin cap nothing alike
        if changed and self.close_sockets:          # after the write: $connect reads it
            sockets["sockets_closed"] = self.close_sockets(agent_id)
        audit.note(before={"max_role": before.max_role}, after={"max_role": after.max_role}, **sockets)
        return after.model_dump()

    def reactivate_agent(self, by: Roles, agent_id: str) -> dict[str, Any]:
        """Put a deactivated agent back on the desk: their requests and sockets are let in again from the next one,
        offline until they go online themselves. Audited."""
        require(by, *WRITE)
        before = self.agents.get(agent_id)
        if before is None:
            raise NotFound(f"agent {agent_id} has not signed in yet")
        after = self.agents.reactivate(agent_id)
        audit.note(before={"deactivated_at": before.deactivated_at}, after={"deactivated_at": None})
        return after.model_dump()

    def _put_settings(self, kind: str, given: Settings, expected_version: int | None,
                      check: Callable[[Settings, Settings], None] = lambda merged, before: None,
                      teams: Callable[[Settings], Iterable[str]] = lambda merged: ()) -> tuple[dict[str, Any], int]:
        """The desk's one ``kind`` of settings (routing, the bot, surveys) saved as the body gives them over what
        is stored: a field the body leaves out keeps its value (``{"shop_name": "Acme"}`` changes the name alone,
        not every other setting back to its default). ``check(merged, before)`` refuses what may not be saved;
        ``teams(merged)``: the teams they name, named in the save's transaction (``_put_config``).
        Written over the version read, so another admin's save in between is never undone: with the caller's
        ``expected_version`` that is a 409; without it the save is merged again over theirs. Answers the settings as
        stored (their texts masked: ``_put_config``) and their version."""
        model = type(given)
        for attempt in range(SETTINGS_ATTEMPTS):
            stored = self.config.get(kind, "settings") or {}
            before = model.model_validate({k: v for k, v in stored.items() if k != "version"})
            merged = saved_over(before, given)
            check(merged, before)
            read = stored.get("version", 0)
            try:
                return self._put_config(kind, "settings", merged.model_dump(),
                                        expected_version if expected_version is not None else read,
                                        teams=teams(merged))
            except Conflict:
                if expected_version is not None or attempt == SETTINGS_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _put_config(self, kind: str, key: str, value: dict[str, Any], expected_version: int | None,
                    naming: tuple[tuple[str, str], ...] = (), teams: Iterable[str] = ()) -> tuple[dict[str, Any], int]:
        """A configuration item written, with its before and after in the audit record, and answered as stored with its
        version. The one path of every setting admins save here: its texts are masked first
        (``PrivacyPolicies.masked_settings``: card numbers, IBANs and the privacy settings' patterns; an id that
        holds one is a 422), so the item, a name's marker and the audit record hold them masked. ``naming``: the
        items it names, which must exist as it is written (``ConfigStore.put``: deleted meanwhile, a 404), and ``teams``
        the teams it names, those an admin created named the same way (deleted meanwhile: a 422, as a team that
        never was), so a team's delete racing the save sees it (``delete_team``)."""
        assert self.privacy is not None
        value = self.privacy.masked_settings(value, key)
        naming = (*naming, *(("team", team) for team in self.deletable(teams)))
        before = self.config.get(kind, key)
        try:
            version = self.config.put(kind, key, value, expected_version, naming)
        except NamedGone as exc:
            if exc.kind == "team":
                raise team_gone(exc.key) from exc
            raise
        audit.note(before=before, after={**value, "version": version})
        return value, version

    # ------------------------------------------------------------------ teams
    def list_teams(self, by: Roles) -> list[dict[str, Any]]:
        require(by, *READ)
        return self.config.list("team")

    def deletable(self, teams: Iterable[str]) -> list[str]:
        """The teams of ``teams`` (known to the save's check) a delete could take away while the save is made: all
        but those that are teams without an item of their own (the default team, those only the routing settings
        name), which no delete takes. So one deleted since the check read the teams is named too, and the save is
        refused (``_put_config``)."""
        teams = set(teams)
        if not teams:
            return []
        created = {t["id"] for t in self.config.list("team")}
        return sorted(teams - (routed_teams(self._routing_settings()) - created))

    def known_teams(self, routing: RoutingSettings | None = None) -> tuple[str, ...]:
        """The teams a setting may name (the same as ``PolicyBook.teams``, read now rather than cached): those an
        admin created, the default team, and those the routing settings (``routing``, else as stored) send
        conversations to (``routed_teams``). Any other would be a queue no conversation waits in: an agent in it gets
        no work, a policy or the bot's condition on it never matches."""
        created = {t["id"] for t in self.config.list("team")}
        return tuple(sorted(created | routed_teams(routing or self._routing_settings())))

    def _routing_settings(self) -> RoutingSettings:
        stored = self.config.get("routing", "settings") or {}
        return RoutingSettings.model_validate({k: v for k, v in stored.items() if k != "version"})

    def put_team(self, by: Roles, team_id: str, team: Team, expected_version: int | None) -> dict[str, Any]:
        """A team's name is one of a kind (the team pickers show names): another team's, or the id of a team only
        the routing settings name (shown by its id), is a 409 ``name_taken`` (shopdesk.logic.unique; two admins
        saving one name at once: the name's marker lets one through)."""
        require(by, *WRITE)
        if team.id != team_id:
            raise Conflict("the team id in the path and the body differ")
        created = {t["id"]: str(t.get("name") or t["id"]) for t in self.config.list("team")}
        routed_only = routed_teams(self._routing_settings()) - set(created)
        refuse_taken("team", team.name, team.id, [*created.items(), *((t, t) for t in routed_only)])
        value, version = self._put_config("team", team.id, team.model_dump(), expected_version)
        return {**value, "version": version}

    def delete_team(self, by: Roles, team_id: str, expected_version: int | None) -> None:
        """A team deleted once nothing uses it (with ``expected_version`` only that version); its name is free
        again. While something does, a 409 naming the first thing, with a code the inbox words (``team_in_use``
        lists them); audited with what it was. The settings that name a team (an agent's teams, the routing, the
        bot's and the survey's settings, SLA policies) name it in their saves' transactions, so such a save racing
        the delete is either seen by it (the 409) or refused (422): ``ConfigStore.delete_unnamed``. A conversation
        moved to the team, or a macro saved naming it, while it is deleted is not: see ``team_in_use``."""
        require(by, *WRITE)
        audit.note(before=self.config.delete_unnamed("team", team_id, expected_version,
                                                     lambda: self.team_in_use(team_id)))

    def team_in_use(self, team_id: str) -> None:
        """Conflict while anything still sends conversations to the team, works in it or names it, in this order:
        the routing settings' default team (``team_is_default``: every conversation no rule sends elsewhere goes
        there), a channel or a label they route to it (``team_routed_by_channel``, ``team_routed_by_label``),
        agents in it (``team_has_members``, deactivated ones too: put back, they would wait in a queue nothing goes
        to), its conversations not resolved (``team_has_conversations``: an agent moves them first), SLA policies
        (``team_in_policies``), the bot's or the satisfaction survey's settings (``team_in_bot``,
        ``team_in_csat``) and macros (``team_in_macros``: the shared ones and agents' own) naming it. The agents are
        read consistently (their items, not the index). The conversations are counted from the Access index and the
        macros' writes name no team: a conversation moved to the team, or a macro saved naming it, in the instant
        of a delete can still be left naming a deleted team (the router's and the inbox's answer for a team that
        does not exist: the conversation waits, the macro's move is refused)."""
        def refuse(code: str, what: str, **params: object) -> Conflict:
            return Conflict(f"team {team_id} {what}; it is deleted once nothing uses it").with_code(
                code, team=team_id, **params)

        routing = self._routing_settings()
        if routing.default_team == team_id:
            raise refuse("team_is_default", "is the routing settings' default team: choose another one first")
        for code, rules, where in (("team_routed_by_channel", routing.team_by_channel, "channels"),
                                   ("team_routed_by_label", routing.team_by_label, "labels")):
            routed = sorted(key for key, team in rules.items() if team == team_id)
            if routed:
                raise refuse(code, f"is where the routing settings send the conversations of the {where} "
                                   f"{', '.join(routed)}: change them first", **{where: ", ".join(routed)})
        members = sorted((a.name or a.id for a in self.agents.all(consistent=True) if team_id in a.teams),
                         key=str.casefold)
        if members:
            raise refuse("team_has_members", f"has agents: {', '.join(members)}; move them to another team first",
                         agents=", ".join(members), count=len(members))
        waiting = sum(self.counts.team(team_id, status.value) for status in WORKING)
        if waiting:
            raise refuse("team_has_conversations", f"has {waiting} conversations not resolved: move them to another "
                         "team first", count=waiting)
        policies = sorted((str(p.get("name") or p["id"]) for p in self.config.list("sla-policy")
                           if team_id in [t.lower() for t in (p.get("applies_to") or {}).get("teams") or ()]),
                          key=str.casefold)
        if policies:
            which = ", ".join(f"'{name}'" for name in policies)
            raise refuse("team_in_policies", f"is named by the SLA policies {which}: change them first",
                         policies=which)
        for code, kind, what in (("team_in_bot", "bot", "the bot's settings"),
                                 ("team_in_csat", "csat", "the satisfaction survey's settings")):
            if team_id in ((self.config.get(kind, "settings") or {}).get("teams") or ()):
                raise refuse(code, f"is named by {what}: take it out first")
        macros = macros_that(self.macros, self.agents.all(), lambda m: any(
            a.type == "set_team" and a.team == team_id for a in m.actions))
        if macros:
            raise refuse("team_in_macros", f"is where the macros {', '.join(macros)} move conversations: change them "
                         "first", macros=", ".join(macros), count=len(macros))

    # ------------------------------------------------------------------ SLA policies and calendars
    def list_calendars(self, by: Roles) -> list[dict[str, Any]]:
        require(by, *READ)
        return self.config.list("calendar")

    def put_calendar(self, by: Roles, calendar_id: str, hours: BusinessHours, expected_version: int | None
                     ) -> dict[str, Any]:
        require(by, *WRITE)
        value, version = self._put_config("calendar", calendar_id, {"id": calendar_id, **hours.model_dump(mode="json")},
                                          expected_version)
        return {**value, "version": version}

    def delete_calendar(self, by: Roles, calendar_id: str, expected_version: int | None) -> None:
        """A calendar deleted once no SLA policy measures in it (409 ``calendar_in_policies`` naming them); the
        conversations whose clocks run in it keep them (a clock holds a copy of its calendar). With
        ``expected_version`` only that version; audited with what it was. A policy saved in it while it is being
        deleted either is seen by the delete (refused as above) or finds it gone (404): a policy saves with its
        calendar's ``named_version`` moved, and the delete is conditioned on the one it read before it looked
        (``ConfigStore.delete_unnamed``)."""
        require(by, *WRITE)

        def in_policies() -> None:
            policies = sorted((str(p.get("name") or p["id"]) for p in self.config.list("sla-policy")
                               if p.get("calendar_id") == calendar_id), key=str.casefold)
            if policies:
                which = ", ".join(f"'{name}'" for name in policies)
                raise Conflict(f"calendar {calendar_id} is the calendar of the SLA policies {which}: choose another "
                               "one for them first; it is deleted once no policy uses it").with_code(
                    "calendar_in_policies", calendar=calendar_id, policies=which)

        audit.note(before=self.config.delete_unnamed("calendar", calendar_id, expected_version, in_policies))

    def list_policies(self, by: Roles) -> list[dict[str, Any]]:
        require(by, *READ)
        return self.config.list("sla-policy")

    def put_policy(self, by: Roles, policy_id: str, policy: SlaPolicy, expected_version: int | None
                   ) -> dict[str, Any]:
        require(by, *WRITE)
        if policy.id != policy_id:
            raise Conflict("the policy id in the path and the body differ")
        refuse_unknown((("applies_to", "channels"), [c.lower() for c in policy.applies_to.channels or ()], CHANNELS,
                        "a channel shopdesk knows"),
                       (("applies_to", "teams"), [t.lower() for t in policy.applies_to.teams or ()],
                        self.known_teams() if policy.applies_to.teams else (), TEAM),
                       (("applies_to", "tiers"), policy.applies_to.tiers, is_tier, TIER))
        refuse_backwards_targets(policy)
        refuse_taken("SLA policy", policy.name, policy.id,
                     [(p["id"], str(p.get("name") or p["id"])) for p in self.config.list("sla-policy")])
        if policy.calendar_id and self.config.get("calendar", policy.calendar_id) is None:
            raise NotFound(f"calendar {policy.calendar_id} does not exist; create it first")
        naming = (("calendar", policy.calendar_id),) if policy.calendar_id else ()    # deleted meanwhile: 404
        value, version = self._put_config("sla-policy", policy.id, policy.model_dump(mode="json"), expected_version,
                                          naming, [t.lower() for t in policy.applies_to.teams or ()])
        return {**value, "version": version}

    def delete_policy(self, by: Roles, policy_id: str, expected_version: int | None) -> None:
        """A policy deleted: conversations it matched take the next matching policy at their next change (their
        running deadlines stay as set, as after a change of the policy), or none. Its name is free again."""
        require(by, *WRITE)
        audit.note(before=self.config.delete("sla-policy", policy_id, expected_version))

    # ------------------------------------------------------------------ routing
    def routing(self, by: Roles) -> dict[str, Any]:
        require(by, *READ)
        stored = self.config.get("routing", "settings") or {}
        return {**RoutingSettings.model_validate({k: v for k, v in stored.items() if k != "version"}).model_dump(),
                "version": stored.get("version", 0)}

    def put_routing(self, by: Roles, settings: RoutingSettings, expected_version: int | None) -> dict[str, Any]:
        """The fields given, over the stored ones. A team the settings send conversations to must exist (created
        with ``PUT /admin/teams/{id}``, or named by the settings already): a misspelt one would be a queue no
        agent is in, where that channel's customers wait until they breach."""
        require(by, *WRITE)

        def check(merged: RoutingSettings, before: RoutingSettings) -> None:
            teams = self.known_teams(before)
            refuse_unknown((("team_by_channel",), merged.team_by_channel, CHANNELS, "a channel shopdesk knows"),
                           (("default_language",), [merged.default_language], CUSTOMER_LANGUAGES, LANGUAGE),
                           (("default_team",), [merged.default_team], teams, TEAM),
                           *((("team_by_channel", channel), [team], teams, TEAM)
                             for channel, team in merged.team_by_channel.items()),
                           *((("team_by_label", label), [team], teams, TEAM)
                             for label, team in merged.team_by_label.items()))
            try:                            # a template the router could not use is refused now, in words
                expectations.load_templates(merged.acknowledgement_templates or None)
            except expectations.TemplateError as exc:
                raise BadRequest(f"acknowledgement_templates: {exc}") from exc

        merged, version = self._put_settings("routing", settings, expected_version, check, routed_teams)
        return {**merged, "version": version}

    # ------------------------------------------------------------------ the bot
    def bot(self, by: Roles) -> dict[str, Any]:
        require(by, *READ)
        stored = self.config.get("bot", "settings") or {}
        return {**BotSettings.model_validate({k: v for k, v in stored.items() if k != "version"}).model_dump(),
                "version": stored.get("version", 0)}

    def put_bot(self, by: Roles, settings: BotSettings, expected_version: int | None) -> dict[str, Any]:
        """The fields given, over the stored ones; channels, teams and the fallback language must be ones
        conversations can have (422 naming each other one: the bot would never answer there)."""
        require(by, *WRITE)
        merged, version = self._put_settings("bot", settings, expected_version, lambda merged, _: refuse_unknown(
            (("channels",), merged.channels, CHANNELS, "a channel shopdesk knows"),
            (("teams",), merged.teams, self.known_teams() if merged.teams else (), TEAM),
            (("fallback_language",), [merged.fallback_language] if merged.fallback_language else [],
             CUSTOMER_LANGUAGES, LANGUAGE)), lambda merged: merged.teams or ())
        return {**merged, "version": version}

    # ------------------------------------------------------------------ satisfaction surveys
    def csat(self, by: Roles) -> dict[str, Any]:
        require(by, *READ)
        stored = self.config.get("csat", "settings") or {}
        return {**CsatSettings.model_validate({k: v for k, v in stored.items() if k != "version"}).model_dump(),
                "version": stored.get("version", 0)}

    def put_csat(self, by: Roles, settings: CsatSettings, expected_version: int | None) -> dict[str, Any]:
        require(by, *WRITE)
        merged, version = self._put_settings("csat", settings, expected_version, lambda merged, _: refuse_unknown(
            (("channels",), merged.channels, CHANNELS, "a channel shopdesk knows")),
            lambda merged: set(merged.teams or ()) & {t["id"] for t in self.config.list("team")})   # as they come
        return {**merged, "version": version}

    # ------------------------------------------------------------------ customers
    def customer(self, by: Roles, customer_id: str, visible: Visible | None = None) -> dict[str, Any]:
        """A customer; a supervisor's only if ``visible`` (they may see one of the customer's conversations, the
        agent API's rule), else the answer for a customer nobody has; the audit trail's record of the refusal tells
        the two apart (``not_visible``, ``not_found``)."""
        require(by, *READ)
        found = self.customers.get(customer_id)
        if found is None or not self._shown(by, found.id, visible):
            raise NotFound(f"customer {customer_id} does not exist").concerning(
                {"customer_id": customer_id}, hidden=found is not None)
        return found.model_dump(mode="json")

    def find_customers(self, by: Roles, phone: str | None, email: str | None, visible: Visible | None = None
                       ) -> list[dict[str, Any]]:
        """The customer of one identity (one GetItem of the identity, one of the customer); none if unknown, or if
        a supervisor may not see them (``customer``): answered as for an address nobody has, and recorded as a
        refused attempt under the hidden customer (``not_visible``). The records say which kind of address was
        looked up (``details.query``), never the address."""
        require(by, *READ)
        kind, address = identity_of(phone, email)
        found = self.customers.find(kind, address)
        if found is not None and not self._shown(by, found.id, visible):
            audit.refused(NotFound(f"customer {found.id} does not exist").concerning(
                {"customer_id": found.id}, hidden=True), answered=True, query=kind)
            return []
        audit.note(query=kind)
        if found is None:
            return []
        audit.note(customer_id=found.id)           # whom the lookup revealed: the record is found under them
        return [found.model_dump(mode="json")]

    @staticmethod
    def _shown(by: Roles, customer_id: str, visible: Visible | None) -> bool:
        return ADMIN in set(by) or visible is None or visible(customer_id)

    def set_tier(self, by: Roles, customer_id: str, tier: str | None) -> dict[str, Any]:
        """Give a customer a tier (None: none). Their new conversations' clocks follow the tier's policy; so
        do the clocks of the one they have open now, rebound at once keeping the business time already used
        (a conversation the router has not started clocks for yet gets them under the new tier anyway)."""
        require(by, *WRITE)
        audit.note(customer_id=customer_id, before={"tier": self.customers.tier(customer_id)}, after={"tier": tier})
        try:
            customer = self.customers.set_tier(customer_id, tier)
        except NotFound as exc:                 # a refused attempt on the audit trail (not_found)
            raise exc.concerning({"customer_id": customer_id}) from None
        for conversation_id in self.customers.open_conversations(customer):
            if sla_engine.apply_tier(self.conversations, self.customers, conversation_id, self.book,
                                     at=clock.now()) is None:
                raise Conflict(f"the tier is set, but conversation {conversation_id} kept changing and its clocks "
                               "still follow the previous tier; send the same request again")
        return customer.model_dump(mode="json")
