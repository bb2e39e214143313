"""Names people choose from are one of a kind: a team's name (the team pickers), a label's name (the label
pickers, retired labels too: conversations keep them), a canned response's shortcode (``/wis`` in the composer:
among the shared ones, and among each agent's own). Two that differ only in case or spacing ("Billing",
"billing ") look the same in a picker, so they count as the same.

A save that would make a second one is refused: 409 with the code ``name_taken`` (``shortcode_taken``) naming
the name and the id of the one that has it, so the admin renames this one or edits that one. The check reads what
is stored before the write; two admins creating the same name in the same instant can both succeed (no uniqueness
item guards it), which the next save of either then names.
"""

from __future__ import annotations

from collections.abc import Iterable

from shopdesk.errors import Conflict


def folded(name: str) -> str:
    """A name as it is compared: case folded, its spaces collapsed and trimmed ("  Late  Orders" → "late orders")."""
    return " ".join(name.split()).casefold()


def refuse_taken(kind: str, name: str, own_id: str, others: Iterable[tuple[str, str]],
                 field: str = "name") -> None:
    """Conflict when one of ``others`` ((id, name) pairs) other than ``own_id`` has ``name`` (``folded``)."""
    wanted = folded(name)
    holder = next((other_id for other_id, other in others if other_id != own_id and folded(other) == wanted), None)
    if holder is None:
        return
    raise Conflict(f"{kind} {holder} has the {field} {name!r} already: choose another {field}, or edit {holder}"
                   ).with_code(f"{field}_taken", **{field: name, "id": holder})
