"""Export and erase of customers merged into one another, and an erase asked for twice: an id merged away is never
erased or exported as if it held its data (a 409 names the survivor), the merge stays undoable, a survivor's audit
filter holds the records of the customers merged into it, and a second erase points at the first."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration import test_commerce
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_privacy import _privacy_messages, admin, run_jobs, scan

ONE, TWO = "+31655507771", "+31655507772"
sandbox, shop = test_commerce.sandbox, test_commerce.shop      # the commerce sandbox and its environment (fixtures)


def _two_merged(desk: Any, tag: str) -> tuple[str, str, str, str, str]:
    """Two customers writing by SMS, the second merged into the first by an agent: (survivor, gone, the survivor's
    conversation, gone's conversation, the merge's id)."""
    keep_conv = customer_writes(desk, ONE, f"Where is my parcel {tag}?", f"SM{tag}1")
    gone_conv = customer_writes(desk, TWO, f"Gone words {tag}, I changed my address", f"SM{tag}2")
    keep, gone = desk.item(f"CONV#{keep_conv}")["customer"]["id"], desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": gone, "reason": "same"})
    assert status == 200, merge
    return keep, gone, keep_conv, gone_conv, merge["id"]


def _jobs(desk: Any) -> list[dict[str, Any]]:
    return [i for i in scan(desk) if str(i["PK"]).startswith("PRIVACYJOB#") and i["SK"] == "META"]   # (not timers)


def test_an_erase_or_export_of_a_customer_merged_away_is_refused_naming_the_survivor_and_the_merge_stays(desk):
    # Given a customer merged into another
    keep, gone, keep_conv, gone_conv, merge_id = _two_merged(desk, "mga")
    # When an admin erases, or exports, the customer merged away
    for kind in ("erase", "export"):
        status, problem = admin(desk, "POST", f"/admin/customers/{gone}/{kind}")
        # Then it is a 409 that names the survivor and the merge, and nothing is started
        assert status == 409, problem
        assert problem["code"] == "merged", problem
        assert problem["params"]["survivor_id"] == keep and problem["params"]["merge_id"] == merge_id
        assert keep in problem["detail"] and "unmerge" in problem["detail"]
    assert _jobs(desk) == []
    run_jobs(desk)
    # and their data, their record and the merge record are all there, and the merge can be undone
    assert desk.item(f"CONV#{gone_conv}") is not None and desk.item(f"CUSTOMER#{gone}") is not None
    assert desk.item(f"MERGE#{merge_id}")["status"] == "merged"
    assert desk.item("ERASED") is None and not [i for i in scan(desk) if i["PK"] == "ERASED"]
    status, undone = agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                           {"merge_id": merge_id, "reason": "not the same person"})
    assert status == 200, undone
    # and once unmerged, the erase of that customer erases theirs, and only theirs
    status, started = admin(desk, "POST", f"/admin/customers/{gone}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CONV#{gone_conv}") is None and desk.item(f"IDENTITY#phone#{TWO}") is None
    assert desk.item(f"CONV#{keep_conv}") is not None and desk.item(f"IDENTITY#phone#{ONE}") is not None


def test_a_survivor_s_erase_after_an_unmerge_leaves_the_customer_merged_apart_again(desk):
    # Given a merge an agent undid: two people again
    keep, gone, keep_conv, gone_conv, merge_id = _two_merged(desk, "mgu")
    assert agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                 {"merge_id": merge_id, "reason": "not the same person"})[0] == 200
    # When an admin erases the one who was the survivor
    status, started = admin(desk, "POST", f"/admin/customers/{keep}/erase")
    assert status == 202, started
    run_jobs(desk)
    # Then theirs is gone, and the other's conversation, identity and record stay
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CONV#{keep_conv}") is None and desk.item(f"CUSTOMER#{keep}") is None
    assert desk.item(f"CONV#{gone_conv}") is not None and desk.item(f"IDENTITY#phone#{TWO}") is not None
    assert desk.item(f"CUSTOMER#{gone}") is not None


def test_the_bulk_preview_and_erase_say_merged_into_for_an_id_merged_away_and_start_nothing_for_it(desk):
    keep, gone, _, gone_conv, _ = _two_merged(desk, "mgb")
    names = [gone, TWO]        # the id merged away, and their phone (its identity is the survivor's now)
    status, preview = admin(desk, "POST", "/admin/privacy/erasures/preview", {"customers": names})
    assert status == 200, preview
    assert [(r["outcome"], r.get("customer_id"), r.get("merged_into")) for r in preview["items"]] == [
        ("merged", gone, keep), ("found", keep, None)]
    status, started = admin(desk, "POST", "/admin/privacy/erasures", {"customers": [gone]})
    assert status == 202
    assert [(r["outcome"], r.get("merged_into"), r.get("job_id")) for r in started["items"]] == [
        ("merged", keep, None)]
    assert _jobs(desk) == []
    assert desk.item(f"CONV#{gone_conv}") is not None


def test_a_customer_being_erased_is_not_merged_and_a_job_older_than_a_merge_fails_saying_so(desk):
    keep_conv = customer_writes(desk, ONE, "Where is my parcel?", "SMmgr1")
    gone_conv = customer_writes(desk, TWO, "Gone words, I changed my address", "SMmgr2")
    keep, gone = desk.item(f"CONV#{keep_conv}")["customer"]["id"], desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # Given an erase of a customer, started and not yet run
    erase = admin(desk, "POST", f"/admin/customers/{gone}/erase")[1]["job_id"]
    # When an agent merges them into another: refused while the erase runs
    status, problem = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": gone, "reason": "x"})
    assert status == 409, problem
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase}")[1]["status"] == "done"
    assert desk.item(f"CONV#{gone_conv}") is None and desk.item(f"CONV#{keep_conv}") is not None
    # Given an export started before a merge (the merge does not wait for an export)
    other_conv = customer_writes(desk, "+31655507773", "Third words", "SMmgr3")
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    desk.drain_queue(desk.work_queue_url, "router")
    export = admin(desk, "POST", f"/admin/customers/{other}/export")[1]["job_id"]
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": other, "reason": "x"})
    assert status == 200, merge
    # When the job runs: it fails, naming the survivor, and writes no archive of a record without its data
    run_jobs(desk)
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{export}")
    assert job["status"] == "failed" and keep in job["error"] and job.get("download_url") is None, job
    assert not [i for i in scan(desk) if i.get("type") == "export"]
    assert desk.item(f"MERGE#{merge['id']}")["status"] == "merged"


def test_an_erase_job_of_a_customer_merged_away_since_fails_and_keeps_the_merge(desk):
    from shopdesk.dal.table import Update
    keep_conv = customer_writes(desk, ONE, "Where is my parcel?", "SMmgj1")
    gone_conv = customer_writes(desk, TWO, "Gone words, I changed my address", "SMmgj2")
    keep, gone = desk.item(f"CONV#{keep_conv}")["customer"]["id"], desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # Given an erase job queued, and its customer merged away before it ran (a job queued by an older version,
    # whose start left no mark on the record)
    erase = admin(desk, "POST", f"/admin/customers/{gone}/erase")[1]["job_id"]
    desk.handler("privacy").worker.store.table.update(f"CUSTOMER#{gone}", "META", Update().remove("erasing"))
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice", {"other_id": gone, "reason": "x"})
    assert status == 200, merge
    # When it runs: it fails, naming the survivor, erases nothing, and the merge can still be undone
    run_jobs(desk)
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{erase}")
    assert job["status"] == "failed" and keep in job["error"], job
    assert desk.item(f"CONV#{gone_conv}") is not None and desk.item(f"MERGE#{merge['id']}")["status"] == "merged"
    assert not [i for i in scan(desk) if i["PK"] == "ERASED"]
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={gone}")[1]["items"]
    assert "customer.erase.failed" in {r["action"] for r in trail}
    assert agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                 {"merge_id": merge["id"], "reason": "undo"})[0] == 200


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


def test_an_erase_asked_for_again_points_at_the_erase_that_runs_or_ran(desk):
    conv = customer_writes(desk, ONE, "Erase me twice", "SMtwice1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    # When an admin asks twice before the erase ran (a retried request)
    first = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    second = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    # Then both are that one erase
    assert first[0] == second[0] == 202 and first[1]["job_id"] == second[1]["job_id"], (first, second)
    assert len(_jobs(desk)) == 1
    run_jobs(desk)
    job = admin(desk, "GET", f"/admin/privacy/jobs/{first[1]['job_id']}")[1]
    assert job["status"] == "done"
    # When they ask once it ran: a 409 naming the erase and when it finished, not a 404
    status, problem = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 409 and problem["code"] == "already_erased", problem
    assert problem["params"]["job_id"] == job["job_id"] and problem["params"]["erased_at"]
    # and a bulk erase naming them says so too, with the job
    status, rows = admin(desk, "POST", "/admin/privacy/erasures", {"customers": [customer]})
    assert status == 202
    assert [(r["outcome"], r.get("job_id")) for r in rows["items"]] == [("already_erased", job["job_id"])]
    assert len(_jobs(desk)) == 1
    # and the marker holds ids only
    [marker] = [i for i in scan(desk) if i.get("type") == "erased_customer"]
    assert "Erase me" not in json.dumps(marker, default=str) and ONE not in json.dumps(marker, default=str)


def test_a_customer_merged_into_an_erased_survivor_is_already_erased_with_the_survivor_s_job(desk):
    keep, gone, _, gone_conv, _ = _two_merged(desk, "mge")
    status, started = admin(desk, "POST", f"/admin/customers/{keep}/erase")
    assert status == 202
    run_jobs(desk)
    assert desk.item(f"CONV#{gone_conv}") is None and desk.item(f"CUSTOMER#{gone}") is None
    # the lake's deletion list names both ids (events keep the id they were written with)
    listed = desk.client("s3").get_object(Bucket=desk.env["EVENTS_BUCKET"], Key=f"erased/{started['job_id']}.json")
    ids = [json.loads(line)["id"] for line in listed["Body"].read().decode().splitlines()]
    assert {keep, gone} <= set(ids), ids
    status, problem = admin(desk, "POST", f"/admin/customers/{gone}/erase")
    assert status == 409 and problem["code"] == "already_erased", problem
    assert problem["params"]["job_id"] == started["job_id"]
    # and the time it names is the erase's, said as the erase's (not as when they were merged)
    at = problem["params"]["erased_at"]
    assert problem["detail"] == (f"customer {gone} was erased on {at} with {keep}, who they had been merged into "
                                 f"(job {started['job_id']}); nothing of theirs is left to erase"), problem


def test_an_erase_that_failed_for_good_does_not_hold_the_customer(desk):
    conv = customer_writes(desk, ONE, "Erase me after a failure", "SMfail1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    first = admin(desk, "POST", f"/admin/customers/{customer}/erase")[1]["job_id"]
    desk.handler("privacy").worker.store.finish(first, "failed", dead_lettered=True, error="stopped")
    status, second = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202 and second["job_id"] != first
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{second['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CONV#{conv}") is None


def test_shopify_s_redact_of_a_merged_away_customer_s_email_erases_the_survivor_holding_it(desk, shop):
    from tests.integration.test_commerce import shopify_sample
    from tests.integration.test_email import _deliver, _eml
    # Given John, who wrote by email, merged into a customer who wrote by SMS (his email is the survivor's now)
    _deliver(desk, _eml(sender="John Doe <john@example.com>", body="Hi, John here about my order\n"), "john-m1")
    john = desk.item("IDENTITY#email#john@example.com")["customer_id"]
    keep_conv = customer_writes(desk, ONE, "Where is my parcel?", "SMshop1")
    keep = desk.item(f"CONV#{keep_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice",
                 {"other_id": john, "reason": "same"})[0] == 200
    assert desk.item("IDENTITY#email#john@example.com")["customer_id"] == keep
    # When Shopify sends customers/redact for john@example.com
    status, answer = shopify_sample(desk, shop, "customers_redact")
    assert (status, answer["status"]) == (200, "recorded"), answer
    run_jobs(desk)
    # Then the erase ran on the survivor, who holds John's email and conversations: all of it is gone
    [job] = _jobs(desk)
    assert job["customer_id"] == keep and job["status"] == "done", job
    assert desk.item("IDENTITY#email#john@example.com") is None and desk.item(f"CUSTOMER#{john}") is None
    assert desk.client("s3").list_objects_v2(Bucket=desk.env["MAIL_BUCKET"]).get("KeyCount") == 0
    assert "John here" not in json.dumps(scan(desk), default=str)


def test_a_customer_being_erased_is_neither_unmerged_nor_linked(desk):
    from shopdesk.dal.customers import Customers
    from shopdesk.dal.table import Table
    from shopdesk.errors import Conflict
    from shopdesk.logic.merge import Merger
    from shopdesk.models import Identity
    keep, gone, keep_conv, _, merge = _two_merged(desk, "mgu")
    before = {k: desk.item(f"CUSTOMER#{k}") for k in (keep, gone)}
    # Given an erase of the survivor, started and not yet run
    erase = admin(desk, "POST", f"/admin/customers/{keep}/erase")[1]["job_id"]
    # When an agent undoes the merge: refused while the erase runs
    status, problem = agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                            {"merge_id": merge, "reason": "not the same person"})
    assert status == 409, problem
    assert desk.item(f"MERGE#{merge}")["status"] == "merged"
    # and a visitor proving an address links nothing to them: neither a new address to the customer being erased
    merger = Merger(Customers(Table(desk.table_name)))
    with pytest.raises(Conflict):
        merger.link_verified(keep, Identity(kind="webchat", address="visitor-mgu"),
                             Identity(kind="email", address="new-mgu@example.com"), reason="proved it")
    # nor the visitor's chat to the customer being erased, whose phone the visitor proved
    with pytest.raises(Conflict):
        merger.link_verified(None, Identity(kind="webchat", address="visitor-mgu"),
                             Identity(kind="phone", address=ONE), reason="proved it")
    assert desk.item("IDENTITY#email#new-mgu@example.com") is None
    assert desk.item("IDENTITY#webchat#visitor-mgu") is None
    assert {k: {f: desk.item(f"CUSTOMER#{k}").get(f) for f in ("identities", "merged_into")} for k in before} == {
        k: {f: v.get(f) for f in ("identities", "merged_into")} for k, v in before.items()}
    # Then the erase runs and erases both
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase}")[1]["status"] == "done"
    assert desk.item(f"CONV#{keep_conv}") is None


def test_a_merge_s_and_an_unmerge_s_reasons_are_in_no_lake_row_and_their_rows_go_with_the_customers_erase(desk):
    from tests.integration.test_analytics import Lake
    from tests.integration.test_privacy import _lake_objects, _lake_rows
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])
    # Given two customers an agent merged, then told apart, each time writing why, naming the customer
    keep_conv = customer_writes(desk, ONE, "Where is my parcel mgr?", "SMmgr1")
    gone_conv = customer_writes(desk, TWO, "Gone words mgr", "SMmgr2")
    keep, gone = desk.item(f"CONV#{keep_conv}")["customer"]["id"], desk.item(f"CONV#{gone_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{keep}/merge", "alice",
                          {"other_id": gone, "reason": f"same person Wilhelmina Quargenstein, {TWO}"})
    assert status == 200, merge
    assert agent(desk, "POST", f"/agent/customers/{keep}/unmerge", "alice",
                 {"merge_id": merge["id"], "reason": "not Wilhelmina Quargenstein after all"})[0] == 200
    lake.pump()
    # Then the lake has a row of each customer's merge and unmerge, with both ids and no words of the agent's
    rows = [r for r in _lake_rows(desk, erased_applied=False)
            if r["type"] in ("customer_merged", "customer_unmerged")]
    facts = sorted((r["type"], r["customer_id"], json.loads(r["detail"])["other_id"], r["reason"]) for r in rows)
    assert facts == sorted([("customer_merged", keep, gone, None), ("customer_merged", gone, keep, None),
                            ("customer_unmerged", keep, gone, None), ("customer_unmerged", gone, keep, None)]), facts
    assert {json.loads(r["detail"])["merge_id"] for r in rows} == {merge["id"]}
    assert "Quargenstein" not in _lake_objects(desk)
    # When the customer merged away and given back is erased
    status, started = admin(desk, "POST", f"/admin/customers/{gone}/erase")
    assert status == 202, started
    run_jobs(desk)
    lake.pump()
    # Then no row a report reads names them (the deletion list hides their merge's and unmerge's rows), the
    # survivor's keep their ids only, and no object of the lake holds the words or the number
    kept = [r for r in _lake_rows(desk, erased_applied=True) if r["type"] in ("customer_merged", "customer_unmerged")]
    assert sorted((r["type"], r["customer_id"]) for r in kept) == [("customer_merged", keep),
                                                                   ("customer_unmerged", keep)]
    objects = _lake_objects(desk)
    assert "Quargenstein" not in objects and TWO not in objects and TWO.lstrip("+") not in objects


TRACES = ("Quargenstein", "Wilhelmina", "14155558824", "wq.mgq@example.com")


def _merged_apart_with_reasons(desk: Any, erased_was: str) -> tuple[str, str, str, str, str]:
    """Wilhelmina, who wrote by email, and a customer who wrote by SMS, merged by an agent (her into them,
    ``erased_was`` "merged", or them into her) and told apart again, each time writing why, naming her by name, number
    and address: (her id, the other's, the other's conversation, the survivor, the merge's id)."""
    from tests.integration.test_email import _deliver, _eml
    _deliver(desk, _eml(sender="Wilhelmina Quargenstein <wq.mgq@example.com>", body="Hi, where is my order?\n",
                        message_id="<mgq1@example.com>"), "mgq-1")
    erased = desk.item("IDENTITY#email#wq.mgq@example.com")["customer_id"]
    keep_conv = customer_writes(desk, ONE, "Where is my parcel mgq?", "SMmgq1")
    kept = desk.item(f"CONV#{keep_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    survivor, merged = (kept, erased) if erased_was == "merged" else (erased, kept)
    words = "same person Wilhelmina Quargenstein, +14155558824, wq.mgq@example.com"
    status, merge = agent(desk, "POST", f"/agent/customers/{survivor}/merge", "alice",
                          {"other_id": merged, "reason": words})
    assert status == 200, merge
    # and told apart again
    status, undone = agent(desk, "POST", f"/agent/customers/{survivor}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not Wilhelmina Quargenstein (+14155558824)"})
    assert status == 200, undone
    assert "Quargenstein" in json.dumps([i for i in scan(desk) if i["PK"] == f"CUSTOMER#{kept}"], default=str)
    return erased, kept, keep_conv, survivor, merge["id"]


def _nothing_of_her(desk: Any) -> None:
    for trace in TRACES:
        holding = [(i["PK"], i["SK"]) for i in scan(desk) if trace in json.dumps(i, default=str)]
        assert holding == [], (trace, holding)


@pytest.mark.parametrize("erased_was", ["merged", "survivor"])
def test_an_erase_leaves_nothing_of_the_customer_on_the_timeline_of_a_customer_once_merged_with_them(desk, erased_was):
    # Given two customers merged and told apart again, the agent naming her in the merge's and unmerge's reasons
    erased, kept, keep_conv, survivor, merge_id = _merged_apart_with_reasons(desk, erased_was)
    merged = kept if survivor == erased else erased
    # When an admin erases her
    status, started = admin(desk, "POST", f"/admin/customers/{erased}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then no item of the table, audit records included, holds her name, number or address
    _nothing_of_her(desk)
    # and the other customer's timeline still says a merge and an unmerge with her id, by whom and when, and that she
    # was erased; their merge's audit records stay (ids only)
    status, profile = agent(desk, "GET", f"/agent/customers/{kept}", "alice")
    assert status == 200, profile
    side = "merged" if kept == survivor else "merged_into"
    assert sorted((e["kind"], e["other_id"], e["merge_id"], e["by"], e["reason"], e.get("other_erased"))
                  for e in profile["timeline"]) == sorted([
        (side, erased, merge_id, "alice", "", True), ("unmerged", erased, merge_id, "alice", "", True)])
    records = admin(desk, "GET", "/admin/audit", query=f"customer_id={kept}")[1]["items"]
    assert [(r["details"]["merge_id"], r["details"]["merged_id"]) for r in records
            if r["action"].endswith("/unmerge")] == [(merge_id, merged)]
    assert desk.item(f"CUSTOMER#{kept}") is not None and desk.item(f"CONV#{keep_conv}") is not None


def test_an_erase_retried_after_it_deleted_the_merge_record_has_left_nothing_of_her_on_the_other_timeline(
        desk, monkeypatch):
    from shopdesk.dal.privacy import SubjectData
    erased, kept, _, _, merge_id = _merged_apart_with_reasons(desk, "merged")
    status, started = admin(desk, "POST", f"/admin/customers/{erased}/erase")
    assert status == 202, started
    # Given an erase whose first attempt fails once it deleted her items, the merge record and her timeline among them
    delete = SubjectData.delete

    def deleted_then_failed(self: SubjectData, keys: Any) -> int:
        delete(self, keys)
        raise RuntimeError("the table failed")
    monkeypatch.setattr(SubjectData, "delete", deleted_then_failed)
    assert len(desk.invoke("privacy", _privacy_messages(desk, 1))["batchItemFailures"]) == 1
    assert desk.item(f"MERGE#{merge_id}") is None
    # When it runs again
    monkeypatch.undo()
    assert desk.invoke("privacy", _privacy_messages(desk, 2))["batchItemFailures"] == []
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then the other customer's timeline holds nothing of her all the same (the first attempt forgot her there first)
    _nothing_of_her(desk)
    assert {(e["reason"], e.get("other_erased")) for e in agent(desk, "GET", f"/agent/customers/{kept}", "alice")[1][
        "timeline"]} == {("", True)}


def _she_wrote_while_merged(desk: Any) -> tuple[str, str, str, str]:
    """Wilhelmina (by email) merged into a customer writing by SMS, their open conversations made one; she writes
    into it while merged (her name, number and address in her words), and an agent takes them apart again: (her id,
    the other's, the other's conversation, the merge's id)."""
    from tests.integration.test_email import _deliver, _eml
    _deliver(desk, _eml(sender="Wilhelmina Quargenstein <wq.mgq@example.com>", body="Hi, where is my order?\n",
                        message_id="<mgw1@example.com>"), "mgw-1")
    erased = desk.item("IDENTITY#email#wq.mgq@example.com")["customer_id"]
    keep_conv = customer_writes(desk, ONE, "Where is my parcel mgw?", "SMmgw1")
    kept = desk.item(f"CONV#{keep_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{kept}/merge", "alice", {"other_id": erased, "reason": "x"})
    assert status == 200, merge
    _deliver(desk, _eml(sender="Wilhelmina Quargenstein <wq.mgq@example.com>", subject="Re: my order",
                        body="Wilhelmina Quargenstein here, call me on +14155558824 please\n",
                        message_id="<mgw2@example.com>"), "mgw-2")
    assert desk.item("IDENTITY#email#wq.mgq@example.com")["open_conversation_id"] == keep_conv
    desk.drain_queue(desk.work_queue_url, "router")
    status, undone = agent(desk, "POST", f"/agent/customers/{kept}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not the same"})
    assert status == 200, undone
    return erased, kept, keep_conv, merge["id"]


def test_an_unmerge_gives_the_reply_route_of_the_customer_merged_away_back_and_their_name_goes(desk):
    # Given a customer merged into another and writing by email into their conversation, the merge then undone
    _, _, keep_conv, _ = _she_wrote_while_merged(desk)
    # Then the other's conversation answers them no more at her address, and goes on SMS, where they wrote
    conv = desk.item(f"CONV#{keep_conv}")
    assert "email" not in (conv.get("routes") or {}), conv.get("routes")
    assert conv["channel"] == "sms" and conv["routes"]["sms"]["to"] == ONE
    assert "Quargenstein" not in json.dumps(conv.get("customer"), default=str)


@pytest.mark.parametrize("unmerged", ["now", "before_routes_went_back"])
def test_an_erase_leaves_nothing_she_wrote_into_the_conversation_of_a_customer_once_merged_with_her(
        desk, monkeypatch, unmerged):
    from shopdesk.logic.merge import Merger
    if unmerged != "now":      # an unmerge that left her route on their conversation (as it did before)
        monkeypatch.setattr(Merger, "_parted_conversations", lambda *args: None)
    # Given she wrote into the other's conversation while merged with them, and they were told apart again
    erased, _, keep_conv, _ = _she_wrote_while_merged(desk)
    if unmerged != "now":
        assert desk.item(f"CONV#{keep_conv}")["routes"]["email"]["to"] == "wq.mgq@example.com"
    before = {i["SK"]: i for i in scan(desk) if i["PK"] == f"CONV#{keep_conv}" and i.get("type") == "message"}
    theirs = {sk for sk, i in before.items() if i.get("direction") != "inbound" or "mgw?" in str(i.get("text"))}
    # When an admin erases her
    status, started = admin(desk, "POST", f"/admin/customers/{erased}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then no item of the table holds her name, number, address or words
    _nothing_of_her(desk)
    for words in ("call me on", "Re: my order"):
        assert [(i["PK"], i["SK"]) for i in scan(desk) if words in json.dumps(i, default=str)] == []
    # and the other's conversation keeps their own messages and the desk's, and answers them by SMS
    after = {i["SK"] for i in scan(desk) if i["PK"] == f"CONV#{keep_conv}" and i.get("type") == "message"}
    assert theirs <= after and len(after) == len(before) - 1
    conv = desk.item(f"CONV#{keep_conv}")
    assert conv["routes"].keys() == {"sms"} and conv["channel"] == "sms"
    # and a replay of her message is refused as erased
    assert not [i for i in scan(desk) if str(i["PK"]).startswith("MARKER#email#") and "mgw2" in i["PK"]]


def _as_stored_before_messages_named_their_identity(desk: Any, conversation_id: str) -> None:
    """Every message of the conversation as ingest wrote it before an inbound message named the identity it came from
    (no ``identity``: docs/data-model.md)."""
    ddb = desk.client("dynamodb")
    for item in scan(desk):
        if item["PK"] == f"CONV#{conversation_id}" and item.get("type") == "message" and "identity" in item:
            ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
                            UpdateExpression="REMOVE #identity", ExpressionAttributeNames={"#identity": "identity"})


@pytest.mark.parametrize("unmerged", ["now", "before_routes_went_back"])
def test_an_erase_finds_what_she_wrote_into_their_conversation_while_merged_before_messages_named_their_identity(
        desk, monkeypatch, unmerged):
    from shopdesk.logic.merge import Merger
    if unmerged != "now":      # an unmerge that left her route on their conversation (as it did before)
        monkeypatch.setattr(Merger, "_parted_conversations", lambda *args: None)
    # Given she wrote by email into the other's conversation while merged with them (they write by SMS), stored as
    # messages were before they named the identity they came from, and they were told apart again
    erased, _, keep_conv, _ = _she_wrote_while_merged(desk)
    _as_stored_before_messages_named_their_identity(desk, keep_conv)
    before = {i["SK"]: i for i in scan(desk) if i["PK"] == f"CONV#{keep_conv}" and i.get("type") == "message"}
    assert not [i for i in before.values() if "identity" in i]
    theirs = {sk for sk, i in before.items() if i.get("direction") != "inbound" or "mgw?" in str(i.get("text"))}
    # When an admin erases her
    status, started = admin(desk, "POST", f"/admin/customers/{erased}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then no item of the table holds her name, number, address or words
    _nothing_of_her(desk)
    for words in ("call me on", "Re: my order"):
        assert [(i["PK"], i["SK"]) for i in scan(desk) if words in json.dumps(i, default=str)] == []
    # and the other's conversation keeps their own messages (by SMS, before and while merged) and the desk's
    after = {i["SK"] for i in scan(desk) if i["PK"] == f"CONV#{keep_conv}" and i.get("type") == "message"}
    assert theirs <= after and len(after) == len(before) - 1


def _named_while_merged(desk: Any) -> tuple[str, str]:
    """A customer writing by SMS, nameless, merged with Wilhelmina (by email), whose name the merge gives them; their
    conversation resolved, and a new one opened by SMS while they are one, under her name; the merge then undone:
    (her id, that conversation)."""
    from tests.integration.test_email import _deliver, _eml
    _deliver(desk, _eml(sender="Wilhelmina Quargenstein <wq.mgq@example.com>", body="Hi, where is my order?\n",
                        message_id="<mgn1@example.com>"), "mgn-1")
    erased = desk.item("IDENTITY#email#wq.mgq@example.com")["customer_id"]
    first = customer_writes(desk, ONE, "Where is my parcel mgn?", "SMmgn1")
    kept = desk.item(f"CONV#{first}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{kept}/merge", "alice", {"other_id": erased, "reason": "x"})
    assert status == 200, merge
    status, _ = agent(desk, "POST", f"/agent/conversations/{first}/status", "alice", {"status": "resolved"})
    assert status == 200
    second = customer_writes(desk, ONE, "And another thing mgn", "SMmgn2")
    assert second != first and desk.item(f"CONV#{second}")["customer"].get("name") == "Wilhelmina Quargenstein"
    status, undone = agent(desk, "POST", f"/agent/customers/{kept}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not the same"})
    assert status == 200, undone
    return erased, second


def test_a_conversation_opened_while_merged_loses_the_name_of_the_customer_merged_away_at_the_unmerge(desk):
    # Given a conversation the other customer opened while merged with her, under her name, the merge then undone
    _, second = _named_while_merged(desk)
    # Then that conversation, theirs, no longer bears her name
    assert "Quargenstein" not in json.dumps(desk.item(f"CONV#{second}")["customer"], default=str)


def test_an_erase_takes_her_name_off_a_conversation_opened_while_merged_that_an_unmerge_left_it_on(desk, monkeypatch):
    from shopdesk.logic.merge import Merger
    # Given a conversation the other customer opened while merged with her, which kept her name after the unmerge
    # (as an unmerge left it before)
    with monkeypatch.context() as patched:
        patched.setattr(Merger, "_parted_conversations", lambda *args: None)
        erased, second = _named_while_merged(desk)
    assert desk.item(f"CONV#{second}")["customer"]["name"] == "Wilhelmina Quargenstein"
    # When an admin erases her
    status, started = admin(desk, "POST", f"/admin/customers/{erased}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    # Then no item holds her name, and their conversation stays
    _nothing_of_her(desk)
    assert desk.item(f"CONV#{second}") is not None


def test_her_export_holds_what_she_wrote_into_the_conversation_of_a_customer_once_merged_with_her(desk):
    from tests.integration.test_privacy import _export_of
    # Given she wrote into the other's conversation while merged with them, and they were told apart again
    erased, _, keep_conv, _ = _she_wrote_while_merged(desk)
    # When she asks for her data
    _, data = _export_of(desk, erased)
    # Then her message there is in it, without the other's conversation record or messages
    elsewhere = [c for c in data["conversations"] if any(m["conversation_id"] == keep_conv for m in c["messages"])]
    assert [(c["conversation"], [m["text"] for m in c["messages"]]) for c in elsewhere] == [
        (None, ["Wilhelmina Quargenstein here, call me on +14155558824 please"])]
    assert "mgw?" not in json.dumps(data)
