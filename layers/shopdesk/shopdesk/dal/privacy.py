"""What the data subject's export and erase read and remove, item by item; the privacy jobs.

Everything is found by key or through the ByCustomer index (no Scan): the customer's partition (record,
timeline, evidence), their conversations (``ByCustomer``) and every item under each, their identities, the
mentions of their addresses, merge records, provider markers of their messages, the commerce cache of their
emails and phones, one-time codes and rate-limit buckets of their web-chat visitors (the bucket of an address a
visitor asked a code for is named by an HMAC of it: ``logic/verify_email.py``). Files uploaded for them are found
by key prefix (``Files.keys``).

An export's archive is named under every customer it holds (``CUSTOMER#<id>`` / ``EXPORT#<job_id>``: the job, the
archive's bucket and key, and those customers), written before the archive is: the erase of any of them finds every
archive about them there, whatever became of its job, and deletes it (``privacy/erase.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from shopdesk import clock
from shopdesk.bounds import key_part
from shopdesk.commerce.models import STRIPPED_STATUSES, RequestJob, request_status, stripped_body
from shopdesk.dal import items as it
from shopdesk.dal.aws import client
from shopdesk.dal.customers import mention_pk, merge_pk
from shopdesk.dal.erased import ERASING, holds, job_pk
from shopdesk.dal.live import live_pk, widget_audience
from shopdesk.dal.table import ConditionFailed, Table, Update, versioned
from shopdesk.errors import Conflict

JOB_TTL_SECONDS = 30 * 24 * 3600
PLATFORMS = ("shopify", "woocommerce")
Key = tuple[str, str]


def erased_customer_pk(customer_id: str) -> str:
    """Which erase removed a customer (``SubjectData.record_erased``): a second erase of them points at it."""
    return f"ERASEDCUSTOMER#{customer_id}"


def export_sk(job_id: str) -> str:
    """An export's archive, under each customer it holds (``SubjectData.record_export``)."""
    return f"EXPORT#{job_id}"


class SubjectData:
    """Raw items about one customer: read for an export, removed for an erase."""

    def __init__(self, table: Table):
        self.table = table

    def _partition(self, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        if prefix:
            return self.table.query_all(index=None, key_condition="PK = :pk AND begins_with(SK, :p)", names={},
                                        values={":pk": pk, ":p": prefix}, consistent=True)
        return self.table.query_all(index=None, key_condition="PK = :pk", names={}, values={":pk": pk},
                                    consistent=True)

    def customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's partition: record, timeline events, evidence."""
        return self._partition(it.customer_pk(customer_id))

    def conversation_ids(self, customer_id: str) -> list[str]:
        rows = self.table.query_all(index="ByCustomer", key_condition="CustomerPK = :pk", names={},
                                    values={":pk": it.customer_pk(customer_id)})
        return [row["id"] for row in rows if row.get("type") == "conversation"]

    def conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every item under the conversation: its record, messages, deadlines, grants."""
        return self._partition(it.conv_pk(conversation_id))

    def visitor_sockets(self, conversation_id: str) -> list[dict[str, Any]]:
        """The web-chat visitor's open sockets of a conversation (``dal.live``): their items under the conversation's
        audience (``LIVE#widget:<id>``) and each connection's own (``CONN#<id>/META``), which name the conversation
        until the socket closes or its ``ttl`` (2 h 10 min). One Query, and a BatchGetItem when there are any."""
        listed = self._partition(live_pk(widget_audience(conversation_id)))
        return listed + self.by_keys([(str(row["SK"]), it.META) for row in listed]) if listed else []

    def identities(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.table.batch_get([(it.identity_pk(kind, address), it.META) for kind, address in set(keys)])

    def mentions(self, kind: str, address: str) -> list[dict[str, Any]]:
        """Who wrote this address in a message (``MENTION#``), whoever they are."""
        return self._partition(mention_pk(kind, address))

    def merge(self, merge_id: str) -> dict[str, Any] | None:
        return self.table.get(merge_pk(merge_id), it.META)

    def markers(self, provider_ids: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.table.batch_get([(it.marker_pk(p, pid), it.META) for p, pid in set(provider_ids)])

    def commerce(self, kind: str, value: str) -> list[dict[str, Any]]:
        """The order cache's pointers of an email or phone, and the orders and shop customers they name."""
        found: list[dict[str, Any]] = []
        for platform in PLATFORMS:
            pointers = self._partition(f"COMMERCE#{platform}#{kind}#{key_part(value)}")
            found += pointers
            keys = [(f"ORDER#{platform}#{key_part(p['order_id'])}", it.META) for p in pointers if p.get("order_id")]
            keys += [(f"SHOPCUSTOMER#{platform}#{key_part(p['customer_id'])}", it.META) for p in pointers
                     if p.get("customer_id")]
            found += self.table.batch_get(keys) if keys else []
        return found

    def commerce_refs(self, platform: str, kind: str, value: str) -> list[dict[str, Any]]:
        """Every item of the order cache under one email, phone or order number: its pointers and lookup record."""
        return self._partition(f"COMMERCE#{platform}#{kind}#{key_part(value)}")

    def by_keys(self, keys: Sequence[Key]) -> list[dict[str, Any]]:
        return self.table.batch_get(list(dict.fromkeys(keys))) if keys else []

    def privacy_requests(self) -> list[dict[str, Any]]:
        return self._partition("PRIVACY")

    def unsupported(self, days: int) -> list[dict[str, Any]]:
        """The records of webhooks that could not be stored, of the last ``days`` days (one partition a day;
        older ones have expired)."""
        today = clock.now().date()
        return [row for back in range(days + 1)
                for row in self._partition(it.unsupported_pk((today - timedelta(days=back)).isoformat()))]

    # -- the exports' archives
    def record_export(self, customer_ids: Sequence[str], job_id: str, bucket: str, key: str,
                      ttl: int) -> list[dict[str, Any]]:
        """An export's archive named under each customer it holds, before it is written (``ttl``: after the export
        bucket's lifecycle deleted it); the items written."""
        rows = [{"PK": it.customer_pk(c), "SK": export_sk(job_id), "type": "export", "job_id": job_id,
                 "bucket": bucket, "key": key, "customer_ids": list(customer_ids), "ttl": ttl}
                for c in dict.fromkeys(customer_ids)]
        self.table.batch_put(rows)
        return rows

    def exports(self, customer_id: str) -> list[dict[str, Any]]:
        """The archives of exports holding the customer (consistent: one written a moment ago is found)."""
        return self._partition(it.customer_pk(customer_id), "EXPORT#")

    # -- erasing
    def timeline(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's timeline entries (merges, unmerges, links): one Query of their partition's ``EVENT#``."""
        return self._partition(it.customer_pk(customer_id), "EVENT#")

    def forget_other(self, key: Key) -> None:
        """A timeline entry about a customer erased since: its reason (an agent's words about them) blanked and
        ``other_erased`` set; its ids, who and when stay. One UpdateItem; an entry gone meanwhile is left alone."""
        with contextlib.suppress(ConditionFailed):
            self.table.update(key[0], key[1], Update().set("event.reason", "").set("event.other_erased", True)
                              .when("attribute_exists(PK)"))

    def seen(self, customer_id: str) -> list[dict[str, Any]]:
        """The addresses seen in the customer's messages or orders (their partition's ``SEEN#``)."""
        return self._partition(it.customer_pk(customer_id), "SEEN#")

    def customer_name(self, customer_id: str) -> str | None:
        """The customer's name on their record (None: none, or no such customer)."""
        return (self.table.get(it.customer_pk(customer_id), it.META) or {}).get("name")

    def forget_on_conversation(self, conversation_id: str, routes: dict[str, str], channel: str | None,
                               preview: str | None, name: str | None) -> None:
        """Another customer's conversation loses what was an erased customer's: the routes of their addresses
        (``routes``: channel and the address it answers, each removed while it still answers that address), the
        reply channel moved to ``channel``, the preview of a message of theirs (``preview``, removed while it reads
        so) and their name (``name``, likewise). One UpdateItem each; what changed meanwhile, or a conversation gone,
        is left alone."""
        pk = it.conv_pk(conversation_id)
        for route_channel, to in routes.items():
            update = Update().remove(f"routes.{route_channel}").when("attribute_exists(PK)") \
                .when(f"#routes.#{route_channel}.#to = :to", to=to)
            if channel:
                update.set("channel", channel)
            with contextlib.suppress(ConditionFailed):
                self.table.update(pk, it.META, update)
        if preview:
            with contextlib.suppress(ConditionFailed):
                self.table.update(pk, it.META, Update().remove("last_message_preview").when("attribute_exists(PK)")
                                  .when("last_message_preview = :was", was=preview))
        if name:
            with contextlib.suppress(ConditionFailed):
                self.table.update(pk, it.META, Update().remove("customer.name").when("attribute_exists(PK)")
                                  .when("#customer.#name = :was", was=name))

    def reply_keys(self, conversation_ids: Iterable[str]) -> list[Key]:
        """The reply keys (``REPLYKEY#<conversation>`` / ``<caller>#<key>``: an Idempotency-Key's item, a digest of the
        reply's body) of these conversations, every caller's: one Query of each conversation's partition."""
        return [(row["PK"], row["SK"]) for conversation_id in dict.fromkeys(conversation_ids)
                for row in self._partition(it.reply_key_pk(conversation_id))]

    def delete(self, keys: Iterable[Key]) -> int:
        unique = list(dict.fromkeys(keys))
        self.table.batch_delete(unique)
        return len(unique)

    def delete_read(self, keys: Iterable[Key]) -> list[dict[str, Any]]:
        """Each item deleted alone (DeleteItem), and read as it went (``ALL_OLD``): what was written to it since the
        read that found it is known. Those gone already are not in the list."""
        return [old for pk, sk in dict.fromkeys(keys) if (old := self.table.delete(pk, sk, return_old=True))]

    def put(self, items: Iterable[dict[str, Any]]) -> None:
        self.table.batch_put(items)

    def hold(self, keys: Iterable[Key], job_id: str) -> None:
        """The customer's erase runs: each of these items (their identities and conversations) says so (``erasing``:
        the job), and no message of theirs is stored through it from now on (dal/erased.py). A reply not sent yet
        leaves the Due index too (``Conversations._unqueued``): the sweep does not queue it again, and one an erase
        that fails for good lets go stays for a person to send again. One UpdateItem each; one gone meanwhile is left
        alone (nothing is created)."""
        for pk, sk in dict.fromkeys(keys):
            update = Update().set(ERASING, job_id).when("attribute_exists(PK)")
            if sk.startswith("MSG#"):
                update.remove("DuePK").remove("DueSK")
            with contextlib.suppress(ConditionFailed):
                self.table.update(pk, sk, update)

    def release(self, keys: Iterable[Key], job_id: str) -> None:
        """An erase that stopped for good (failed) holds these items no more: the customer's messages are stored
        again. What another erase holds is left to it."""
        for pk, sk in dict.fromkeys(keys):
            with contextlib.suppress(ConditionFailed):
                self.table.update(pk, sk, Update().remove(ERASING).when(f"{ERASING} = :job", job=job_id))

    def rewrite_requests(self, requests: Iterable[dict[str, Any]]) -> None:
        """Privacy requests given a new ``body`` (stripped by an erase), each an UpdateItem of the body alone: what
        became of the request's other jobs, written meanwhile, stays (nothing for one gone)."""
        for request in requests:
            with contextlib.suppress(ConditionFailed):
                self.table.update(request["PK"], request["SK"],
                                  Update().set("body", request["body"]).when("attribute_exists(PK)"))

    def record_erased(self, customer_id: str, conversation_ids: list[str], job_id: str, ttl: int | None,
                      customer_ids: Sequence[str] = ()) -> None:
        """The deletion list (``ERASED``): ids only, for stores that cannot delete in place (the event lake
        applies it to every query, or rewrites its files, until its rows have expired). And, under each customer
        erased (``customer_ids``: they and those merged into them), which erase it was and when
        (``ERASEDCUSTOMER#<id>``, ids only, kept as long): a second erase of them answers with it."""
        at = clock.iso(clock.now())
        self.table.put({"PK": "ERASED", "SK": f"{at}#{customer_id}", "type": "erased",
                        "customer_id": customer_id, "conversation_ids": conversation_ids or None, "job_id": job_id,
                        "merged_ids": [c for c in dict.fromkeys(customer_ids) if c != customer_id] or None,
                        "ttl": ttl})
        self.table.batch_put([{"PK": erased_customer_pk(c), "SK": it.META, "type": "erased_customer", "job_id": job_id,
                               "erased_at": at, **({"with": customer_id} if c != customer_id else {}), "ttl": ttl}
                              for c in dict.fromkeys([customer_id, *customer_ids])])

    def erased(self) -> list[dict[str, Any]]:
        """Every deletion list entry, newest first (#169: ``scripts/backfill.py erased`` writes the lake's copy)."""
        return self.table.query_all(index=None, key_condition="PK = :pk", names={}, values={":pk": "ERASED"},
                                    forward=False)


class PrivacyJobStore:
    def __init__(self, table: Table):
        self.table = table

    def create(self, job: dict[str, Any]) -> None:
        self.table.put({"PK": job_pk(job["id"]), "SK": it.META, "type": "privacy_job", **job,
                        "ttl": int(clock.now().timestamp()) + JOB_TTL_SECONDS}, condition="attribute_not_exists(PK)")

    def delete(self, job_id: str) -> None:
        """A job that was never started (its erase found the customer held by another)."""
        self.table.delete(job_pk(job_id), it.META)

    def get(self, job_id: str) -> dict[str, Any] | None:
        item = self.table.get(job_pk(job_id), it.META)
        return {k: v for k, v in item.items() if k not in ("PK", "SK", "type", "ttl")} if item else None

    def progress(self, job_id: str, **fields: Any) -> None:
        """A running job's state between its invocations (a retention job's position and counts so far)."""
        update = Update().when("attribute_exists(PK)")
        for name, value in fields.items():
            update.set(name, value)
        self.table.update(job_pk(job_id), it.META, update)

    def look_done(self, job_id: str, look: dict[str, Any], **fields: Any) -> bool:
        """An erase's last look is done (``last_look``, with ``fields``), unless an earlier run of it was: a look
        delivered again keeps the first one's result. False when it was done already: nothing written."""
        update = Update().when("attribute_exists(PK) AND (attribute_not_exists(last_look) OR "
                               "last_look.#status <> :done)", done="done").set("last_look", look)
        for name, value in fields.items():
            update.set(name, value)
        try:
            self.table.update(job_pk(job_id), it.META, update)
        except ConditionFailed:
            return False
        return True

    def mark_request(self, key: Sequence[str], status: str, job_id: str | None = None) -> None:
        """What became of a shop platform's privacy request: with ``job_id``, that job's ``status`` on the request's
        entry of its customer, and the request's own status from all of them (``request_status``); without, the
        request's status (``nothing_held``). A request whose work is over keeps no identifier in clear
        (``stripped_body``)."""
        if job_id is None:
            item = self.table.get(key[0], key[1])
            if item is None:
                return
            update = Update().when("attribute_exists(PK)").set("status", status)
            if status in STRIPPED_STATUSES:
                update.set("body", stripped_body(str(item.get("body") or "")))
            self.table.update(key[0], key[1], update)
            return
        job = self.get(job_id)
        if job is None or not job.get("customer_id"):
            return
        self._request_entries(key, {str(job["customer_id"]): {"job_id": job_id, "status": status}}, first=job_id)

    def request_customers(self, key: Sequence[str], customer_ids: Sequence[str], status: str = "open") -> None:
        """Customers of ours a request names, before any of their jobs starts (``open``), or one found gone when its
        job was to start (``nothing_held``): the request is done only when each of them is."""
        self._request_entries(key, {c: {"job_id": None, "status": status} for c in customer_ids})

    def request_jobs(self, key: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The request's ``jobs`` as stored (customer id: job_id, status); {} for a request none was written on."""
        item = self.table.get(key[0], key[1])
        return {str(c): dict(e) for c, e in dict((item or {}).get("jobs") or {}).items()}

    def request_job(self, key: Sequence[str], job_id: str, status: str) -> None:
        """A request answered by one job about no customer (a ``shop/redact``'s): the job and its status."""
        self.table.update(key[0], key[1], Update().when("attribute_exists(PK)").set("job_id", job_id)
                          .set("status", status))

    def _request_entries(self, key: Sequence[str], entries: dict[str, dict[str, Any]], *, first: str | None = None,
                         attempts: int = 8) -> None:
        """The request's ``jobs`` (customer id: job and status) with ``entries`` written over theirs, and its status
        from them, written over the version read (jobs of several customers end at the same time)."""
        for _ in range(attempts):
            item = self.table.get(key[0], key[1])
            if item is None:
                return
            jobs = {**dict(item.get("jobs") or {}), **{c: {k: v for k, v in e.items() if v is not None}
                                                        for c, e in entries.items()}}
            status = request_status([RequestJob(customer_id=c, **e) for c, e in jobs.items()])
            update = versioned(Update().set("jobs", jobs).set("status", status), int(item.get("version") or 0))
            if status in STRIPPED_STATUSES:         # every export done, or nobody left: the addresses go
                update.set("body", stripped_body(str(item.get("body") or "")))
            if first and not item.get("job_id"):
                update.set("job_id", first)
            try:
                self.table.update(key[0], key[1], update)
                return
            except ConditionFailed:
                continue
        raise Conflict(f"privacy request {key[1]} changed {attempts} times while its jobs were written")

    def archive_deleted(self, job_id: str, why: str) -> None:
        """An export's archive was deleted (``why``: ``customer_erased``): the job hands out no link from now on
        (nothing for a job gone, its 30 days over)."""
        try:
            self.table.update(job_pk(job_id), it.META,
                              Update().set("archive_deleted", why).when("attribute_exists(PK)"))
        except ConditionFailed:
            return

    def claim_erase(self, customer_id: str, job_id: str, *, over: str | None = None, force: bool = False) -> bool:
        """An erase starts: the customer's record says so (``erasing``: the job) from now until the erase removes it,
        unless another erase holds it (``over``: the one it may take over, gone or failed; ``force``: whatever
        holds it). False when the record is not there, is merged into another, or another erase holds it."""
        update = Update().set("erasing", job_id).when("attribute_exists(PK) AND attribute_not_exists(merged_into)")
        if over:
            update.when("attribute_not_exists(erasing) OR erasing = :over", over=over)
        elif not force:
            update.when("attribute_not_exists(erasing)")
        try:
            self.table.update(it.customer_pk(customer_id), it.META, update)
        except ConditionFailed:
            return False
        return True

    def erase_of(self, customer_id: str) -> tuple[str | None, dict[str, Any] | None]:
        """The erase holding the customer's record (its job id, None: none), and the erase that removed them
        (``ERASEDCUSTOMER#``: its ``job_id``, ``erased_at`` and ``with``, the customer it was asked for when they
        were merged into them; None: none, or kept no longer)."""
        found = {row["PK"]: row for row in self.table.batch_get([(it.customer_pk(customer_id), it.META),
                                                                 (erased_customer_pk(customer_id), it.META)])}
        record = found.get(it.customer_pk(customer_id)) or {}
        erased = found.get(erased_customer_pk(customer_id))
        return record.get("erasing"), ({k: erased[k] for k in ("job_id", "erased_at", "with") if erased.get(k)}
                                       if erased else None)

    def merged_into(self, customer_id: str) -> str | None:
        """The customer the customer was merged into (None: none, or no such customer)."""
        return (self.table.get(it.customer_pk(customer_id), it.META) or {}).get("merged_into")

    def not_erasing(self, customer_id: str, job_id: str) -> None:
        """An erase that stopped without removing the customer (failed) holds their record no longer."""
        try:
            self.table.update(it.customer_pk(customer_id), it.META,
                              Update().remove("erasing").when("erasing = :job", job=job_id))
        except ConditionFailed:
            return

    def erasing(self, customer_id: str, job_id: str) -> None:
        """An erase of the customer begins: their record says so (``erasing``) until the erase removes it, so an
        export finishing meanwhile knows its archive must not stay (nothing for a customer who is gone)."""
        try:
            self.table.update(it.customer_pk(customer_id), it.META,
                              Update().set("erasing", job_id).when("attribute_exists(PK)"))
        except ConditionFailed:
            return

    def erased(self, customer_ids: Sequence[str]) -> bool:
        """Whether one of these customers is gone (erased) or being erased: one consistent BatchGetItem, and one of the
        jobs holding them (a hold whose job reads failed counts no more: ``dal.erased.holds``)."""
        wanted = list(dict.fromkeys(customer_ids))
        found = self.table.batch_get([(it.customer_pk(c), it.META) for c in wanted])
        held = [str(row["erasing"]) for row in found if row.get("erasing")]
        return len(found) < len(wanted) or bool(held and holds(self.table, held))

    def finish(self, job_id: str, status: str, **fields: Any) -> None:
        """The job's end (a finished job has no ``gives_up_at``: it stopped, one way or the other)."""
        item = {k: v for k, v in (self.table.get(job_pk(job_id), it.META) or {}).items() if k != "gives_up_at"}
        self.table.put({**item, **fields, "status": status, "finished_at": clock.iso(clock.now())})


class FilesNotDeleted(RuntimeError):
    """S3 kept some of the objects a DeleteObjects named (its per-key ``Errors``): how many, and S3's codes (never the
    keys, which may name the customer's files)."""

    def __init__(self, bucket: str, failed: list[tuple[str, str]]):
        self.bucket, self.failed = bucket, failed
        codes = sorted({code for _, code in failed})
        super().__init__(f"{len(failed)} object(s) of {bucket} not deleted: {', '.join(codes)}")


class Files:
    """S3 objects of a customer: attachments, uploads and raw mail (read for an export, deleted for an erase)."""

    def get(self, bucket: str, key: str) -> bytes | None:
        try:
            return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except client("s3").exceptions.NoSuchKey:
            return None

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Every key under a prefix (ListObjectsV2, page by page)."""
        pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents") or []]

    def delete(self, bucket: str, keys: Iterable[str]) -> None:
        """The objects gone, a thousand a request (DeleteObjects). S3 answers such a request 200 and names each key it
        could not delete in ``Errors`` (access denied, a slow down, an internal error): those raise ``FilesNotDeleted``
        once every chunk was tried, so the job that asked fails and runs again. A key already gone is no error: S3
        reports it deleted."""
        keys = list(dict.fromkeys(keys))
        failed: list[tuple[str, str]] = []
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start:start + 1000]]
            answer = client("s3").delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            failed += [(str(e.get("Key")), str(e.get("Code") or "unknown")) for e in answer.get("Errors") or []]
        if failed:
            raise FilesNotDeleted(bucket, failed)

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                                ServerSideEncryption="aws:kms")

    def presign(self, bucket: str, key: str, seconds: int, filename: str) -> str:
        return client("s3").generate_presigned_url(
            "get_object", ExpiresIn=seconds,
            Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'})
