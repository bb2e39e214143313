"""Names people pick a setting by, one of a kind even when two admins save at once: a marker item per name.

``NAME#<scope>`` / ``<the name folded>`` (case folded, spaces collapsed: "Billing" and " billing " are one name),
holding the id of the setting that bears it (``holder``). Scopes: ``team``, ``sla-policy``, ``label``,
``canned#shared``, ``canned#agent#<agent>``, ``macro#shared``, ``macro#agent#<agent>``: a name is one of a kind
within its scope (an agent's own shortcode may be a shared one's).

A save writes the setting and its marker in one TransactWriteItems: the setting's own write, conditioned on the
version it read (so the name a rename moves from is the one stored), Put marker (``attribute_not_exists(PK) OR
holder = <its id>``) and, after a rename, Delete of the old name's marker (``attribute_not_exists(PK) OR holder =
<its id>``); a delete takes the marker with the setting. Of two saves of one name at once DynamoDB lets one
transaction through; the other is cancelled on the marker, which comes back with the cancellation (no extra
request) and names the setting that has it.

A marker whose holder no longer bears its name (deleted or renamed by a write that kept no marker: by hand, a
restore from a backup) is taken over: the holder is read, and the claim made again on the condition that the
marker is still that holder's. A setting saved before markers existed has none until its next save; the use
cases' read of the other settings' names (shopdesk.logic.unique) still refuses a name such a one has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shopdesk.bounds import key_part
from shopdesk.dal.table import ConditionFailed, PartFailed, Table, TransactionCancelled
from shopdesk.errors import name_taken

PREFIX = "NAME#"
ATTEMPTS = 3          # a stale marker taken over, an old name's marker left to another, a concurrent transaction


def folded(name: str) -> str:
    """A name as it is compared: case folded, its spaces collapsed and trimmed ("  Late  Orders" → "late orders")."""
    return " ".join(name.split()).casefold()


def name_pk(scope: str) -> str:
    return f"{PREFIX}{scope}"


def name_sk(name: str) -> str:
    return key_part(folded(name))


@dataclass(frozen=True)
class Names:
    """The names of one scope. ``kind`` and ``field`` word a refusal ("team" and "name"; "canned response" and
    "shortcode"); ``borne(id)`` reads the name the setting with that id bears now (None: there is none)."""

    table: Table
    scope: str
    kind: str
    borne: Callable[[str], str | None]
    field: str = "name"

    def write(self, op: dict[str, Any], holder: str, name: str | None, before: str | None,
              also: Sequence[dict[str, Any]] = ()) -> None:
        """One TransactWriteItems of ``op`` (the setting's own write, conditioned on what was read), the marker of
        ``name`` (None: the setting is deleted), when the name changes the delete of ``before``'s marker, and the
        parts ``also`` gives (another item the setting names: ``ConfigStore.naming_op``).
        ConditionFailed when ``op``'s condition failed (read it again); a Conflict ``<field>_taken`` naming the
        setting that bears the name; PartFailed when one of ``also`` failed its condition. A transaction that met
        another on the same items at the same moment is sent again, at once; one with ``also`` (two saves naming one
        team meet on it) after a short pause, and it is Busy when it keeps meeting them
        (``Table.transact(retry_conflicts=True)``)."""
        release = before is not None and (name is None or name_sk(before) != name_sk(name))
        stale: str | None = None
        for _ in range(ATTEMPTS):
            ops = [op, *([self._claim(holder, name, stale)] if name is not None else []),
                   *([self._release(holder, before)] if release and before is not None else [])]
            first_also = len(ops)
            try:
                self.table.transact([*ops, *also], retry_conflicts=bool(also))
                return
            except TransactionCancelled as exc:
                if 0 in exc.failed:
                    raise ConditionFailed from exc
                if exc.failed[-1] >= first_also:
                    raise PartFailed(exc.failed[-1] - first_also) from exc
                if name is not None and 1 in exc.failed:
                    other = str((exc.old(1) or {}).get("holder") or "")
                    bears = self.borne(other) if other else None
                    if bears is not None and name_sk(bears) == name_sk(name):
                        raise name_taken(self.kind, name, other, self.field) from exc
                    stale = other           # its holder does not bear it: taken over, if it is still theirs
                    continue
                release = False             # the old name's marker is another's (two saved before markers): kept
            except ClientError as exc:      # a transaction on the same items at the same moment: once more
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
        raise ConditionFailed

    def _claim(self, holder: str, name: str, stale: str | None) -> dict[str, Any]:
        condition = "attribute_not_exists(PK) OR #holder = :holder" + (" OR #holder = :stale" if stale else "")
        item = {"PK": name_pk(self.scope), "SK": name_sk(name), "type": "name", "scope": self.scope,
                "name": name, "holder": holder}
        return self.table.put_op(item, condition, old_on_failure=True, names={"#holder": "holder"},
                                 values={":holder": holder, **({":stale": stale} if stale else {})})

    def _release(self, holder: str, name: str) -> dict[str, Any]:
        return self.table.delete_op(name_pk(self.scope), name_sk(name), "attribute_not_exists(PK) OR #holder = :holder",
                                    names={"#holder": "holder"}, values={":holder": holder})
