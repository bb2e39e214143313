"""Erase (the right to be forgotten): the customer's items removed from the table, their files from S3; what
must stay to refuse a provider's replay stays without them.

- Conversations (record, messages, deadlines, grants), identities, the customer's records, timelines and
  evidence (theirs, and anyone's evidence naming their addresses), merge records, cached orders, shop
  customers and pointers of their emails and phones, web-chat one-time codes and rate-limit buckets, the codes any
  web chat asked for one of their email addresses (found by their pointers, ``erase_codes``), records of
  webhooks that could not be stored naming their addresses: deleted.
  The stream carries the removals to the search index (``SearchIndexerFunction`` removes removed messages and
  conversations) and to the live inboxes. The reply keys of their conversations (an Idempotency-Key's item: a digest
  of the reply's body, which a short reply's words can be guessed back from) go too, every caller's: one Query per
  conversation (``erase_reply_keys``).
- Provider message markers of their messages: deleted, and replaced by a hash of the provider's id
  (``ERASEDMSG#<provider>#sha256:<hex>``, nothing else, until the marker's TTL) that ingest's transaction checks:
  a replay of an erased message is refused as a duplicate and stores nothing.
- While it runs, their identities and conversations say so (``erasing``, ``hold``): every transaction that stores a
  customer's message is conditioned on its absence (dal/erased.py), so a message that comes meanwhile is stored
  before the hold, and found by the erase's last read (``PrivacyWorker`` reads the subject again after holding all it
  found), or refused, and delivered again by its provider after the erase: a new customer's then, with no link to
  them (a Twilio message kept for a replay, dated before the erase, is dropped: below). Held before the last read, a
  conversation opened between the first read and the hold is found, held and read too (after the identities are
  held, none can open). An erase that fails for good takes its hold away (``release``). What the desk writes on
  their timeline is held too: a reply, a note, an acknowledgement, the bot's answer, a system entry written after
  the hold is refused (dal/erased.py); the router's and the sweep's other writes under a conversation are
  conditioned on its item, which the erase deletes before it reads the conversation once more and deletes what
  landed (``erase_landed``).
  A reply queued before the hold and not sent yet is held as well: the dispatcher's record of its intent, made
  before each part goes to the provider, is refused, and it is never sent (the erase deletes it). A part that went
  before the hold may have its send recorded on the held reply after the last read: the erase reads each such reply
  as it deletes it, and its provider markers go too (``erase_replies``).
- Their phone numbers: a keyed hash of each, with the erase's time, until a request kept before it can wait no more
  (``ERASEDADDR#hmac-sha256:<hex>``, ``dal/erased.py``): the replay of a Twilio message kept in the ingest-retry
  queue before the erase, which was never stored and so is not found here, is dropped (``logic.webhooks.replay``).
  They are written before the subject is read for the last time (``mark``, then ``PrivacyWorker`` reads it again):
  a replay storing under the customer before the marks land is found and erased with the rest; one storing after
  them is refused by its own transaction, which checks the mark.
- The shop platform's privacy requests naming them (by an address of theirs, or as a customer the request
  covers): kept (the shop must show it acted), their body's customer, orders and payload replaced by
  ``{"erased": true}``; a hash of each identifier it named stays, and beside the body the customers it covered
  with their jobs and what became of them.
- An agent holding one of their open conversations gets the seat back, once: the conversation loses its assignee in the
  same transaction (``Agents.release_seat``), so an attempt that runs again finds none and frees nothing more.
- The timeline of each customer they were once merged with (merged apart again since): its entries about them keep
  their ids, who and when, and lose the reason, an agent's words that often name them (``forget_in_timelines``). The
  conversations' system entries of a merge and its audit records hold ids only, and are left as they are.
- The conversations of those customers: what they wrote there while merged (inbound messages naming an identity of
  theirs, or naming none, stored before messages did, that came while merged on a kind of identity only they had:
  ``subject._unnamed_theirs``; with their files, markers and the evidence their words gave the other) deleted, and
  the conversation's
  routes of their addresses, the preview of a message of theirs and their name (the merge's) taken off; the other's
  messages and the desk's stay (``forget_in_conversations``).
- The deletion list (``ERASED``): the customer's and conversations' ids, for the event lake, which applies it
  to its queries until its own rows have expired (docs/data-model.md, "Retention and erasure"): written as an
  item and as an object in the lake's bucket (``dal/lake.py``), which every report anti-joins (``analytics.sql``).
  Under each customer erased (they and those merged into them), the erase's job and time
  (``ERASEDCUSTOMER#<id>``, ids only): a second erase of them answers with it (``PrivacyJobs.start``).
- Every export archive holding them (theirs, and a survivor's holding a customer merged into it), whatever became
  of its job: the archive deleted from the export bucket (a link handed out before answers 404 from then on), its
  job marked (``archive_deleted``: it hands out no link), then the names of the archive under each customer it
  holds. Looked for again after everything else of theirs is gone, so an export that wrote its archive while the
  erase ran is found; one that writes it later finds the customer gone, or their record marked ``erasing`` (set
  before anything is read), and deletes it itself (``PrivacyWorker``).

Idempotent and resumable: the customer's record is removed last, so a retried job finds what is left; a job
for a customer already erased finds nothing and is done. What is left may no longer name their conversations or the
customers merged into them (their items went): the subject a retry erases holds those an earlier attempt found, kept
on its job (``PrivacyWorker._found_before``), for the deletion list and the read of what landed. The marks are
written first, each time: a retried job writes them again with its own time, which still comes after everything the
erase removes was stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shopdesk import clock
from shopdesk.dal import items as it
from shopdesk.dal.agents import Agents
from shopdesk.dal.erased import ERASING, ErasedAddresses, holds
from shopdesk.dal.lake import LakeBucket
from shopdesk.dal.live import ConnectionPoster
from shopdesk.dal.privacy import Files, Key, PrivacyJobStore, SubjectData
from shopdesk.dal.verifications import CodeNames
from shopdesk.logic import timeline
from shopdesk.privacy.subject import Subject, route_addresses


@dataclass
class Erased:
    items: int
    files: int
    conversations: int
    markers: int
    exports: int = 0


@dataclass
class Eraser:
    data: SubjectData
    files: Files
    agents: Agents
    lake: LakeBucket | None = None        # the event lake's bucket: the deletion list its reports apply
    jobs: PrivacyJobStore | None = None   # the export jobs whose archives it deletes: marked so
    addresses: ErasedAddresses | None = None     # the marks of their phone numbers a kept request's replay reads
    # the one-time codes any web chat asked for an address, and their pointers (by an HMAC of it, the hash key)
    codes: CodeNames | None = None
    sockets: ConnectionPoster | None = None     # the widget's WebSocket API: their visitors' open sockets closed

    def mark(self, subject: Subject) -> bool:
        """The marks of the subject's phone numbers, dated now, before what to erase is read again (``PrivacyWorker``):
        whether there were any to write."""
        marks = self.addresses.marks(subject.addresses, clock.now()) if self.addresses is not None else []
        if marks:
            self.data.put(marks)
        return bool(marks)

    def hold(self, subject: Subject, job_id: str) -> int:
        """The subject's identities and conversations that do not say ``erasing`` (this job) yet made to
        (``SubjectData.hold``): how many. None left (0): nothing of theirs can be stored since the read that found
        them. One marked by an erase that holds no more (it failed, its release refused: ``dal.erased.holds``, one
        BatchGetItem of such jobs) is held anew: a message meeting that mark lets it go (``logic.ingest``)."""
        marks = {key: str(subject.items[key].get(ERASING) or "") for key in held_keys(subject)}
        others = {mark for mark in marks.values() if mark and mark != job_id}
        running = holds(self.data.table, others) if others else set()
        unheld = [key for key, mark in marks.items() if not mark or (mark != job_id and mark not in running)]
        self.data.hold(unheld, job_id)
        return len(unheld)

    def release(self, subject: Subject, job_id: str) -> None:
        """The erase failed for good: its hold is taken away (the customer can write again)."""
        self.data.release(held_keys(subject), job_id)

    def erase(self, subject: Subject, job_id: str, lake_ttl: int | None) -> Erased:
        for conversation_id, agent_id in subject.assigned:       # the seat the conversation held, once
            self.agents.release_seat(agent_id, conversation_id)
        marks = self.addresses.marks(subject.addresses, clock.now()) if self.addresses is not None else []
        self.data.put([*marks, *erased_markers(subject.markers)])
        self.data.rewrite_requests([_without_payload(r) for r in subject.privacy_requests])
        by_bucket: dict[str, list[str]] = {}
        for bucket, key in subject.files:
            by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            self.files.delete(bucket, keys)
        self.close_sockets(subject)             # before their items go: a retry finds them
        self.forget_in_timelines(subject)       # before their own entries and merge records go: a retry finds them
        self.forget_in_conversations(subject)   # likewise
        primary = (it.customer_pk(subject.customer_id), it.META)
        archives = {key for key, row in subject.items.items() if row.get("type") == "export"}   # their files first
        replies = set(held_replies(subject))       # read as they go: a send recorded since names its provider ids
        deleted = self.data.delete(key for key in subject.items
                                   if key != primary and key not in archives and key not in replies)
        deleted += self.erase_replies(replies)
        deleted += self.erase_landed(subject)
        deleted += self.erase_reply_keys(subject)
        deleted += self.erase_codes(subject)
        exports = self.erase_exports(subject.customer_ids, [subject.items[key] for key in archives])
        self.data.record_erased(subject.customer_id, subject.conversation_ids, job_id, lake_ttl, subject.customer_ids)
        if self.lake is not None:
            self.lake.write_erased(job_id, subject.customer_id, subject.conversation_ids, subject.customer_ids)
        self.data.delete([primary])
        return Erased(items=deleted + 1, files=len(subject.files), conversations=len(subject.conversation_ids),
                      markers=len(subject.markers), exports=exports)

    def forget_in_timelines(self, subject: Subject) -> int:
        """The other customers of their merges (merged apart again since, or the merge record names them): each
        one's timeline entries about the subject's customers (``other_id``) keep their ids, who and when, and lose
        the reason, an agent's words that often name the person ("same person, <name> <phone>"), marked
        ``other_erased``. Found from the subject's own entries and merge records, which are deleted after this, so a
        retried job finds them again; an entry forgotten already is not written again. How many entries."""
        ours = set(subject.customer_ids)
        forgotten = 0
        for other in subject.merged_with():
            for row in self.data.timeline(other):
                event = row.get("event") or {}
                if event.get("other_id") in ours and (event.get("reason") or not event.get("other_erased")):
                    self.data.forget_other((row["PK"], row["SK"]))
                    forgotten += 1
        return forgotten

    def forget_in_conversations(self, subject: Subject) -> int:
        """What they left in a conversation of a customer once merged with them (``Subject.elsewhere``): the messages
        they wrote there while merged deleted first (their markers and files went before), then the conversation's
        routes of their addresses taken off (its replies go on the other's channel they wrote on last), the preview of
        a message of theirs and their name, which the merge gave it. The other's messages and the desk's stay. Found
        from their entries and merge records, deleted after this: a retried job finds them again. The evidence their
        words gave the other (an address seen in them) goes with their messages. How many conversations."""
        theirs = [row for row in subject.of_type("message") if row["conversation_id"] not in subject.conversation_ids]
        if subject.elsewhere_keys:
            self.data.delete(subject.elsewhere_keys)
        previews = {timeline.preview(row.get("text"), len(row.get("attachments") or [])) for row in theirs}
        names = {row.get("name") for row in subject.of_type("customer")} | {
            row.get("customer_name") for row in subject.of_type("identity")}
        keys, ours = subject.identity_keys(), subject.addresses
        for meta in subject.elsewhere:
            routes = {channel: str(route["to"]) for channel, route in (meta.get("routes") or {}).items()
                      if route and route.get("to") and (f"{channel}#{route['to']}" in keys
                                                        or route_addresses({"routes": {channel: route}}) & ours)}
            kept = [(str(route.get("last_inbound_at") or ""), channel)
                    for channel, route in (meta.get("routes") or {}).items() if channel not in routes]
            channel = max(kept)[1] if meta.get("channel") in routes and kept else None
            name = (meta.get("customer") or {}).get("name")
            owner = (meta.get("customer") or {}).get("id")
            name = name if name in names and name != (self.data.customer_name(owner) if owner else None) else None
            preview = meta.get("last_message_preview")
            self.data.forget_on_conversation(meta["id"], routes, channel, preview if preview in previews else None,
                                             name)
        return len(subject.elsewhere)

    def erase_replies(self, keys: set[Key]) -> int:
        """Their replies not sent at the last read (``held_replies``), deleted one by one and read as they go. The
        hold refuses a part's intent, not the record of a part sent before it (``Conversations.record_send``: the part
        is with the provider), so a reply may have its provider ids since; its markers, which name the conversation
        and its message (a WhatsApp id encodes the number), go too, a hash of each id left as for the others. A send
        recorded after the reply went finds it gone and deletes its markers itself. How many items."""
        gone = self.data.delete_read(keys)
        ids = {it.marker_pk(row["provider"], pid): (row["provider"], pid) for row in gone if row.get("provider")
               for pid in (row.get("provider_id"), *(row.get("part_ids") or [])) if pid}
        markers = {ids[row["PK"]]: row for row in self.data.markers(ids.values())} if ids else {}
        if markers:
            self.data.put(erased_markers(markers))
        return len(gone) + self.data.delete((row["PK"], row["SK"]) for row in markers.values())

    def erase_landed(self, subject: Subject) -> int:
        """What was written under their conversations after the last read and before the conversations' items went
        (the router's clocks and deadlines, the sweep's, an entry of a write the hold does not refuse): such a write
        updates the conversation's item on a condition it must exist for, so once it is deleted none lands, and what
        landed before is read here (one Query per conversation) and deleted. How many items."""
        return self.data.delete((row["PK"], row["SK"]) for conversation_id in subject.conversation_ids
                                for row in self.data.conversation(conversation_id))

    def erase_reply_keys(self, subject: Subject) -> int:
        """The reply keys of their conversations (a caller's Idempotency-Key, 24 hours: a digest of the reply's body,
        which a short reply's words can be guessed back from), every caller's, an agent of the desk or not, a reply
        stored under the key or none (its function stopped): one Query per conversation (``REPLYKEY#<conversation>``).
        Read once the conversations' items are gone: a reply asked for since is refused by its access check (404)
        before it takes a key. How many items."""
        return self.data.delete(self.data.reply_keys(subject.conversation_ids))

    def close_sockets(self, subject: Subject) -> int:
        """Their web-chat visitors' sockets still open on their conversations (listed under ``LIVE#widget:<id>``,
        ``SubjectData.visitor_sockets``) closed through the widget API's @connections (DeleteConnection): the page hears
        nothing more and API Gateway runs its $disconnect. One closed already (GoneException) is fine; another failure
        fails the attempt, whose retry finds them again (their items are deleted after this). How many closed."""
        if self.sockets is None:
            return 0
        ids = sorted({str(row["SK"]).removeprefix("CONN#") for (pk, _), row in subject.items.items()
                      if pk.startswith("LIVE#widget:") and str(row.get("SK", "")).startswith("CONN#")})
        return sum(self.sockets.delete(connection_id) for connection_id in ids)

    def erase_codes(self, subject: Subject) -> int:
        """The one-time codes any web chat asked for one of their email addresses (a visitor who typed it, theirs or
        anyone's), which hold the address until their TTL (about 70 minutes), and their pointers: one Query an address
        (``CodeNames.naming``). And the pointer of a code their own chats asked for another address (the code went with
        the rest of their items), which names their visitor. A code asked for since is refused nothing: it is that
        chat's new request. How many items."""
        if self.codes is None:
            return 0
        codes = self.codes
        own = [codes.pointer(row["PK"].removeprefix("OTP#"), str(row["email"])) for key, row in subject.items.items()
               if key[0].startswith("OTP#") and row.get("email")]
        return self.data.delete([*own, *(key for kind, address in sorted(subject.addresses) if kind == "email"
                                         for key in codes.naming(address))])

    def erase_exports(self, customer_ids: list[str], known: list[dict[str, Any]]) -> int:
        """Every export archive holding one of the customers (``known``, and those named under them now): the archive,
        then its job's link, then its names under every customer it holds. How many archives."""
        archives = {row["job_id"]: row for row in known}
        for customer_id in customer_ids:
            archives.update({row["job_id"]: row for row in self.data.exports(customer_id)})
        for job_id, row in sorted(archives.items()):
            self.files.delete(row["bucket"], [row["key"]])
            if self.jobs is not None:
                self.jobs.archive_deleted(job_id, "customer_erased")
            self.data.delete([(row["PK"], row["SK"]), *((it.customer_pk(c), row["SK"]) for c in row["customer_ids"])])
        return len(archives)


def held_keys(subject: Subject) -> list[Key]:
    """The items every store of a message of the subject writes or checks (their identities and conversations), and
    their replies not sent yet, whose send the dispatcher's record of its intent checks (``record_intent``)."""
    return [key for key, row in subject.items.items() if row.get("type") in ("identity", "conversation")
            or (row.get("type") == "message" and row.get("direction") == "outbound" and not row.get("provider_id")
                and row.get("status") != "failed")]


def held_replies(subject: Subject) -> list[Key]:
    """Their replies among ``held_keys``: queued, not sent at the last read."""
    return [key for key in held_keys(subject) if subject.items[key].get("type") == "message"]


def erased_markers(markers: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """What an erase leaves of provider markers (``(provider, id)``: the marker): a hash of each id, until the
    marker's TTL."""
    return [{"PK": it.erased_marker_pk(provider, provider_id), "SK": it.META, "type": "erased_marker",
             **({"ttl": marker["ttl"]} if marker.get("ttl") else {})}
            for (provider, provider_id), marker in markers.items()]


def _without_payload(request: dict[str, Any]) -> dict[str, Any]:
    """The request as kept after the erase: what it was and when, a hash of each identifier it named; never the
    identifiers, the orders or the payload. Which customers it covered, and by which jobs, is beside the body."""
    body = json.loads(request.get("body") or "{}")
    kept = {k: body.get(k) for k in ("id", "platform", "topic", "shop_domain", "received_at", "status",
                                      "data_request_id", "identifiers")}
    return {**request, "body": json.dumps({**kept, "payload": {"erased": True}, "customer": None})}
