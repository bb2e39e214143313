"""Mentions: an agent named with ``@`` in a note (docs/data-model.md, #120-#124).

Item layout: one per (conversation, mentioned agent), updated by each further mention there:
``CONV#<id> / MENTION#<agent>`` with agent_id, conversation_id, by (who mentioned last), message_id (the
latest note), last_at, count (every mention), unread (mentions since the agent last read them);
``AccessPK = MENTIONS#<agent>``, ``InboxSK = <last_at>#<conversation>`` (the Access index: the agent's
mentioned conversations, newest mention first) and, only while unread, ``StatusPK = UNREAD#<agent>``,
``StatusSK = <last_at>`` (the ByStatus index: counting the unread ones is one COUNT Query).
The conversation's ``mentions_unread`` (string set) names the agents with unread mentions there, so opening
a conversation knows, from the item it reads anyway, whether to mark anything read.

The mention items live under the conversation, so they go wherever the conversation goes (erase, export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.erased import NOT_ERASING, timeline_check_op, transact_unless_held
from shopdesk.dal.retention import TimelineRetention
from shopdesk.dal.table import Table, TransactionCancelled, Update
from shopdesk.errors import conversation_not_found
from shopdesk.models import Conversation, Message


def mention_sk(agent_id: str) -> str:
    return f"MENTION#{agent_id}"


def access_mentions(agent_id: str) -> str:
    """The Access index partition of the conversations an agent was mentioned in."""
    return f"MENTIONS#{agent_id}"


def unread_pk(agent_id: str) -> str:
    """The ByStatus index partition of an agent's unread mentions (sparse: present only while unread)."""
    return f"UNREAD#{agent_id}"


@dataclass(frozen=True)
class Mention:
    conversation_id: str
    agent_id: str
    by: str | None
    message_id: str | None
    last_at: str
    count: int
    unread: int


def _mention_from_item(item: dict[str, Any]) -> Mention:
    return Mention(conversation_id=item["conversation_id"], agent_id=item["agent_id"], by=item.get("by"),
                   message_id=item.get("message_id"), last_at=item["last_at"], count=int(item.get("count") or 0),
                   unread=int(item.get("unread") or 0))


class Mentions:
    def __init__(self, table: Table):
        self.table = table
        self.retention = TimelineRetention(table)     # the messages' expiry for what is written without one

    def add_note(self, conv: Conversation, note: Message, mentioned: list[str], grants: list[str]) -> None:
        """The note, a mention item per mentioned agent and, for those who could not see the conversation,
        a grant (the conversation's ``granted`` and a grant item, as a transfer gives): one transaction (#120).
        Conditioned on the conversation being there and not held by its customer's erase (dal/erased.py): NotFound,
        nothing written, when it is gone or going."""
        at = clock.iso(note.created_at)
        ops = [self.table.put_op(it.message_item(self.retention.stamp(note)))]
        for agent_id in mentioned:
            update = (Update().set("type", "mention").set("agent_id", agent_id).set("conversation_id", conv.id)
                      .set("by", note.author).set("message_id", note.id).set("last_at", at)
                      .set("AccessPK", access_mentions(agent_id)).set("InboxSK", f"{at}#{conv.id}")
                      .set("StatusPK", unread_pk(agent_id)).set("StatusSK", at)
                      .add("count", 1).add("unread", 1))
            ops.append(self.table.update_op(it.conv_pk(conv.id), mention_sk(agent_id), update))
        if not mentioned:           # the note alone: a ConditionCheck of the conversation in place of its update
            try:
                transact_unless_held(self.table, [*ops, timeline_check_op(self.table, conv.id)], retry_conflicts=True)
            except TransactionCancelled as exc:
                raise conversation_not_found(conv.id) from exc
            return
        conv_update = Update().add("mentions_unread", set(mentioned)).when(f"attribute_exists(PK) AND {NOT_ERASING}")
        if grants:
            conv_update.add("granted", set(grants))         # logic/access.py: they may read it from now on
            ops.extend(self.table.put_op(it.grant_item(conv.id, agent_id, at)) for agent_id in grants)
        ops.append(self.table.update_op(it.conv_pk(conv.id), it.META, conv_update, old_on_failure=True))
        try:
            transact_unless_held(self.table, ops)
        except TransactionCancelled as exc:
            raise conversation_not_found(conv.id) from exc

    def mark_read(self, conversation_id: str, agent_id: str, seen_message_id: str | None = None) -> bool:
        """The agent's mentions in the conversation are read (#122): the item leaves the unread index and the
        conversation's ``mentions_unread``. With ``seen_message_id`` (the latest mention the agent was shown)
        only if no newer mention came meanwhile. False when nothing was marked."""
        update = (Update().set("unread", 0).set("read_at", clock.now_iso()).remove("StatusPK").remove("StatusSK")
                  .when("attribute_exists(PK)"))
        if seen_message_id is not None:
            update.when("message_id = :seen", seen=seen_message_id)
        try:
            self.table.transact([
                self.table.update_op(it.conv_pk(conversation_id), mention_sk(agent_id), update),
                self.table.update_op(it.conv_pk(conversation_id), it.META,
                                     Update().delete("mentions_unread", {agent_id}).when("attribute_exists(PK)")),
            ])
        except TransactionCancelled:
            return False
        return True

    def list(self, agent_id: str, limit: int, cursor: str | None
             ) -> tuple[list[tuple[Mention, Conversation]], str | None]:
        """The conversations the agent was mentioned in, newest mention first: one Query of the Access index,
        one BatchGetItem of the mentions (the index holds their keys) and one of the conversations (#121)."""
        page = self.table.query_items(index="Access", key_condition="AccessPK = :pk",
                                      values={":pk": access_mentions(agent_id)}, limit=limit, cursor=cursor,
                                      forward=False)
        mentions = [_mention_from_item(i) for i in page.items]
        found = {i["id"]: it.conversation_from_item(i)
                 for i in self.table.batch_get([(it.conv_pk(m.conversation_id), it.META) for m in mentions])}
        return [(m, found[m.conversation_id]) for m in mentions if m.conversation_id in found], page.cursor

    def unread_count(self, agent_id: str) -> int:
        """Conversations with mentions the agent has not read: one COUNT Query of ByStatus (#123)."""
        return self.table.count(index="ByStatus", key_condition="StatusPK = :pk", values={":pk": unread_pk(agent_id)})
