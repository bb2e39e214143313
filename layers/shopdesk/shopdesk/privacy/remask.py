"""The masking in force applied to what the commerce cache stored before it (#14): ``python -m scripts.backfill
masking``, run on demand after a deploy.

The cache masks an order or a shop customer as it writes it (``commerce/masking.py``), so orders and customer records
cached by an earlier version, or before a shop pattern was added, keep their texts as the platform sent them until a
newer copy replaces them or they expire. This walks the table page by page (a Scan: the cache's items are on no
index; ``PAGE`` items read a request, never the table at once), masks each order and shop customer with the write
path's own functions (``RecordMasking``: ``mask_name`` and ``mask``, the shop's patterns as saved) and writes the body
again only where that changes it. An item already masked is not written: a second run writes nothing, and a run
stopped anywhere can be run again. A write is conditioned on the item as read; when a webhook wrote it meanwhile,
it is read again and masked again (``ATTEMPTS``), since a merge may have kept what it held.
"""

from __future__ import annotations

from shopdesk.commerce.masking import RecordMasking
from shopdesk.commerce.models import Order, ShopCustomer
from shopdesk.dal.commerce import CachedRecord, CachedRecords
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.table import ConditionFailed, Table
from shopdesk.privacy.settings import PrivacyPolicies

PAGE = 200
ATTEMPTS = 4
COUNTS = ("orders", "shop_customers", "orders_masked", "shop_customers_masked", "changed_meanwhile")


def remask(table: Table, *, masking: RecordMasking | None = None, dry_run: bool = False) -> dict[str, int]:
    """Counts of the orders and shop customers read and of those written (or, ``dry_run``, that would be) masked;
    ``changed_meanwhile``: written by someone else at every attempt (their write masked them)."""
    masking = masking or RecordMasking(PrivacyPolicies(ConfigStore(table)))
    records = CachedRecords(table)
    done = dict.fromkeys(COUNTS, 0)
    cursor: str | None = None
    while True:
        page, cursor = records.page(cursor, PAGE)
        for cached in page:
            plural = "orders" if cached.kind == "order" else "shop_customers"
            done[plural] += 1
            if _mask(records, cached, masking, dry_run=dry_run, done=done):
                done[f"{plural}_masked"] += 1
        if not cursor:
            return done


def _masked(cached: CachedRecord, masking: RecordMasking) -> Order | ShopCustomer:
    record = cached.record
    return masking.order(record) if isinstance(record, Order) else masking.customer(record)


def _mask(records: CachedRecords, cached: CachedRecord | None, masking: RecordMasking, *, dry_run: bool,
          done: dict[str, int]) -> bool:
    """Whether the record was (would be) written masked; nothing is written when masking changes nothing."""
    for _ in range(ATTEMPTS):
        if cached is None:
            return False                # expired or erased meanwhile
        masked = _masked(cached, masking)
        if masked == cached.record:
            return False
        if dry_run:
            return True
        try:
            records.replace(cached, masked)
        except ConditionFailed:
            cached = records.get(cached.pk)
            continue
        return True
    done["changed_meanwhile"] += 1
    return False
