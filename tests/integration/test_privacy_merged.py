"""Customers merged into one another and the privacy routes: a survivor's audit filter holds the records of the
customers merged into it."""

from __future__ import annotations

from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_privacy import admin

ONE, TWO = "+31655507771", "+31655507772"


def test_the_audit_filter_by_a_survivor_holds_the_records_of_customers_merged_into_it(desk):
    # Given a record filed under a customer (an admin read them), who is then merged into another
    keep_conv = customer_writes(desk, ONE, "Where is my parcel?", "SMmgf1")
    gone_conv = customer_writes(desk, TWO, "Gone words", "SMmgf2")
    keep, gone = desk.item(f"CONV#{keep_conv}")["customer"]["id"], desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    assert agent(desk, "GET", f"/agent/customers/{gone}", "root", groups="[admins]")[0] == 200
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": gone, "reason": "x"})
    assert status == 200
    gone_records = {r["id"] for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={gone}")[1]["items"]}
    assert gone_records
    # When an admin filters the trail by the survivor
    status, page = admin(desk, "GET", "/admin/audit", query=f"customer_id={keep}")
    # Then the merged customer's records are in it too, newest first
    assert status == 200
    ids = [r["id"] for r in page["items"]]
    assert gone_records <= set(ids), page
    ats = [r["at"] for r in page["items"]]
    assert ats == sorted(ats, reverse=True)
    # and a page at a time goes through them all once
    seen, cursor = [], None
    while True:
        query = f"customer_id={keep}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, part = admin(desk, "GET", "/admin/audit", query=query)
        assert status == 200, part
        seen += [r["id"] for r in part["items"]]
        cursor = part.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(set(ids)) and len(seen) == len(set(seen))
    # and once the merge is undone, they are not
    assert agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                 {"merge_id": merge["id"], "reason": "undo"})[0] == 200
    after = {r["id"] for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={keep}&limit=500")[1]["items"]}
    assert not gone_records & after
