"""Merge, unmerge and link: one customer across every channel.

Rules (docs/architecture.md, "Identity"):

- Identities are linked automatically only on evidence the customer controls: the same phone on SMS and
  WhatsApp (one ``phone`` identity), a web-chat visitor who proves an email with a one-time code
  (``link_verified``). Never on a name, never on an address merely written somewhere, never on a shop's
  record (``link_shop_record``: whoever checks out types both an email and a phone, unverified): that is
  evidence for an agent (``logic.duplicates``), who merges with one action.
- A merge moves everything of the merged customer to the survivor: every identity (and its open slot), every
  conversation (its customer and history partition). The merge record keeps what was moved and how each
  identity was, so an unmerge puts each piece back: identities, conversations (and those started since from
  the merged customer's identities), records. Both customers' timelines show who did it, when and why.
- Every identity takes the merged customer's name (the survivor's, else the other's), over one it had (a web-chat
  visitor token's, say): the customer's next conversation, on any channel, bears it and the acknowledgement
  greets them by it. An unmerge gives each identity the name it had.
- One open conversation per customer: after a merge every identity holds the survivor's open conversation,
  or the merged customer's when the survivor had none. When both had one, the merged customer's goes into the
  survivor's (logic.fold: its messages show there, its channels answered from there, it is resolved as merged);
  an unmerge takes them apart again and opens it again. What one side wrote into the other's conversation while
  they were one stays there (their messages, which name their identity); the unmerge takes off the route to their
  address it left, and the name the merge gave a conversation opened meanwhile (the erase, the rest: privacy.erase).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopdesk import clock
from shopdesk.dal.customers import Customers, route_identity
from shopdesk.dal.identities import Identities, split_key
from shopdesk.errors import BadRequest, Conflict, NotFound
from shopdesk.ids import new_id
from shopdesk.models import Conversation, ConversationStatus, Identity
from shopdesk.models.customer import Customer, CustomerEvent, Evidence, IdentityBefore, MergeRecord

if TYPE_CHECKING:
    from shopdesk.logic.fold import Folder

SYSTEM = "system"


def customer_not_found(customer_id: str, *, hidden_from_caller: bool = False) -> NotFound:
    """The one answer for a customer that does not exist and one the caller may not see (``hidden_from_caller``:
    for the audit trail only)."""
    return NotFound(f"customer {customer_id} does not exist").concerning({"customer_id": customer_id},
                                                                          hidden=hidden_from_caller)


def merge_not_found(merge_id: str, customer_id: str, *, concerning: str | None = None,
                    hidden_from_caller: bool = False) -> NotFound:
    """The one answer for a merge that does not exist, one of other customers and one of a customer the caller may
    not see (``concerning``: that customer, ``hidden_from_caller``: it exists; both for the audit trail only), so
    that nobody learns from it that a merge exists, nor whom it joined."""
    error = NotFound(f"merge {merge_id} of customer {customer_id} does not exist")
    return error.concerning({"customer_id": concerning}, hidden=hidden_from_caller) if concerning else error


@dataclass(frozen=True)
class LinkOutcome:
    outcome: str                      # linked, merged, already, suggested, nothing
    customer_id: str | None = None
    merge_id: str | None = None


class Merger:
    def __init__(self, customers: Customers, folder: Folder | None = None):
        self.customers = customers
        self.identities: Identities = customers.identities
        self.folder = folder            # makes two open conversations one (without: the merged one stays open)

    # ------------------------------------------------------------------ merge
    def merge(self, survivor_id: str, other_id: str, *, by: str, reason: str,
              names: Mapping[str, str] | None = None) -> MergeRecord:
        """Merge ``other_id`` into ``survivor_id``. NotFound for a missing customer; Conflict when either was
        merged away already or anything changed meanwhile. ``names``: how the timeline says the agent who merged
        (``access.agent_names``); the desk's own merges (``by`` SYSTEM) say "system"."""
        if survivor_id == other_id:
            raise BadRequest("a customer cannot be merged with themselves")
        self._let_go_failed_holds(survivor_id, other_id)
        survivor, other = self._live(survivor_id), self._live(other_id)
        keys_a, keys_b = [i.key for i in survivor.identities], [i.key for i in other.identities]
        records = self.identities.get_many([*survivor.identities, *other.identities])
        if any(k not in records for k in (*keys_a, *keys_b)):
            raise Conflict("an identity of these customers is being written; retry")
        open_a = next((records[k].open_conversation_id for k in keys_a if records[k].open_conversation_id), None)
        open_b = next((records[k].open_conversation_id for k in keys_b if records[k].open_conversation_id), None)
        shared = open_a or open_b
        moved = [c.id for c in self.customers.all_conversations(other.id)]
        folded = self.folder.plan(open_b, open_a) if self.folder is not None and open_a and open_b else None
        now = clock.now()
        record = MergeRecord(
            id=new_id("mg_"), survivor_id=survivor.id, merged_id=other.id, by=by, reason=reason, at=now,
            survivor_name=survivor.name, survivor_identities=keys_a, merged_identities=keys_b,
            identities_before={k: IdentityBefore(customer_id=r.customer_id, open_conversation_id=r.open_conversation_id,
                                                 siblings=list(r.siblings), customer_name=r.customer_name)
                               for k, r in records.items()},
            conversations_moved=moved, folded=folded, gave_name=survivor.name or other.name,
            named_conversation=shared if survivor.name or other.name else None)
        all_keys = [*keys_a, *keys_b]
        merged = survivor.model_copy(update={"identities": [*survivor.identities, *other.identities],
                                             "name": survivor.name or other.name})
        core = [self.identities.rewrite_op(records[k], customer_id=survivor.id, open_conversation_id=shared,
                                           siblings=[s for s in all_keys if s != k], expected=records[k],
                                           name=merged.name)
                for k in all_keys]
        core += [
            self.customers.record_op(merged, merged_into=None, merge_id=None, expect_merged_into=None),
            self.customers.record_op(other, merged_into=survivor.id, merge_id=record.id, expect_merged_into=None),
            self.customers.merge_op(record, expect_status=None),
            self.customers.event_op(survivor.id, CustomerEvent(id=record.id, kind="merged", at=now, by=by,
                                                               reason=reason, other_id=other.id, merge_id=record.id)),
            self.customers.event_op(other.id, CustomerEvent(id=record.id, kind="merged_into", at=now, by=by,
                                                            reason=reason, other_id=survivor.id, merge_id=record.id)),
        ]
        moves = [self.customers.move_conversation_op(c, from_id=other.id, to_id=survivor.id) for c in moved]
        self.customers.write(core, moves)
        if shared and merged.name:           # the conversation they write to now shows the name the merge gave them
            self.customers.name_conversation(shared, merged.name)
        if folded is not None and self.folder is not None:
            self.folder.fold(folded.conversation, folded.into, by=by, names={SYSTEM: SYSTEM, **(names or {})})
        return record

    # ------------------------------------------------------------------ unmerge
    def unmerge(self, customer_id: str, merge_id: str, *, by: str, reason: str,
                names: Mapping[str, str] | None = None) -> MergeRecord:
        """Undo a merge: each side gets back its identities, conversations (with those started since from its
        identities) and record. Conflict when the merge was undone already, or the survivor was merged
        into someone else since (undo that first)."""
        record = self.customers.get_merge(merge_id)
        if record is None or customer_id not in (record.survivor_id, record.merged_id):
            raise merge_not_found(merge_id, customer_id)
        if record.status != "merged":
            raise Conflict(f"merge {merge_id} was undone already")
        self._let_go_failed_holds(record.survivor_id, record.merged_id)
        survivor, other = self.customers.get(record.survivor_id), self.customers.get(record.merged_id)
        if survivor is None or other is None:
            raise Conflict("a customer of this merge no longer exists")
        if survivor.merged_into:
            raise Conflict(f"customer {survivor.id} was merged into {survivor.merged_into} since; undo that first")
        if other.merged_into != survivor.id or other.merge_id != merge_id:
            raise Conflict(f"customer {other.id} is not merged by {merge_id}")
        keys_b = set(record.merged_identities)
        keys_a = [i.key for i in survivor.identities if i.key not in keys_b]
        records = self.identities.get_many([split_key(k) for k in [*keys_a, *keys_b]])
        conversations = self.customers.all_conversations(survivor.id)
        back = parted(record, conversations)[1]
        back_ids = {c.id for c in back}
        status = {c.id: c.status for c in conversations}
        if record.folded is not None and self.folder is not None:      # open again once taken apart (logic.fold)
            status[record.folded.conversation] = ConversationStatus.OPEN
        current = next((r.open_conversation_id for r in records.values() if r.open_conversation_id), None)

        def open_for(side_before: list[str], side_owns: bool) -> str | None:
            if current and side_owns:
                return current
            before = next((record.identities_before[k].open_conversation_id for k in side_before
                           if k in record.identities_before and record.identities_before[k].open_conversation_id),
                          None)
            if before and before != current and status.get(before) not in (None, ConversationStatus.RESOLVED):
                return before
            return None

        open_b = open_for(record.merged_identities, current in back_ids)
        open_a = open_for(record.survivor_identities, current is not None and current not in back_ids)
        now = clock.now()
        core = []
        def renamed_by_merge(k: str) -> tuple[bool, str | None]:   # an identity the merge named: the name it had
            before = record.identities_before.get(k)
            renamed = bool(record.gave_name and before is not None and before.customer_name != record.gave_name
                           and records[k].customer_name == record.gave_name)
            return renamed, before.customer_name if renamed and before is not None else None

        for keys, owner, open_id in ((keys_a, survivor.id, open_a), (sorted(keys_b), other.id, open_b)):
            for k in keys:
                if k in records:
                    renamed, was = renamed_by_merge(k)
                    core.append(self.identities.rewrite_op(records[k], customer_id=owner, open_conversation_id=open_id,
                                                           siblings=[s for s in keys if s != k], expected=records[k],
                                                           name=was, unname=renamed and was is None))
        order_b = record.merged_identities
        restored_a = survivor.model_copy(update={
            "identities": [i for i in survivor.identities if i.key not in keys_b], "name": record.survivor_name})
        restored_b = other.model_copy(update={
            "identities": [Identity(kind=split_key(k)[0], address=split_key(k)[1]) for k in order_b]})
        done = record.model_copy(update={"status": "unmerged", "unmerged_by": by, "unmerged_at": now,
                                         "unmerge_reason": reason})
        core += [
            self.customers.record_op(restored_a, merged_into=None, merge_id=None, expect_merged_into=None),
            self.customers.record_op(restored_b, merged_into=None, merge_id=None, expect_merged_into=survivor.id),
            self.customers.merge_op(done, expect_status="merged"),
        ]
        for side, other_side in ((survivor.id, other.id), (other.id, survivor.id)):
            core.append(self.customers.event_op(side, CustomerEvent(
                id=new_id("ev_"), kind="unmerged", at=now, by=by, reason=reason, other_id=other_side,
                merge_id=merge_id)))
        moves = [self.customers.move_conversation_op(c.id, from_id=survivor.id, to_id=other.id) for c in back]
        self.customers.write(core, moves)
        named = record.named_conversation
        if named and record.gave_name:       # the name goes if it was the other side's (the merge gave it there)
            from_other = record.survivor_name is None
            if (named in back_ids) != from_other:
                self.customers.name_conversation(named, None, was=record.gave_name)
        if record.folded is not None and self.folder is not None:
            self.folder.unfold(record.folded.conversation, record.folded.into, record.folded.channels, by=by,
                               names={SYSTEM: SYSTEM, **(names or {})})
        self._parted_conversations(record, other, (set(keys_a), keys_b), conversations, back_ids)
        return done

    def _parted_conversations(self, record: MergeRecord, other: Customer, keys: tuple[set[str], set[str]],
                              conversations: list[Conversation], back_ids: set[str]) -> None:
        """What one side's conversations kept of the other once the unmerge parted them: a route to an address of
        the other's (they wrote into it while one customer: replies would go on to them) is taken off, and one opened
        while they were one bears the name the merge gave, the other's: taken off too (the name each side had before
        is on its identities again). ``keys``: each side's identities (the survivor's, the merged customer's)."""
        keys_a, keys_b = keys
        for conv in conversations:
            theirs = keys_a if conv.id in back_ids else keys_b
            if any(route_identity(channel, route.to) in theirs for channel, route in conv.routes.items()):
                self.customers.drop_routes(conv.id, theirs)
            own = other.name if conv.id in back_ids else record.survivor_name
            if (record.gave_name and conv.created_at > record.at and conv.customer.name == record.gave_name
                    and own != record.gave_name):
                self.customers.name_conversation(conv.id, None, was=record.gave_name)

    # ------------------------------------------------------------------ automatic links
    def link_verified(self, customer_id: str | None, anchor: Identity, proven: Identity, *, reason: str
                      ) -> LinkOutcome:
        """The customer proved they control ``proven`` (a one-time code sent to it) while writing as
        ``anchor`` (their web-chat visitor id, say). ``customer_id`` is the anchor's customer, None before
        the anchor ever wrote. The proven address's customer, if another, absorbs the anchor's."""
        owner = self.identities.get(proven.kind, proven.address)
        if customer_id is None:
            if owner is None:
                return LinkOutcome("nothing")        # nobody to link to yet: the proof stays with the session
            return self._attach(owner.customer_id, anchor, reason=reason)
        if owner is None:
            return self._attach(customer_id, proven, reason=reason)
        if owner.customer_id == customer_id:
            return LinkOutcome("already", customer_id)
        survivor = self.survivor_of(owner.customer_id)
        if survivor == customer_id:
            return LinkOutcome("already", customer_id)
        record = self.merge(survivor, customer_id, by=SYSTEM, reason=reason)
        return LinkOutcome("merged", survivor, record.id)

    def link_shop_record(self, email: str | None, phone: str | None, *, order: str | None = None) -> LinkOutcome:
        """A shop's customer record (or order) that carries both an email and a phone. Whoever checks out types
        both, and neither is verified (a guest checkout takes anyone's phone or email), so the record is not
        the customer's evidence: it never links or merges. It is kept as evidence for agents on the customer of
        the known one (``suggested``: the duplicates view shows it, an agent merges with one action), and is
        ``already`` when both are one customer's."""
        if not email or not phone:
            return LinkOutcome("nothing")
        known = self.identities.get_many([("email", email), ("phone", phone)])     # one BatchGetItem
        by_email, by_phone = known.get(f"email#{email}"), known.get(f"phone#{phone}")
        if by_email is None and by_phone is None:
            return LinkOutcome("nothing")
        if by_email is not None and by_phone is not None and by_email.customer_id == by_phone.customer_id:
            return LinkOutcome("already", by_email.customer_id)
        if by_email is not None:
            self._suggest(by_email.customer_id, "phone", phone, order)
        if by_phone is not None:
            self._suggest(by_phone.customer_id, "email", email, order)
        owner = by_email or by_phone
        assert owner is not None
        return LinkOutcome("suggested", owner.customer_id)

    def _suggest(self, customer_id: str, kind: str, address: str, order: str | None) -> None:
        """Keep what the shop's record gave as evidence for agents (an order, or a customer record)."""
        self.customers.record_evidence(customer_id, [Evidence(
            kind=kind, address=address, source="order" if order else "shop_customer",  # type: ignore[arg-type]
            order=order, at=clock.now())])

    def _attach(self, customer_id: str, identity: Identity, *, reason: str) -> LinkOutcome:
        """A new identity for an existing customer: it joins their open slot and their siblings."""
        survivor_id = self.survivor_of(customer_id)
        self._let_go_failed_holds(survivor_id)
        customer = self._live(survivor_id)
        keys = [i.key for i in customer.identities]
        records = self.identities.get_many(customer.identities)
        if any(k not in records for k in keys):
            raise Conflict("an identity of this customer is being written; retry")
        shared = next((r.open_conversation_id for r in records.values() if r.open_conversation_id), None)
        everyone = [*keys, identity.key]
        now = clock.now()
        core = [self.identities.create_op(identity, customer.id, customer.name, shared,
                                          siblings=[k for k in everyone if k != identity.key])]
        core += [self.identities.rewrite_op(records[k], customer_id=customer.id, open_conversation_id=shared,
                                            siblings=[s for s in everyone if s != k], expected=records[k])
                 for k in keys]
        linked = customer.model_copy(update={"identities": [*customer.identities, identity]})
        core += [self.customers.record_op(linked, merged_into=None, merge_id=None, expect_merged_into=None),
                 self.customers.event_op(customer.id, CustomerEvent(id=new_id("ev_"), kind="linked", at=now, by=SYSTEM,
                                                                    reason=reason, identity=identity.key))]
        self.customers.write(core, [])
        return LinkOutcome("linked", customer.id)

    # ------------------------------------------------------------------ helpers
    def _let_go_failed_holds(self, *customer_ids: str) -> None:
        """Before a merge, an unmerge or a link rewrites these customers' records (each conditioned on no erase holding
        them): an erase whose job reads failed, or is gone, holds them no more (``Customers.let_go_failed_hold``), so
        the change is not refused for a hold nothing will ever let go."""
        for customer_id in customer_ids:
            self.customers.let_go_failed_hold(customer_id)

    def _live(self, customer_id: str) -> Customer:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise customer_not_found(customer_id)
        if customer.merged_into:
            raise Conflict(f"customer {customer_id} was merged into {customer.merged_into}")
        return customer

    def survivor_of(self, customer_id: str) -> str:
        """Follow merges to the customer that holds the identities now (a few hops at most)."""
        seen: set[str] = set()
        while customer_id not in seen:
            seen.add(customer_id)
            customer = self.customers.get(customer_id)
            if customer is None or not customer.merged_into:
                return customer_id
            customer_id = customer.merged_into
        return customer_id


def parted(record: MergeRecord, conversations: list[Conversation]) -> tuple[list[Conversation], list[Conversation]]:
    """The survivor's conversations as an unmerge of ``record`` parts them: (the survivor's, the merged customer's:
    those the merge moved, and those started since from the merged customer's identities)."""
    keys_b = set(record.merged_identities)
    back = [c for c in conversations if c.id in record.conversations_moved
            or (_started_from(c) in keys_b and c.created_at > record.at)]
    ids = {c.id for c in back}
    return [c for c in conversations if c.id not in ids], back


def _started_from(conv: Conversation) -> str | None:
    return conv.customer.identities[0].key if conv.customer.identities else None

