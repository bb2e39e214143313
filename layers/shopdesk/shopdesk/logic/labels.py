"""Labels: admins keep the shop's labels (name, colour; retired rather than deleted); agents put them on the
conversations they may act on and take them off; the views filter by them through the ByLabel index.

- ``PUT /admin/labels/{id}`` creates, renames or recolours (admins); a name is one of a kind (409
  ``name_taken``, shopdesk.logic.unique); ``POST /admin/labels/{id}/retire`` and ``/restore``; ``GET /admin/labels``
  and ``GET /agent/labels`` list them, retired ones marked.
- A label that macros add (shared ones, and agents' own) is not retired without the admin's word: 409
  ``label_in_macros`` naming them, unless ``?force=true``. Retired anyway, those macros still apply: they skip
  the retired label and say so in each conversation's result (shopdesk.logic.macros), and the macro pages mark
  them; saving such a macro again asks that the retired label be taken out of it.
- ``POST /agent/conversations/{id}/labels`` ``{"add": [...], "remove": [...]}``: one transaction
  (shopdesk.logic.compose) with the conversation's label items and one timeline entry; a label that does not
  exist or is retired cannot be added (422 naming each). A label the routing settings send to a team
  (``team_by_label``) moves the conversation to that team in the same transaction, as a routing change would, and
  by the same rule of who may: one whose team the caller may not change (not its assignee, a supervisor or an
  admin) is refused with a 403 (code ``label_moves_team``), nothing changed; a label of its team already, or
  routed nowhere, is anyone's who may label it.
- Each label of a conversation is an item of its own under the conversation, in the ByLabel index by status
  and latest activity, so ``GET /agent/conversations?label=<id>`` reads only that label's conversations. The
  writes that add or take off labels write those items; every other change of status or activity reaches
  them through the table's stream (functions/label_indexer), so ingest's budget is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopdesk.dal.agents import Agents
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.labels import Labels
from shopdesk.dal.macros import Macros
from shopdesk.dal.table import ConditionFailed
from shopdesk.errors import Conflict, NotFound, version_conflict
from shopdesk.logic import timeline
from shopdesk.logic.access import ADMIN, SUPERVISOR, Caller, require
from shopdesk.logic.compose import Composer, Plan
from shopdesk.logic.unique import refuse_taken
from shopdesk.models import Agent, Conversation, Message
from shopdesk.models.canned import Scope
from shopdesk.models.labels import Label, LabelChange, LabelContent
from shopdesk.models.macros import Macro
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies


@dataclass
class LabelDesk:
    store: Labels
    composer: Composer | None = None      # the agent API's: labels on conversations
    macros: Macros | None = None          # the admin API's: a retire names the macros that add the label
    agents: Agents | None = None          # (their own macros too)
    privacy: PrivacyPolicies | None = None  # masking of a label's name (without: read from the table)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(ConfigStore(self.store.table))

    # ------------------------------------------------------------------ the catalogue (admin API)
    def put(self, caller: Caller, label_id: str, content: LabelContent, expected_version: int | None = None) -> Label:
        """Create, rename or recolour; with ``expected_version`` only over that version (0: only a new one):
        Conflict naming the version now otherwise (two admins editing one label: the later save does not
        silently win). A name another label has (retired ones too; case and spacing aside) is a 409
        ``name_taken`` naming it: the pickers would show two the same. The name is stored (and audited) masked, as
        every setting is (``PrivacyPolicies.masked_settings``; an id holding a card number is a 422)."""
        require(caller.roles, ADMIN)
        assert self.privacy is not None
        content = content.model_copy(update=self.privacy.masked_settings(content.model_dump(), label_id))
        refuse_taken("label", content.name, label_id, [(label.id, label.name) for label in self.store.list()])
        try:
            before, label = self.store.put(label_id, content, caller.id, expected_version)
        except ConditionFailed as exc:
            current = self.store.get(label_id)
            raise version_conflict("label", label_id, expected_version, current.version if current else 0) from exc
        audit.note(before=_audited(before), after=_audited(label))
        return label

    def retire(self, caller: Caller, label_id: str, retired: bool = True, force: bool = False) -> Label:
        """Retire (or restore). A label macros add is retired only with ``force``: Conflict
        ``label_in_macros`` naming them otherwise (they would skip it from then on)."""
        require(caller.roles, ADMIN)
        before = self.store.get(label_id)
        if retired and not force and before is not None and not before.retired:
            users = self.macros_adding(label_id)
            if users:
                many = len(users) > 1
                which = ", ".join(users)
                raise Conflict(f"label {label_id} is added by the macro{'s' if many else ''} {which}: applied, "
                               f"{'they' if many else 'it'} would skip it; change {'them' if many else 'it'} "
                               "first, or retire it anyway with ?force=true"
                               ).with_code("label_in_macros", label=label_id, macros=which, count=len(users))
        label = self.store.set_retired(label_id, retired, caller.id)
        if label is None:
            raise NotFound(f"label {label_id} does not exist")
        audit.note(before=_audited(before), after=_audited(label))
        return label

    def macros_adding(self, label_id: str) -> list[str]:
        """The macros that add the label (``macros_that``)."""
        if self.macros is None:
            return []
        return macros_that(self.macros, self.agents.all() if self.agents else [], lambda m: label_id in added_by(m))

    def list(self, caller: Caller, *, admin: bool = False) -> list[Label]:
        """Every label by name, retired ones too (marked): the inbox shows them on the conversations that keep
        them. The admin API's listing is for supervisors and admins."""
        if admin:
            require(caller.roles, ADMIN, SUPERVISOR)
        return sorted(self.store.list(), key=lambda label: (label.name.casefold(), label.id))

    def known(self) -> dict[str, Label]:
        return {label.id: label for label in self.store.list()}

    # ------------------------------------------------------------------ on conversations (agent API)
    def change(self, caller: Caller, conversation_id: str, change: LabelChange) -> Conversation:
        if self.composer is None:
            raise RuntimeError("labels on conversations need the composer")
        known = self.known()
        composer = self.composer
        written: list[Plan] = []          # the plan of the last read: the one written

        def build(plan: Plan) -> Message | None:
            written[:] = [plan]
            composer.labels(plan, change.add, change.remove, known)     # Refused: 422 naming the labels
            if not plan.said:
                return None
            return timeline.labels_changed(conversation_id, caller.id, plan.said, plan.names)

        conv = composer.run(caller, conversation_id, build)
        before, after = written[0].audited()      # the labels (and a team a label routes to), as were and are
        audit.note(before=before, after=after)
        return conv


def follow_expiry(conversations: Conversations, new: Mapping[str, Any] | None,
                  old: Mapping[str, Any] | None) -> int:
    """The conversation's grants and mentions expire with it: when a change of its item leaves it with an expiry
    (resolved under retention; a note may have added a mention meanwhile) or takes one away (reopened), they
    take the same. Returns how many items changed."""
    if not new or new.get("SK") != "META" or not str(new.get("PK", "")).startswith("CONV#"):
        return 0
    expires = int(new["ttl"]) if new.get("ttl") else None
    if expires is None and not (old or {}).get("ttl"):
        return 0
    return conversations.expire_satellites(str(new["PK"]).removeprefix("CONV#"), expires)


def follow(conversations: Conversations, new: Mapping[str, Any] | None, old: Mapping[str, Any] | None) -> str:
    """The label indexer's part for one stream record of a conversation item: when a labelled conversation's
    status or latest activity moved, move its label items to the new place in the ByLabel index (each only
    forwards, and never one a label change removed meanwhile), with the conversation's expiry (a resolve under
    retention sets one, a reopen takes it away). Returns what happened."""
    if not new or new.get("SK") != "META" or not new.get("labels"):
        return "skipped"
    status, updated_at = new.get("status"), new.get("updated_at")
    if not isinstance(status, str) or not isinstance(updated_at, str):
        return "skipped"
    if old and old.get("status") == status and old.get("updated_at") == updated_at:
        return "unchanged"
    expires = new.get("ttl")                # a resolved conversation's retention: its label items go with it
    moved = conversations.refresh_labels(str(new["id"]), sorted(new["labels"]), status, updated_at,
                                         expires=int(expires) if expires else None)
    return "moved" if moved else "current"


def macros_that(macros: Macros, agents: Iterable[Agent], uses: Callable[[Macro], bool]) -> list[str]:
    """The macros ``uses`` holds for, named in any language: the shared ones ('QA greet'), then agents' own, each
    with whose it is ('Mine' (Ana)); one Query per partition."""
    def using(scope: Scope, owner: str | None) -> list[str]:
        return sorted((m.name for m in macros.list(scope, owner) if uses(m)), key=str.casefold)

    found = [f"'{name}'" for name in using("shared", None)]
    for agent in sorted(agents, key=lambda a: a.id):
        found += [f"'{name}' ({agent.name or agent.id})" for name in using("personal", agent.id)]
    return found


def added_by(macro: Macro) -> list[str]:
    """The labels a macro's actions add."""
    return [label for action in macro.actions if action.type == "add_labels" for label in action.labels]


def _audited(label: Label | None) -> dict[str, Any] | None:
    """What the audit trail keeps of a label: its settings (the change's before and after)."""
    return None if label is None else {"name": label.name, "color": label.color, "retired": label.retired}
