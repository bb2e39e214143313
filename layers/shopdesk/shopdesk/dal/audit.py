"""The audit trail: append-only records, found by day, by actor and by customer (or several: a survivor of merges
and the customers merged into it).

A record is written once (``attribute_not_exists(PK)``) and never updated: no code path updates or deletes
an ``AUDIT#`` item, and every function's IAM role denies it (template.yaml's AuditTrailIsAppendOnlyPolicy; a function
that writes no record may not put one either); DynamoDB's TTL removes it
after the audit retention. It reuses two of the table's indexes instead of adding its own (CloudFormation adds
one index per stack update): ``Access`` under ``AUDITBY#<actor>`` and ``ByCustomer`` under
``AUDITCUST#<customer>``, both sorted by ``<at>#<id>``; the base table keeps a partition per day.

Refused attempts (``outcome: denied``) are counted per actor and minute in a small item of their own
(``DENIALS#<actor>``, not an ``AUDIT#`` item: it is changed, and expires after a day), which bounds how many of one
actor's refusals a minute become records (shopdesk.privacy.audit).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shopdesk.dal.table import Table, Update, decode_cursor, encode_cursor

DAY_PREFIX, ACTOR_PREFIX, CUSTOMER_PREFIX = "AUDIT#", "AUDITBY#", "AUDITCUST#"
DENIALS_PREFIX = "DENIALS#"
DENIALS_KEPT_SECONDS = 86400        # a minute's count is needed for that minute only


def audit_key(at: str, record_id: str) -> str:
    return f"{at}#{record_id}"


class AuditLog:
    def __init__(self, table: Table):
        self.table = table

    def append(self, record: dict[str, Any], ttl: int | None) -> None:
        """Write ``record`` (its ``id``, ``at``, ``actor``, optional ``customer_id``) once."""
        sort = audit_key(record["at"], record["id"])
        item: dict[str, Any] = {"PK": DAY_PREFIX + record["at"][:10], "SK": sort, "type": "audit",
                                "AccessPK": ACTOR_PREFIX + record["actor"], "InboxSK": sort,
                                "record": record, "ttl": ttl}
        if record.get("customer_id"):
            item |= {"CustomerPK": CUSTOMER_PREFIX + record["customer_id"], "CustomerSK": sort}
        self.table.put(item, condition="attribute_not_exists(PK)")

    def count_denied(self, actor: str, minute: str, now: int, *, repeat: bool = False) -> int:
        """Count one more refused attempt of ``actor`` in ``minute`` (``2026-05-01T12:34``): how many there are now,
        this one included (one UpdateItem ``ADD``, so attempts at once each get their own number). ``repeat``: a
        read of what does not exist made again within its window, counted apart (``repeats``), not in ``count``."""
        field = "repeats" if repeat else "count"
        item = self.table.update(DENIALS_PREFIX + actor, minute,
                                 Update().add(field, 1).set("type", "denials").set("ttl", now + DENIALS_KEPT_SECONDS),
                                 return_new=True)
        return int((item or {}).get(field, 1))

    def _page(self, index: str | None, pk_name: str, sk_name: str, pk: str, start: str, end: str, limit: int,
              cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        condition = f"{pk_name} = :pk AND {sk_name} BETWEEN :a AND :b"
        values = {":pk": pk, ":a": start, ":b": end + "~"}
        page = (self.table.query_items(index=index, key_condition=condition, values=values, limit=limit,
                                       cursor=cursor, forward=False) if index else
                self.table.query(index=None, key_condition=condition, names={}, values=values, limit=limit,
                                 cursor=cursor, forward=False))
        return [item["record"] for item in page.items], page.cursor

    def by_actor(self, actor: str, start: str, end: str, limit: int, cursor: str | None
                 ) -> tuple[list[dict[str, Any]], str | None]:
        return self._page("Access", "AccessPK", "InboxSK", ACTOR_PREFIX + actor, start, end, limit, cursor)

    def by_customer(self, customer_id: str, start: str, end: str, limit: int, cursor: str | None
                    ) -> tuple[list[dict[str, Any]], str | None]:
        return self._page("ByCustomer", "CustomerPK", "CustomerSK", CUSTOMER_PREFIX + customer_id, start, end,
                          limit, cursor)

    def by_customers(self, customer_ids: list[str], start: str, end: str, limit: int, cursor: str | None
                     ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, the records of several customers as one list (a survivor and those merged into it): each
        one's index read down from where the page before stopped, the reads merged. The cursor is the last record's
        key (``below``): records are keyed ``<at>#<id>``, so every one is listed once, at its place."""
        position = decode_cursor(cursor) or {}
        below = position.get("below")
        # a cursor is the caller's text: one standing after the search's end would list records after it, so it is
        # refused as any cursor that is not ours; one before its start has nothing left (and DynamoDB refuses a
        # BETWEEN upside down)
        if below is not None and not (isinstance(below, str) and below <= end + "~"):
            raise ValueError("cursor is not valid")
        if below is not None and below < start:
            return [], None
        top = below or end + "~"
        found: list[dict[str, Any]] = []
        more = False
        for customer_id in dict.fromkeys(customer_ids):
            page = self.table.query_items(index="ByCustomer", values={
                ":pk": CUSTOMER_PREFIX + customer_id, ":a": start, ":b": top},
                key_condition="CustomerPK = :pk AND CustomerSK BETWEEN :a AND :b", limit=limit + 1, forward=False)
            found += [item for item in page.items if item["CustomerSK"] != below]
            more = more or page.cursor is not None
        found.sort(key=lambda item: item["CustomerSK"], reverse=True)
        more = more or len(found) > limit
        found = found[:limit]
        return ([item["record"] for item in found],
                encode_cursor({"below": found[-1]["CustomerSK"]}) if more and found else None)

    def by_time(self, start: str, end: str, limit: int, cursor: str | None
                ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, one day's partition after another (the cursor names the day and the position)."""
        position = decode_cursor(cursor) or {}
        inner = position.get("key")
        if not isinstance(position.get("day", ""), str) or not isinstance(inner, dict | None):
            raise ValueError("cursor is not valid")
        day = date.fromisoformat(position.get("day") or end[:10])      # ValueError: not a cursor of ours
        first = date.fromisoformat(start[:10])
        if day > date.fromisoformat(end[:10]):     # a day after the search's: every day to it would be read, one by one
            raise ValueError("cursor is not valid")
        items: list[dict[str, Any]] = []
        while day >= first and len(items) < limit:
            page, more = self._page(None, "PK", "SK", DAY_PREFIX + day.isoformat(), start, end, limit - len(items),
                                    encode_cursor(inner) if inner else None)
            items.extend(page)
            if more:
                return items, encode_cursor({"day": day.isoformat(), "key": decode_cursor(more)})
            day, inner = day - timedelta(days=1), None
        return items, encode_cursor({"day": day.isoformat()}) if day >= first else None
