"""Names people choose from are one of a kind: a team's name (the team pickers), an SLA policy's (the policies
list), a label's name (the label pickers, retired labels too: conversations keep them), a macro's name (the
macro menu: among the shared ones, and among each agent's own), a canned response's shortcode (``/wis`` in the
composer: among the shared ones, and among each agent's own). Two that differ only in case or spacing ("Billing",
"billing ") look the same in a picker, so they count as the same. A calendar has no name: it is picked by its id,
which is its key.

A save that would make a second one is refused: 409 with the code ``name_taken`` (``shortcode_taken``) naming
the name and the id of the one that has it, so the admin renames this one or edits that one. Two admins saving
the same name at the same instant cannot both succeed: each name is a marker item written in the same
transaction as the setting (``attribute_not_exists``), moved on a rename and deleted with the setting
(shopdesk.dal.names), and the transaction that comes second is cancelled on it. The use cases also read the
other settings' names before the write (``refuse_taken``): that refuses a name a setting saved before the
markers existed has (it gets its marker at its next save), and a team only the routing settings name (shown by
its id: it has no item of its own).
"""

from __future__ import annotations

from collections.abc import Iterable

from shopdesk.dal.names import folded
from shopdesk.errors import name_taken


def refuse_taken(kind: str, name: str, own_id: str, others: Iterable[tuple[str, str]],
                 field: str = "name") -> None:
    """Conflict when one of ``others`` ((id, name) pairs) other than ``own_id`` has ``name`` (``folded``)."""
    wanted = folded(name)
    holder = next((other_id for other_id, other in others if other_id != own_id and folded(other) == wanted), None)
    if holder is not None:
        raise name_taken(kind, name, holder, field)
