"""Macros: a named, ordered list of actions an agent applies to one conversation or a selection in one step.

- Shared ones (``PUT/GET/DELETE /admin/macros/{id}``: admins write, supervisors and admins read) and personal
  ones (``PUT/DELETE /agent/macros/{id}``: each agent their own). ``GET /agent/macros`` lists the caller's own
  and the shared ones.
- A macro's name is one of a kind among the shared ones, and among each agent's own (409 ``name_taken`` naming
  the one that has it, shopdesk.logic.unique): the Macro menu lists them by name.
- Written only when every action names something that exists and may be used: the canned response of a reply
  (a shared macro: a shared one; a personal macro: the caller's own or a shared one), unretired labels to add,
  known labels to remove, an existing team, an existing agent. Otherwise 422 naming each one.
- ``POST /agent/macros/{id}/apply`` ``{"conversation_ids": [...]}`` answers per conversation: applied, or
  refused with the problem (the same one the action's own route would answer). Per conversation it is all or
  nothing: the conversation's own changes (labels, priority, team, status, snooze, assignment, note) and one
  timeline entry naming the macro are one transaction conditioned on the conversation as read
  (shopdesk.logic.compose), each action by the rule of its own use case; the reply is rendered first (a
  missing variable refuses the conversation) and queued only once the transaction succeeded. Only
  conversations the caller may act on are touched (a 404 for the others, as for a missing one).
- A label retired since the macro was saved (retiring one that macros add takes ``?force=true``,
  shopdesk.logic.labels) is skipped, not a refusal: the macro does everything else, and each conversation's
  result names the skipped labels (``skipped_labels``, and in words). One retired label should not stop a
  whole team's macro on every conversation; the listings name a macro's retired labels (``retired_labels``)
  so the macro pages mark it, and saving it again asks that they be taken out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.agents import Agents
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.labels import Labels
from shopdesk.dal.macros import Macros
from shopdesk.dal.table import ConditionFailed
from shopdesk.errors import BadRequest, Conflict, InvalidFields, NotFound, version_conflict
from shopdesk.logic import timeline
from shopdesk.logic.access import ADMIN, SUPERVISOR, Caller, require
from shopdesk.logic.canned import CannedLibrary
from shopdesk.logic.compose import Composer, Plan, Refused
from shopdesk.logic.inbox import HeldKey, Inbox, PreparedReply, QueueUnavailable, audited_reply, macro_fingerprint
from shopdesk.logic.render import TemplateInvalid
from shopdesk.logic.reroute import check_team
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.unique import refuse_taken
from shopdesk.models import ConversationStatus, Direction, Message
from shopdesk.models.canned import Scope
from shopdesk.models.labels import Label
from shopdesk.models.macros import Macro, MacroContent, NoteAction
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

# what one conversation takes besides its send, and the answer after the last: its reads and its transaction (about
# six DynamoDB requests, milliseconds each), the request's audit record and its answer, with room
TABLE_WORK_SECONDS = 2.0


class MacroInvalid(InvalidFields):
    """422: actions that name what does not exist or may not be used, (where, what) per action."""

    def __init__(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__([{"loc": list(loc), "msg": message, "type": "unknown_reference"} for loc, message in errors])


@dataclass(frozen=True)
class Outcome:
    """What applying a macro did to one conversation."""

    conversation_id: str
    result: Literal["applied", "refused"]
    status: int = 200                        # a refusal: the HTTP status its own route would answer
    detail: str | None = None                # a refusal: why; applied: a reply that could not be queued
    reply: Message | None = None
    skipped_labels: tuple[str, ...] = ()     # applied: retired labels the macro adds, not added
    answered: bool = False                   # a keyed repeat's: what the first request did, nothing done again

    @property
    def notes(self) -> list[str]:
        """What the result says besides applied, in words."""
        if not self.skipped_labels:
            return []
        many = len(self.skipped_labels) > 1
        return [f"label{'s' if many else ''} {', '.join(self.skipped_labels)} {'are' if many else 'is'} retired: "
                "not added (the rest of the macro was applied)"]


@dataclass
class MacroDesk:
    store: Macros
    canned: CannedLibrary
    labels: Labels
    agents: Agents
    config: ConfigStore
    book: PolicyBook
    composer: Composer | None = None        # the agent API's: applying
    inbox: Inbox | None = None
    privacy: PrivacyPolicies | None = None  # masking of the name (without: read from ``config``)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(self.config)

    # ------------------------------------------------------------------ shared (admin API)
    def put_shared(self, caller: Caller, macro_id: str, content: MacroContent,
                   expected_version: int | None = None) -> Macro:
        require(caller.roles, ADMIN)
        self._check(caller, content, "shared")
        return self._put("shared", None, macro_id, content, caller, expected_version)

    def _put(self, scope: Scope, owner: str | None, macro_id: str, content: MacroContent, caller: Caller,
             expected_version: int | None) -> Macro:
        """Saved; with ``expected_version`` only over that version (0: a new one): Conflict otherwise. The audit
        record has its before and after (``_audited``). The name is stored masked, as a note is: every timeline entry
        of the macro quotes it; so is the text of its notes, which are notes."""
        if self.privacy is not None:
            masked = self.privacy.masked
            content = content.model_copy(update={
                "name": masked(content.name)[0],
                "actions": [a.model_copy(update={"text": masked(a.text)[0]}) if isinstance(a, NoteAction) else a
                            for a in content.actions]})
        refuse_taken("macro", content.name, macro_id, [(m.id, m.name) for m in self.store.list(scope, owner)])
        try:
            before, saved = self.store.put(scope, owner, macro_id, content, caller.id, expected_version)
        except ConditionFailed as exc:
            current = self.store.get(scope, owner, macro_id)
            raise version_conflict("macro", macro_id, expected_version, current.version if current else 0) from exc
        audit.note(before=_audited(before), after=_audited(saved))
        return saved

    def known_labels(self) -> dict[str, Label]:
        """The labels by id, retired ones too (``retired_labels`` of the macros listed)."""
        return {label.id: label for label in self.labels.list()}

    def list_shared(self, caller: Caller) -> list[Macro]:
        require(caller.roles, ADMIN, SUPERVISOR)
        return sorted(self.store.list("shared", None), key=_by_name)

    def get_shared(self, caller: Caller, macro_id: str) -> Macro:
        require(caller.roles, ADMIN, SUPERVISOR)
        return _found(self.store.get("shared", None, macro_id), macro_id)

    def delete_shared(self, caller: Caller, macro_id: str) -> None:
        require(caller.roles, ADMIN)
        self._delete("shared", None, macro_id)

    def _delete(self, scope: Scope, owner: str | None, macro_id: str) -> None:
        """Deleted; the audit record has what it was."""
        current = self.store.get(scope, owner, macro_id)
        if current is None or not self.store.delete(scope, owner, macro_id):
            raise _missing(macro_id)
        audit.note(before=_audited(current))

    # ------------------------------------------------------------------ personal (agent API)
    def put_personal(self, caller: Caller, macro_id: str, content: MacroContent,
                     expected_version: int | None = None) -> Macro:
        self._check(caller, content, "personal")
        return self._put("personal", caller.id, macro_id, content, caller, expected_version)

    def delete_personal(self, caller: Caller, macro_id: str) -> None:
        self._delete("personal", caller.id, macro_id)

    def usable(self, caller: Caller) -> list[Macro]:
        """The caller's own, then the shared ones, each by name."""
        return (sorted(self.store.list("personal", caller.id), key=_by_name)
                + sorted(self.store.list("shared", None), key=_by_name))

    def for_caller(self, caller: Caller, macro_id: str) -> Macro:
        """The caller's personal macro with this id, else the shared one; NotFound otherwise."""
        found = self.store.get("personal", caller.id, macro_id) or self.store.get("shared", None, macro_id)
        return _found(found, macro_id)

    def _check(self, caller: Caller, content: MacroContent, scope: Scope) -> None:
        """Every name an action uses must exist and be usable by whoever will apply the macro."""
        errors: list[tuple[tuple[str | int, ...], str]] = []
        labels = {label.id: label for label in self.labels.list()}
        for i, action in enumerate(content.actions):
            where: tuple[str | int, ...] = ("body", "actions", i)
            if action.type == "reply":
                ident = action.canned_response_id
                found = (self.canned.store.get("shared", None, ident) if scope == "shared"
                         else self.canned.store.get("personal", caller.id, ident)
                         or self.canned.store.get("shared", None, ident))
                if found is None:
                    kind = "shared canned response" if scope == "shared" else "canned response"
                    errors.append(((*where, "canned_response_id"), f"{kind} {ident} does not exist"))
            elif action.type in ("add_labels", "remove_labels"):
                for label in action.labels:
                    if label not in labels:
                        errors.append(((*where, "labels"), f"label {label} does not exist"))
                    elif action.type == "add_labels" and labels[label].retired:
                        errors.append(((*where, "labels"), f"label {label} is retired"))
            elif action.type == "set_team":
                try:
                    check_team(self.book, self.config, action.team)
                except NotFound as exc:
                    errors.append(((*where, "team"), str(exc)))
            elif action.type == "assign" and action.agent_id is not None and self.agents.get(action.agent_id) is None:
                errors.append(((*where, "agent_id"), f"agent {action.agent_id} does not exist"))
        if errors:
            raise MacroInvalid(errors)

    # ------------------------------------------------------------------ applying
    def apply(self, caller: Caller, macro_id: str, conversation_ids: list[str],
              time_left: Callable[[], float] | None = None, *, key: str | None = None) -> tuple[Macro, list[Outcome]]:
        """The macro on each conversation in turn. ``time_left`` (seconds the request may still take): a
        conversation not started while at least ``reserve_seconds()`` were left is answered 503, not applied,
        so a large selection never ends in a timeout that would hide what was done.

        ``key`` (the request's ``Idempotency-Key``): one key for the whole request, taken in each conversation it names
        (the reply keys' own items and code: ``Inbox.take_key``) before any is applied, so a key sent with another
        macro or selection (422) or whose first request is still at work (409) is refused before anything is done. A
        repeat answers each conversation from its own item: the reply its first request stored (queued again if it
        may never have been), or the macro's timeline entry when it has no reply; one the first request did not
        apply (refused, out of time) lets its key go and is applied now."""
        macro = self.for_caller(caller, macro_id)
        known = {label.id: label for label in self.labels.list()}
        ids = list(dict.fromkeys(conversation_ids))
        fingerprint = macro_fingerprint(macro.id, ids) if key is not None else ""
        held = self._take_keys(caller, ids, key, fingerprint) if key is not None else {}
        outcomes: list[Outcome] = []
        changed: dict[str, Plan] = {}         # conversation id -> the plan written
        reserve = self.reserve_seconds() if time_left is not None else 0.0
        try:
            for conversation_id in ids:
                mine = HeldKey(caller.id, key, fingerprint) if key is not None and held[conversation_id] is None \
                    else None
                if conversation_id in held and mine is None:
                    outcomes.append(self._answered(conversation_id, held[conversation_id], macro, known))
                elif time_left is not None and time_left() < reserve:
                    outcomes.append(Outcome(conversation_id, "refused", 503, "not applied: the request ran out "
                                                                              "of time; apply the macro to this one "
                                                                              "again"))
                else:
                    outcomes.append(self._apply_one(caller, macro, conversation_id, known, changed, mine))
                if mine is not None and outcomes[-1].result == "refused":
                    self._let_go(mine, [conversation_id])
        except Exception:
            if key is not None:      # the keys taken for what this request did not reach: the repeat applies those
                self._let_go(HeldKey(caller.id, key, fingerprint),
                             [c for c in ids[len(outcomes):] if held[c] is None])
            raise
        _audit_applied(macro, outcomes, changed)
        return macro, outcomes

    def reserve_seconds(self) -> float:
        """What one more conversation may take at worst, and the answer after it: one send to a queue at its worst
        (its reply's to the outbound queue, whose refusal the next conversation follows, or the routing's drain or
        refill), from the queue's client's retries and timeouts (``Queue.send_worst_seconds``: 12 s with the agent
        API's bounded client), and the table's work (``TABLE_WORK_SECONDS``)."""
        return self._inbox().outbound.send_worst_seconds() + TABLE_WORK_SECONDS

    def _take_keys(self, caller: Caller, ids: list[str], key: str, fingerprint: str
                   ) -> dict[str, dict[str, Any] | None]:
        """The request's key taken in each conversation (None), or the item of the first request that took it there;
        a key refused in one (422, 409) lets go of those this request took, and nothing is applied."""
        inbox = self._inbox()
        held: dict[str, dict[str, Any] | None] = {}
        try:
            for conversation_id in ids:
                held[conversation_id] = inbox.take_key(caller.id, conversation_id, key, fingerprint)
        except Exception:
            self._let_go(HeldKey(caller.id, key, fingerprint), [c for c, item in held.items() if item is None])
            raise
        return held

    def _let_go(self, key: HeldKey, conversation_ids: list[str]) -> None:
        for conversation_id in conversation_ids:
            self._inbox().let_key_go(key.agent_id, conversation_id, key.key, key.fingerprint)

    def _answered(self, conversation_id: str, held: dict[str, Any] | None, macro: Macro,
                  known: dict[str, Label]) -> Outcome:
        """A keyed repeat's outcome in one conversation: what its first request stored there (``Inbox.answered_before``:
        the reply, queued again when it may never have been; or, for a macro without one, its timeline entry)."""
        assert held is not None
        skipped = tuple(retired_labels(macro, known))
        try:
            stored = self._inbox().answered_before(conversation_id, held)
        except QueueUnavailable as exc:
            return Outcome(conversation_id, "applied", 200, f"the reply was not sent: {exc}", reply=exc.stored,
                           skipped_labels=skipped, answered=True)
        reply = stored if stored.direction is Direction.OUTBOUND else None
        return Outcome(conversation_id, "applied", reply=reply, skipped_labels=skipped, answered=True)

    def _inbox(self) -> Inbox:
        if self.inbox is None:
            raise RuntimeError("applying macros needs the composer and the inbox")
        return self.inbox

    def _apply_one(self, caller: Caller, macro: Macro, conversation_id: str, known: dict[str, Label],
                   changed: dict[str, Plan], key: HeldKey | None = None) -> Outcome:
        """``key``: the request's Idempotency-Key, taken here: marked with the reply in the transaction that stores
        it, or (a macro without a reply) with the timeline entry in the changes' transaction."""
        if self.composer is None or self.inbox is None:
            raise RuntimeError("applying macros needs the composer and the inbox")
        composer, inbox = self.composer, self.inbox
        prepared: list[PreparedReply] = []
        skipped = tuple(retired_labels(macro, known))
        replies = any(action.type == "reply" for action in macro.actions)

        def build(plan: Plan) -> Message:
            changed[conversation_id] = plan   # the last read's (a conflict reads again): the one written
            prepared.clear()                  # a fresh read renders again
            for action in macro.actions:
                if action.type == "reply":
                    reply = inbox.prepare_reply(caller, plan.conv, None, None, action.canned_response_id)
                    prepared.append(reply)
                    canned = reply.rendered.canned if reply.rendered else None
                    plan.said.append(timeline.change("reply", canned_response=action.canned_response_id,
                                                     title=canned.title if canned else None))
                elif action.type == "note":
                    composer.note(plan, action.text)
                elif action.type == "add_labels":
                    composer.labels(plan, [label for label in action.labels if label not in skipped], [], known)
                elif action.type == "remove_labels":
                    composer.labels(plan, [], action.labels, known)
                elif action.type == "set_priority":
                    composer.priority(plan, action.priority)
                elif action.type == "set_team":
                    composer.team(plan, action.team)
                elif action.type == "set_status":
                    composer.status(plan, ConversationStatus(action.status))
                elif action.type == "snooze":
                    composer.status(plan, ConversationStatus.SNOOZED, until=clock.now() + action.duration)
                elif action.type == "assign":
                    composer.assign(plan, action.agent_id)
            entry = timeline.macro_applied(conversation_id, macro.id, macro.name, caller.id, plan.said,
                                           plan.names)
            if key is not None and not replies:
                plan.edit.also = [inbox.conversations.reply_key_op(key.agent_id, conversation_id, key.key,
                                                                   key.fingerprint, it.message_sk(entry))]
            return entry

        try:
            conv = composer.run(caller, conversation_id, build)
        except Refused as exc:
            return Outcome(conversation_id, "refused", exc.status, exc.detail)
        except TemplateInvalid as exc:
            return Outcome(conversation_id, "refused", 422, str(exc))
        except NotFound as exc:
            audit.refused(exc)            # another team's conversation: a refused attempt, in the audit trail
            return Outcome(conversation_id, "refused", 404, str(exc))
        except PermissionError as exc:
            audit.refused(exc)
            return Outcome(conversation_id, "refused", 403, str(exc))
        except (Conflict, BadRequest) as exc:
            return Outcome(conversation_id, "refused", 409 if isinstance(exc, Conflict) else 400, str(exc))
        if not prepared:
            return Outcome(conversation_id, "applied", skipped_labels=skipped)
        try:
            reply = inbox.send_reply(conv, prepared[0], caller.id, key=key)
        except QueueUnavailable as exc:
            return Outcome(conversation_id, "applied", 200, f"the reply was not sent: {exc}", skipped_labels=skipped)
        return Outcome(conversation_id, "applied", reply=reply, skipped_labels=skipped)


def _audit_applied(macro: Macro, outcomes: list[Outcome], written: dict[str, Plan]) -> None:
    """The request's audit record: per conversation applied (by id), what the macro changed as it was and is
    (labels, priority, team, status, assignee) and the changes it made in order (``applied``, as the timeline lists
    them: ids and values, a note or a reply without its words), each reply queued as every reply's record names it
    (``replies``: message, channel, files), the macro's version, and the refused ones with their status; a keyed
    repeat's answered ones by id (``answered_before``: their first request's record says what was done)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    applied: dict[str, Any] = {}
    for outcome in outcomes:
        plan = written.get(outcome.conversation_id)
        if outcome.result == "applied" and plan is not None:
            before[outcome.conversation_id], after[outcome.conversation_id] = plan.audited()
            applied[outcome.conversation_id] = plan.said
    refused = {o.conversation_id: o.status for o in outcomes if o.result == "refused"}
    replies = {o.conversation_id: audited_reply(o.reply) for o in outcomes if o.reply is not None and not o.answered}
    answered = [o.conversation_id for o in outcomes if o.answered]     # a keyed repeat's: nothing done again
    audit.note(before=before or None, after=after or None, version=macro.version, applied=applied,
               **({"replies": replies} if replies else {}), **({"refused": refused} if refused else {}),
               **({"answered_before": answered} if answered else {}))


def retired_labels(macro: Macro, known: dict[str, Label]) -> list[str]:
    """The labels the macro adds that are retired now (applying skips them), in the order it names them."""
    added = (label for action in macro.actions if action.type == "add_labels" for label in action.labels)
    return list(dict.fromkeys(label for label in added if label in known and known[label].retired))


def _audited(macro: Macro | None) -> dict[str, Any] | None:
    """What the audit trail keeps of a macro: its name and actions as written (ids, priorities, statuses,
    durations), a note's words as a fingerprint only (they stay out of the trail, docs/security.md)."""
    if macro is None:
        return None
    actions = [{**action.model_dump(mode="json", exclude={"text"}), "text": audit.fingerprint(action.text)}
               if isinstance(action, NoteAction) else action.model_dump(mode="json") for action in macro.actions]
    return {"name": macro.name, "actions": actions, "version": macro.version}


def _by_name(macro: Macro) -> tuple[str, str]:
    return macro.name.casefold(), macro.id


def _found(macro: Macro | None, macro_id: str) -> Macro:
    if macro is None:
        raise _missing(macro_id)
    return macro


def _missing(macro_id: str) -> NotFound:
    return NotFound(f"macro {macro_id} does not exist")
