"""An erase whose attempt fails after it has deleted part of the customer (a file S3 kept) and runs again: the
next attempt finds less, and must still do what the first would have done, once."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from shopdesk.dal.queues import Queue
from tests.integration.helpers import agent, customer_writes, online
from tests.integration.test_email import _deliver, _eml
from tests.integration.test_privacy import TEXT, _job, _lake_rows, admin, scan
from tests.integration.test_privacy_raw_mail import refused_deletes  # noqa: F401 (a fixture)
from tests.support import http_event, sends_hang, sqs_event


def _attempt(desk: Any) -> list[dict[str, Any]]:
    """One delivery of the erase's message to the privacy function, made visible again right after (as its
    visibility timeout would): the batch's failures."""
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    failures = desk.invoke("privacy", sqs_event([message], arn))["batchItemFailures"]
    if failures:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    else:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return failures


def _refused(*args: Any, **kwargs: Any) -> NoReturn:
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "injected")


def _privacy_queue_down(desk: Any, monkeypatch: Any, *, group: str | None = None, taking: int = 0) -> dict[str, Any]:
    """The privacy queue refusing sends (of one message group only, with ``group``; after the first ``taking``) while
    the switch returned says ``on``, as in an outage; ``tried`` counts the sends it met. Other queues go on."""
    switch = {"on": True, "tried": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if switch["on"] and self.url == desk.env["PRIVACY_QUEUE_URL"] and group in (None, kwargs.get("group")):
            switch["tried"] += 1
            if switch["tried"] > taking:
                _refused()
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    return switch


def _admin_document(desk: Any) -> dict[str, Any]:
    """The admin API's OpenAPI document, as it serves it."""
    return json.loads(desk.invoke("admin_api", http_event("GET", "/admin/openapi.json"))["body"])


def test_an_erase_retried_after_its_items_went_keeps_their_conversations_on_the_deletion_list(desk, refused_deletes):  # noqa: F811
    from tests.integration.test_analytics import Lake
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])
    # Given a web-chat customer's conversation, in the lake (its message rows name the conversation, not her),
    # and an export of her
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": TEXT},
                             _session(desk, "visitor-wilma"))
    assert status == 201, sent
    conv = sent["conversation_id"]
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    exported = _job(desk, "export", customer)
    assert lake.pump() and conv in {r["conversation_id"] for r in _lake_rows(desk, erased_applied=True)}
    # When her erase's first attempt deletes her items, then fails at the archive S3 refuses to delete
    refused_deletes["keys"] = {f"exports/{exported['job_id']}.zip"}
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    assert _attempt(desk)
    assert desk.item(f"CONV#{conv}") is None and desk.item(f"CUSTOMER#{customer}") is not None
    visitors = desk.item(f"PRIVACYJOB#{started['job_id']}")["erased_visitors"]
    assert visitors
    # and the next attempt, which finds no conversation of hers any more, finishes
    refused_deletes["keys"] = set()
    assert not _attempt(desk)
    job = desk.item(f"PRIVACYJOB#{started['job_id']}")
    assert job["status"] == "done", job
    # Then the job still names her conversation and visitor for its last look at uploads
    assert job["erased_conversations"] == [conv] and job["erased_visitors"] == visitors
    assert job["erased_customers"] == [customer]
    # and the deletion list, the item and the lake's object, names the conversation
    [erased] = [i for i in scan(desk) if i["PK"] == "ERASED"]
    assert erased["customer_id"] == customer and erased["conversation_ids"] == [conv]
    body = desk.client("s3").get_object(Bucket=desk.env["EVENTS_BUCKET"], Key=f"erased/{started['job_id']}.json")
    assert {"id": conv, "kind": "conversation", "job_id": started["job_id"]} in [
        json.loads(line) for line in body["Body"].read().decode().splitlines()]
    # so no report reads her conversation's rows any more
    lake.pump()
    assert conv not in {r["conversation_id"] for r in _lake_rows(desk, erased_applied=True)}


def test_an_erase_that_runs_again_gives_the_agent_s_seat_back_once(desk, refused_deletes):  # noqa: F811
    # Given alice holding three conversations, one of them an emailing customer's
    online(desk, "alice")
    for i, phone in enumerate(("+14155550111", "+14155550112")):
        customer_writes(desk, phone, f"hello {i}", f"SMseat{i}")
    assert _deliver(desk, _eml(sender="Lee <lee@customer.example>", message_id="<e1@customer.example>"),
                    "e1")["stored"] == 1
    desk.drain_queue(desk.work_queue_url, "router")
    identity = desk.item("IDENTITY#email#lee@customer.example")
    conv = identity["open_conversation_id"]
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    assert agent(desk, "GET", "/agent/me", "alice")[1]["active"] == 3
    # When that customer's erase fails three times at the mail S3 refuses to delete, then runs to its end
    refused_deletes["keys"] = {"raw/e1"}
    status, started = admin(desk, "POST", f"/admin/customers/{identity['customer_id']}/erase")
    assert status == 202, started
    seats = []
    for _ in range(3):
        assert _attempt(desk)
        seats.append(agent(desk, "GET", "/agent/me", "alice")[1]["active"])
    refused_deletes["keys"] = set()
    assert not _attempt(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CONV#{conv}") is None
    # Then alice got that one seat back, once: she holds the other two, after every attempt
    assert [*seats, agent(desk, "GET", "/agent/me", "alice")[1]["active"]] == [2, 2, 2, 2]


def test_an_erase_retried_after_its_items_went_still_erases_the_customer_merged_into_them(desk, refused_deletes):  # noqa: F811
    from tests.integration.test_privacy_merged import _two_merged
    # Given a customer merged into another, and an export of the survivor (holding both)
    keep, gone, keep_conv, gone_conv, _ = _two_merged(desk, "mgr")
    exported = _job(desk, "export", keep)
    # When the survivor's erase deletes their items, the merge's records among them, and fails at the archive
    refused_deletes["keys"] = {f"exports/{exported['job_id']}.zip"}
    status, started = admin(desk, "POST", f"/admin/customers/{keep}/erase")
    assert status == 202, started
    assert _attempt(desk)
    assert desk.item(f"CUSTOMER#{gone}") is None and desk.item(f"CUSTOMER#{keep}") is not None
    # and the next attempt, which finds the survivor alone, finishes
    refused_deletes["keys"] = set()
    assert not _attempt(desk)
    assert desk.item(f"PRIVACYJOB#{started['job_id']}")["status"] == "done"
    # Then the deletion list names the customer merged away and both conversations
    [erased] = [i for i in scan(desk) if i["PK"] == "ERASED"]
    assert erased["merged_ids"] == [gone] and set(erased["conversation_ids"]) == {keep_conv, gone_conv}
    body = desk.client("s3").get_object(Bucket=desk.env["EVENTS_BUCKET"], Key=f"erased/{started['job_id']}.json")
    assert {keep, gone, keep_conv, gone_conv} <= {json.loads(line)["id"]
                                                  for line in body["Body"].read().decode().splitlines()}
    # and an erase of the customer merged away names the survivor's erase
    status, problem = admin(desk, "POST", f"/admin/customers/{gone}/erase")
    assert status == 409 and problem["code"] == "already_erased", problem
    assert problem["params"]["job_id"] == started["job_id"]


def test_a_retention_save_whose_walk_the_queue_refuses_answers_503_fails_its_job_and_the_sweep_walks_later(
        desk, monkeypatch):
    from datetime import timedelta

    from shopdesk import clock
    from tests.integration.test_privacy import run_jobs

    # Given a customer's messages stored while nothing expired
    conv = customer_writes(desk, "+31655501801", "Where is my order?", "SMwalk1")
    desk.drain_queue(desk.work_queue_url, "router")
    # and the privacy queue refusing every send (an outage)
    down = _privacy_queue_down(desk, monkeypatch)
    # When an admin keeps messages 30 days
    status, problem = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 30}})
    # Then the answer is the documented 503, saying the settings are saved and when the walk comes
    assert status == 503 and problem["code"] == "walk_not_queued", problem
    job = problem["params"]["job_id"]
    assert "the settings are saved (version 1)" in problem["detail"] and problem["params"]["walks_at"]
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["retention"]["messages_days"] == 30
    # and its job says failed, why, and when the sweep walks instead: never running with nothing to run it
    read = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert read["status"] == "failed" and problem["params"]["walks_at"] in read["error"], read
    # and the save is on the audit trail, as failed
    [record] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                if r.get("status") == 503]
    assert record["outcome"] == "failed" and record["details"]["walks_not_queued"] == job
    # And once the queue takes sends again, the sweep's second pass gives what is stored its expiry
    down["on"] = False
    clock.set_offset(6 * 60)
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    messages = [m for m in scan(desk) if m["PK"] == f"CONV#{conv}" and m["SK"].startswith("MSG#")]
    assert messages and all(int(m["ttl"]) == int((clock.parse_iso(m["created_at"]) + timedelta(days=30)).timestamp())
                            for m in messages)
    [second] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:retention")[1]["items"]
                if r["action"] == "retention.applied"]
    assert second["details"]["settles"] == job
    # and the API's document lists that answer
    document = _admin_document(desk)
    assert "walk_not_queued" in document["paths"]["/admin/privacy/settings"]["put"]["responses"]["503"]["description"]


def test_an_export_or_erase_the_queue_refuses_answers_503_is_audited_failed_and_a_retry_starts_a_new_job(
        desk, monkeypatch):
    from tests.integration.test_privacy import run_jobs

    # Given a customer
    conv = customer_writes(desk, "+31655501802", "Please forget me", "SMjob1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    # and the privacy queue refusing every send (an outage)
    down = _privacy_queue_down(desk, monkeypatch)
    failed: dict[str, str] = {}
    for kind in ("export", "erase"):
        # When an admin asks for the customer's export, then erase
        status, problem = admin(desk, "POST", f"/admin/customers/{customer}/{kind}")
        # Then the answer is the documented 503, naming the failed job and saying to ask again
        assert status == 503 and problem["code"] == "job_not_queued", problem
        assert problem["params"]["kind"] == kind and "ask again" in problem["detail"], problem
        failed[kind] = problem["params"]["job_id"]
        read = admin(desk, "GET", f"/admin/privacy/jobs/{failed[kind]}")[1]
        assert read["status"] == "failed" and "could not be queued" in read["error"], read
    # and each request is on the audit trail, as failed, naming its job
    records = [r for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
               if r.get("outcome") == "failed"]
    assert sorted((r["action"], r["status"], r["details"]["job_not_queued"]) for r in records) == [
        ("customer.erase", 503, failed["erase"]), ("customer.export", 503, failed["export"])], records
    # And once the queue takes sends again, the admin's retries start new jobs, which run
    down["on"] = False
    for kind in ("export", "erase"):
        status, started = admin(desk, "POST", f"/admin/customers/{customer}/{kind}")
        assert status == 202 and started["job_id"] != failed[kind], started
        run_jobs(desk)
        assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CUSTOMER#{customer}") is None
    # and the erase asked a second time says the erase that ran
    status, problem = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 409 and problem["code"] == "already_erased", problem
    # and the API's document lists the 503 of both
    document = _admin_document(desk)
    for kind in ("export", "erase"):
        assert "job_not_queued" in document["paths"][f"/admin/customers/{{customer_id}}/{kind}"]["post"][
            "responses"]["503"]["description"]


def test_a_walk_the_queue_refuses_whose_failed_mark_the_table_refuses_too_reads_failed_after_an_hour(
        desk, monkeypatch):
    from shopdesk import clock
    from shopdesk.dal.privacy import PrivacyJobStore
    from shopdesk.dal.table import Table
    from tests.integration.test_privacy import run_jobs

    # Given the privacy queue refusing sends, and the table refusing the job's failed mark
    down = _privacy_queue_down(desk, monkeypatch)
    real_finish = PrivacyJobStore.finish
    monkeypatch.setattr(PrivacyJobStore, "finish", _refused)
    # When an admin saves a new retention
    status, problem = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 30}})
    # Then the answer is still the documented 503
    assert status == 503 and problem["code"] == "walk_not_queued", problem
    job = problem["params"]["job_id"]
    monkeypatch.setattr(PrivacyJobStore, "finish", real_finish)
    down["on"] = False
    # and its job, stored running, reads running for the hour a queued walk may wait
    assert desk.item(f"PRIVACYJOB#{job}")["status"] == "running"
    clock.set_offset(59 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"
    # but failed past it, with why: never running for good with nothing to run it
    clock.set_offset(61 * 60)
    read = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert read["status"] == "failed" and "never received" in read["error"], read
    # And a walk the queue took is marked received by the worker, and one received reads running however long
    clock.set_offset(0)
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 20}},
                          query="version=1")
    assert status == 200, saved
    run_jobs(desk)
    walked = desk.item(f"PRIVACYJOB#{saved['retention_job_id']}")
    assert walked["received_at"] and walked["status"] == "done", walked
    PrivacyJobStore(Table(desk.table_name)).progress(job, received_at=walked["received_at"])
    clock.set_offset(3 * 60 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"


def test_a_walk_whose_continuation_the_queue_refuses_is_dead_lettered_and_a_redrive_resumes_it_to_done(
        desk, monkeypatch):
    from datetime import timedelta

    from scripts import redrive

    from shopdesk import clock
    from tests.integration.helpers import online
    from tests.support import FakeContext

    # Given conversations written while nothing expired, and invocations with time for one page of the walk each
    online(desk, "alice")
    convs = [customer_writes(desk, f"+316555019{n:02d}", "Where is my order?", f"SMdlq{n}") for n in range(5)]
    desk.drain_queue(desk.work_queue_url, "router")
    monkeypatch.setattr("shopdesk.privacy.reapply.PAGE", 1)
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: 0))
    # and an admin's retention save, whose walk's first message the privacy queue takes
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 30}})
    assert status == 200, saved
    job = saved["retention_job_id"]
    # When the queue then refuses every send, so each slice's continuation fails its message, five times
    down = _privacy_queue_down(desk, monkeypatch)
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    for _ in range(5):
        assert _attempt(desk), "the slice's continuation was refused: its message failed"
    # Then the job says it stopped, and the message goes on to the dead-letter queue (its alarm)
    stopped = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert stopped["status"] == "failed" and "5 attempts" in stopped["error"], stopped
    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []) == []
    dlq_arn = json.loads(sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])[
        "Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
    dlq = sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
    # And once the queue takes sends again, the operator's redrive (scripts.redrive) resumes the walk where it was
    down["on"] = False
    assert redrive.move(sqs, dlq, queue).moved == 1
    run_jobs_all(desk)
    done = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert done["status"] == "done" and done["counts"]["conversations"] == len(convs), done
    messages = [i for i in scan(desk) if i["PK"] in {f"CONV#{c}" for c in convs} and i["SK"].startswith("MSG#")]
    assert messages and all(int(m["ttl"]) == int((clock.parse_iso(m["created_at"]) + timedelta(days=30)).timestamp())
                            for m in messages)
    [applied] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:privacy")[1]["items"]
                 if r["action"] == "retention.applied"]
    assert applied["details"]["job_id"] == job


def run_jobs_all(desk: Any) -> None:
    """The privacy queue drained until it is empty (a walk of many slices sends itself on many times)."""
    while desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy"):
        pass


def test_an_export_or_erase_the_queue_refuses_whose_failed_mark_the_table_refuses_too_reads_failed_after_an_hour(
        desk, monkeypatch):
    from shopdesk import clock
    from shopdesk.dal.privacy import PrivacyJobStore
    from shopdesk.dal.table import Table
    from tests.integration.test_privacy import run_jobs

    # Given a customer, the privacy queue refusing sends, and the table refusing the job's failed mark
    conv = customer_writes(desk, "+31655501803", "Please forget me", "SMjob2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    down = _privacy_queue_down(desk, monkeypatch)
    real_finish = PrivacyJobStore.finish
    monkeypatch.setattr(PrivacyJobStore, "finish", _refused)
    real_let_go = PrivacyJobStore.not_erasing           # and the erase's hold on the customer not let go either
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", _refused)
    stuck: dict[str, str] = {}
    for kind in ("export", "erase"):
        # When an admin asks for the customer's export, then erase
        status, problem = admin(desk, "POST", f"/admin/customers/{customer}/{kind}")
        # Then the answer is still the documented 503, naming the job
        assert status == 503 and problem["code"] == "job_not_queued", problem
        stuck[kind] = problem["params"]["job_id"]
    monkeypatch.setattr(PrivacyJobStore, "finish", real_finish)
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", real_let_go)
    down["on"] = False
    # and each job, stored running, reads running for the hour a queued job may wait in its customer's group
    assert desk.item(f"CUSTOMER#{customer}")["erasing"] == stuck["erase"]
    for job in stuck.values():
        assert desk.item(f"PRIVACYJOB#{job}")["status"] == "running"
    clock.set_offset(59 * 60)
    assert [admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] for job in stuck.values()] == [
        "running", "running"]
    # but failed past it, with why: never running for good with nothing to run it
    clock.set_offset(61 * 60)
    for job in stuck.values():
        read = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
        assert read["status"] == "failed" and "never received" in read["error"] and "ask again" in read["error"], read
    # and the erase asked again then starts a job of its own, taking over the hold, which runs to done
    status, erase = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202 and erase["job_id"] != stuck["erase"] and not erase.get("running"), erase
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CUSTOMER#{customer}") is None
    # And a job the queue took is marked received by the worker, and one received reads running however long
    erased = desk.item(f"PRIVACYJOB#{erase['job_id']}")
    assert erased["received_at"] and erased["status"] == "done", erased
    PrivacyJobStore(Table(desk.table_name)).progress(stuck["export"], received_at=erased["received_at"])
    clock.set_offset(3 * 60 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck['export']}")[1]["status"] == "running"


def test_an_erase_not_queued_whose_failed_mark_and_hold_the_table_refused_holds_the_customer_no_more_after_an_hour(
        desk, monkeypatch):
    from shopdesk import clock
    from shopdesk.dal.privacy import PrivacyJobStore
    from tests.integration.test_privacy import _job, run_jobs

    # Given two customers, the privacy queue refusing sends, and the table refusing the erase's failed mark and
    # the release of its hold on the customer
    conv = customer_writes(desk, "+31655501804", "Please forget me", "SMhold1")
    other_conv = customer_writes(desk, "+31655501805", "Same person, other phone", "SMhold2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    down = _privacy_queue_down(desk, monkeypatch)
    real_finish, real_let_go = PrivacyJobStore.finish, PrivacyJobStore.not_erasing
    monkeypatch.setattr(PrivacyJobStore, "finish", _refused)
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", _refused)
    # When an admin asks for the customer's erase: the documented 503, the customer's record still held by its job
    status, problem = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 503 and problem["code"] == "job_not_queued", problem
    stuck = problem["params"]["job_id"]
    monkeypatch.setattr(PrivacyJobStore, "finish", real_finish)
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", real_let_go)
    down["on"] = False
    assert desk.item(f"CUSTOMER#{customer}")["erasing"] == stuck
    # Then an hour on, when the job reads failed, the hold counts no more: the customer's export runs to its archive
    clock.set_offset(61 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck}")[1]["status"] == "failed"
    exported = _job(desk, "export", customer)
    assert exported.get("download_url") and exported.get("archive_deleted") is None, exported
    # and an agent merges another customer into them
    status, merge = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                          {"other_id": other, "reason": "same person"})
    assert status == 200, merge
    # And an erase asked again still takes the hold over, and runs to done
    status, erase = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202 and erase["job_id"] != stuck and not erase.get("running"), erase
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase['job_id']}")[1]["status"] == "done"
    assert desk.item(f"CUSTOMER#{customer}") is None and desk.item(f"CUSTOMER#{other}") is None


def _erase_held_not_queued(desk: Any, monkeypatch: Any, customer: str) -> str:
    """The customer's erase asked for while the privacy queue refuses sends and the table refuses the job's failed
    mark and the release of its hold: the documented 503, the customer's record held by the job (``erasing``), which
    no worker will ever receive. The job's id."""
    from shopdesk.dal.privacy import PrivacyJobStore

    down = _privacy_queue_down(desk, monkeypatch)
    real_finish, real_let_go = PrivacyJobStore.finish, PrivacyJobStore.not_erasing
    monkeypatch.setattr(PrivacyJobStore, "finish", _refused)
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", _refused)
    status, problem = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 503 and problem["code"] == "job_not_queued", problem
    monkeypatch.setattr(PrivacyJobStore, "finish", real_finish)
    monkeypatch.setattr(PrivacyJobStore, "not_erasing", real_let_go)
    down["on"] = False
    stuck = problem["params"]["job_id"]
    assert desk.item(f"CUSTOMER#{customer}")["erasing"] == stuck
    return stuck


def test_an_erase_not_queued_whose_hold_the_table_kept_lets_an_unmerge_of_the_customer_through_after_an_hour(
        desk, monkeypatch):
    from shopdesk import clock

    # Given a customer, another merged into them by an agent
    conv = customer_writes(desk, "+31655501806", "Please forget me", "SMhold3")
    other_conv = customer_writes(desk, "+31655501807", "Same person, other phone", "SMhold4")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                          {"other_id": other, "reason": "same person"})
    assert status == 200, merge
    # and the customer's erase never queued, its hold on them kept by a table that refused to let it go
    stuck = _erase_held_not_queued(desk, monkeypatch, customer)
    # When, an hour on, the job reads failed and the agent undoes the merge
    clock.set_offset(61 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck}")[1]["status"] == "failed"
    status, undone = agent(desk, "POST", f"/agent/customers/{customer}/unmerge", "alice",
                           {"merge_id": merge["id"], "reason": "not the same person"})
    # Then it goes through (not a 409 to retry that no retry ever passes), the hold let go
    assert status == 200, undone
    assert desk.item(f"MERGE#{merge['id']}")["status"] == "unmerged"
    assert "merged_into" not in desk.item(f"CUSTOMER#{other}")
    assert "erasing" not in desk.item(f"CUSTOMER#{customer}")


def test_an_erase_not_queued_whose_hold_the_table_kept_lets_a_visitor_s_proven_address_link_after_an_hour(
        desk, monkeypatch):
    from shopdesk import clock
    from shopdesk.channels import webchat
    from tests.integration.test_customers import _code_mailed_to, _customer_id, _email
    from tests.integration.test_widget import _call as _widget

    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer known by email, whose erase was never queued, its hold on them kept by a table that refused
    # to let it go
    _email(desk, "Cleo <cleo-hold@example.com>", "hello by mail", "e-cleo-hold")
    customer = _customer_id(desk, "email", "cleo-hold@example.com")
    stuck = _erase_held_not_queued(desk, monkeypatch, customer)
    # When, an hour on, the job reads failed and a web-chat visitor proves that address with the code mailed to it
    clock.set_offset(61 * 60)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck}")[1]["status"] == "failed"
    token = webchat.sign_visitor_token({"visitor_id": "visitor-cleo-hold", "name": "Cleo",
                                        "exp": int(clock.now().timestamp()) + 600}, "test-visitor-secret")
    status, started, _ = _widget(desk, "POST", "/widget/sessions", {"visitor_token": token})
    assert status == 201, started
    session = started["session"]
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "cleo-hold@example.com"}, session)[0] == 202
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm",
                              {"code": _code_mailed_to("cleo-hold@example.com")}, session)
    # Then the visitor is linked to the customer (not a 503 to retry that no retry ever passes), the hold let go
    assert status == 200 and body == {"verified": True, "linked": True}, body
    assert _customer_id(desk, "webchat", "visitor-cleo-hold") == customer
    assert "erasing" not in desk.item(f"CUSTOMER#{customer}")


def test_an_erase_s_hold_whose_job_is_gone_holds_the_customer_no_more(desk, monkeypatch):
    from shopdesk import clock
    from tests.integration.test_privacy import _job

    # Given two customers, the first's erase never queued, its hold on them kept by a table that refused to let it go
    conv = customer_writes(desk, "+31655501808", "Please forget me", "SMhold5")
    other_conv = customer_writes(desk, "+31655501809", "Same person, other phone", "SMhold6")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    stuck = _erase_held_not_queued(desk, monkeypatch, customer)
    # and its job gone, as its 30 days' expiry takes it
    clock.set_offset(31 * 86400)
    desk.client("dynamodb").delete_item(TableName=desk.table_name,
                                        Key={"PK": {"S": f"PRIVACYJOB#{stuck}"}, "SK": {"S": "META"}})
    assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck}")[0] == 404
    # When the customer's export is asked for: it runs to its archive, not failed as if they were being erased
    exported = _job(desk, "export", customer)
    assert exported["status"] == "done" and exported.get("download_url"), exported
    # and an agent merges the other customer into them: it goes through, the hold let go
    status, merge = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                          {"other_id": other, "reason": "same person"})
    assert status == 200, merge
    assert "erasing" not in desk.item(f"CUSTOMER#{customer}")


def test_the_last_look_at_uploads_of_an_erase_no_worker_received_is_dropped_once_the_job_reads_failed(desk):
    from shopdesk import clock
    from shopdesk.dal.conversations import Later
    from shopdesk.dal.table import Table
    from shopdesk.privacy.jobs import uploads_runner

    # Given the sweep's runner of an erase's last look at its uploads, and two erases running: one a worker received,
    # one no worker ever received (its message never queued, its failed mark refused)
    run = uploads_runner(desk.table_name, desk.env["PRIVACY_QUEUE_URL"])
    started = clock.iso(clock.now())
    for job, received in (("j_lookrecv", {"received_at": started}), ("j_lookunrec", {})):
        Table(desk.table_name).put({"PK": f"PRIVACYJOB#{job}", "SK": "META", "kind": "erase", "status": "running",
                                    "customer_id": f"c_{job}", "created_at": started, **received})
    # When its timers come within the hour, both move on: either job may still run
    assert all(isinstance(run(job), Later) for job in ("j_lookrecv", "j_lookunrec"))
    # Then past the hour, the one never received reads failed: its look is dropped, as a failed erase's is, while
    # the one received still moves on
    clock.set_offset(61 * 60)
    assert run("j_lookunrec") == "gone"
    assert isinstance(run("j_lookrecv"), Later)


def test_a_save_whose_masking_walk_the_queue_refuses_names_the_retention_walk_it_queued_which_runs(desk, monkeypatch):
    # Given the privacy queue refusing the masking walks' sends only
    _privacy_queue_down(desk, monkeypatch, group="masking")
    # When an admin saves a new retention and a new masking pattern at once
    status, problem = admin(desk, "PUT", "/admin/privacy/settings", {
        "retention": {"messages_days": 30}, "masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]})
    # Then the answer is the documented 503 for the masking walk, and it names the retention walk that was queued
    assert status == 503 and problem["code"] == "walk_not_queued", problem
    params = problem["params"]
    refused, queued = params["job_id"], params.get("retention_job_id")
    assert queued and queued != refused and "masking_job_id" not in params, problem
    assert f"the retention job {queued} is queued" in problem["detail"], problem
    assert admin(desk, "GET", f"/admin/privacy/jobs/{refused}")[1]["status"] == "failed"
    # and the queued one runs to done
    run_jobs_all(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{queued}")[1]["status"] == "done"
    # and the save's failed record on the audit trail names both
    [record] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                if r.get("status") == 503]
    assert record["details"]["walks_not_queued"] == refused and record["details"]["retention_job_id"] == queued
    # and the API's document says so
    document = _admin_document(desk)
    assert "params.retention_job_id" in document["paths"]["/admin/privacy/settings"]["put"]["responses"]["503"][
        "description"]


def test_a_bulk_erase_that_meets_a_refusing_queue_answers_each_row_and_audits_the_erases_not_queued_as_failed(
        desk, monkeypatch):
    from tests.integration.test_privacy import run_jobs

    # Given three customers
    customers = [desk.item(f"CONV#{customer_writes(desk, f'+3165550181{n}', 'Please forget me', f'SMmany{n}')}")[
        "customer"]["id"] for n in range(3)]
    # and the privacy queue taking the first erase's send, then refusing every send (an outage beginning)
    down = _privacy_queue_down(desk, monkeypatch, taking=1)
    # and the request's time nearly up: less left than one send may take at worst
    _time_left(monkeypatch, _admin_queue_worst(desk) - 1)
    # When an admin erases the three at once
    status, answer = admin(desk, "POST", "/admin/privacy/erasures", {"customers": customers})
    # Then each row says what became of its customer: the first started, the second refused by the queue (its job
    # failed), the third not tried after that refusal, too little time being left; nothing more was sent to a queue
    # that refuses
    assert status == 202, answer
    first, second, third = answer["items"]
    assert (first["outcome"], first["customer_id"]) == ("started", customers[0]) and first["job_id"], answer
    assert (second["outcome"], second["customer_id"]) == ("not_queued", customers[1]) and second["job_id"], answer
    assert (third["outcome"], third["customer_id"]) == ("not_queued", customers[2]) and not third.get("job_id"), answer
    assert down["tried"] == 2
    assert admin(desk, "GET", f"/admin/privacy/jobs/{second['job_id']}")[1]["status"] == "failed"
    # and the customers not queued are held by no erase, and each is on the audit trail as a failed erase
    for row in (second, third):
        assert "erasing" not in desk.item(f"CUSTOMER#{row['customer_id']}")
        trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={row['customer_id']}&outcome=failed")[1]
        [record] = trail["items"]
        assert (record["action"], record["status"], record["actor"]) == ("customer.erase", 503, "root"), record
        assert record["details"]["of_several"] is True, record
    assert [r["details"] for c in customers[1:]
            for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={c}&outcome=failed")[1]["items"]] == [
        {"of_several": True, "job_not_queued": second["job_id"]}, {"of_several": True, "not_tried": True}]
    assert "job_not_queued" not in admin(desk, "GET", "/admin/audit", query=f"customer_id={customers[0]}")[1][
        "items"][0]["details"]
    # and the request's own record names the customers not queued
    [request] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                 if r["action"] == "customer.erase.several"]
    assert request["details"]["not_queued"] == sorted(customers[1:]), request
    # And the first erase runs, and once the queue takes sends again the two sent again start and run
    down["on"] = False
    status, again = admin(desk, "POST", "/admin/privacy/erasures", {"customers": customers[1:]})
    assert status == 202 and [r["outcome"] for r in again["items"]] == ["started", "started"], again
    run_jobs(desk)
    assert all(desk.item(f"CUSTOMER#{customer}") is None for customer in customers)
    # and the API's document names the outcome
    document = _admin_document(desk)
    assert "not_queued" in json.dumps(document["components"]["schemas"]["EraseRow"])


def _sqs_client_of(monkeypatch: Any, **config: Any) -> float:
    """The layer's bounded SQS client (the admin API's queues use it) made with this configuration (botocore's
    Config) while the test runs: the longest one send can take with it (``send_worst_seconds``)."""
    import boto3
    from botocore.config import Config

    from shopdesk.config import region
    from shopdesk.dal import aws
    from shopdesk.dal.queues import send_worst_seconds

    made = boto3.session.Session().client("sqs", region_name=region(), config=Config(**config))
    monkeypatch.setitem(aws._clients, "sqs/answering", made)
    return send_worst_seconds(made)


def _admin_queue_worst(desk: Any) -> float:
    """The longest one send to the privacy queue can take in the admin API, with the client its queue uses."""
    return desk.handler("admin_api").privacy_queue.send_worst_seconds()


def _time_left(monkeypatch: Any, seconds: float) -> None:
    """The Lambda context's time left (tests.support.FakeContext), this many seconds."""
    from tests.support import FakeContext

    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: int(seconds * 1000)))


def _admin_timeout() -> int:
    """The admin API function's Timeout, as template.yaml says."""
    from tests.integration.conftest import TEMPLATE

    return int(TEMPLATE["Resources"]["AdminApiFunction"]["Properties"]["Timeout"])


# what the admin API needs at least after a send that took its worst, to mark the job failed, audit and answer
ANSWER_MARGIN_SECONDS = 10


# an SQS client whose one send takes 12 s at worst: 2 attempts of 1 s to connect and 2 s to read, and the 1 s + 5 s
# botocore may wait before the retry
QUICK_SQS = {"retries": {"mode": "standard", "total_max_attempts": 2}, "connect_timeout": 1, "read_timeout": 2}


def test_one_send_s_worst_time_is_read_from_the_sqs_client_s_retries_and_timeouts(desk, monkeypatch):
    from shopdesk.dal.aws import client
    from shopdesk.dal.queues import send_worst_seconds

    # Given the layer's SQS client (3 retries, so 4 attempts, of 3 s to connect and 10 s to read)
    config = client("sqs").meta.config
    assert (config.retries["total_max_attempts"], config.connect_timeout, config.read_timeout) == (4, 3, 10)
    # Then one send takes at worst 4 x 13 s, and 1 s, 2 s and 4 s before the retries, each up to 5 s more
    assert send_worst_seconds() == 4 * 13 + (1 + 5) + (2 + 5) + (4 + 5) == 74
    # and a client of 2 attempts of 1 s and 2 s, 12 s
    assert _sqs_client_of(monkeypatch, **QUICK_SQS) == 2 * 3 + (1 + 5) == 12


def test_the_admin_api_s_sends_to_its_queues_take_at_worst_less_than_its_function_s_time_with_room_to_answer(desk):
    from shopdesk.dal.aws import client
    from shopdesk.dal.queues import send_worst_seconds

    # Given the admin API's queues, and its function's Timeout in template.yaml
    module, timeout = desk.handler("admin_api"), _admin_timeout()
    # Then they send with the layer's bounded client (2 attempts of 1 s to connect and 2 s to read: 12 s at worst)
    assert module.privacy_queue.sqs is module.work.sqs is client("sqs", answering=True)
    assert send_worst_seconds(client("sqs", answering=True)) == 12
    # and one send at its worst leaves the function time to mark its job failed and answer the 503
    assert module.privacy_queue.send_worst_seconds() + ANSWER_MARGIN_SECONDS <= timeout, timeout


def test_an_export_or_erase_whose_send_to_the_privacy_queue_hangs_is_answered_503_within_the_function_s_time(desk):
    import time

    from tests.integration.test_privacy import run_jobs

    # Given a customer
    customer = desk.item(f"CONV#{customer_writes(desk, '+31655501859', 'Please forget me', 'SMhang')}")["customer"][
        "id"]
    # and the privacy queue hanging: each send to it answers nothing, until the admin API's client stops waiting
    # (its read timeout) and drops the connection, as urllib3 does
    with sends_hang(desk.env["PRIVACY_QUEUE_URL"], desk.handler("admin_api").privacy_queue.sqs) as hung:
        for kind in ("export", "erase"):
            # When an admin asks for the customer's export, then erase
            began = time.monotonic()
            status, problem = admin(desk, "POST", f"/admin/customers/{customer}/{kind}")
            took = time.monotonic() - began
            # Then the answer is the documented 503, within the function's Timeout (template.yaml) with room to spare
            assert status == 503 and problem["code"] == "job_not_queued", problem
            assert took + ANSWER_MARGIN_SECONDS <= _admin_timeout(), took
            # and the job reads failed
            read = admin(desk, "GET", f"/admin/privacy/jobs/{problem['params']['job_id']}")[1]
            assert read["status"] == "failed" and "could not be queued" in read["error"], read
        assert len(hung) == 2 * 2       # two attempts each
    # And once the queue answers again, an erase asked again starts and runs
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    run_jobs(desk)
    assert desk.item(f"CUSTOMER#{customer}") is None


def test_a_bulk_erase_whose_queue_refuses_one_row_in_the_middle_starts_the_rows_after_it_while_time_is_left(
        desk, monkeypatch):
    from tests.integration.test_privacy import run_jobs

    # Given four customers, and the privacy queue refusing the second's erase only
    customers = [desk.item(f"CONV#{customer_writes(desk, f'+3165550183{n}', 'Please forget me', f'SMmid{n}')}")[
        "customer"]["id"] for n in range(4)]
    down = _privacy_queue_down(desk, monkeypatch, group=customers[1])
    # and the request given the admin function's whole Timeout (template.yaml), with the admin API's own SQS client
    _time_left(monkeypatch, _admin_timeout())
    # When an admin erases the four at once
    status, answer = admin(desk, "POST", "/admin/privacy/erasures", {"customers": customers})
    # Then the second is refused by the queue, and the rows after it are still tried, and started
    assert status == 202, answer
    assert [(r["customer_id"], r["outcome"]) for r in answer["items"]] == [
        (customers[0], "started"), (customers[1], "not_queued"), (customers[2], "started"), (customers[3], "started")]
    assert answer["items"][1]["job_id"] and down["tried"] == 1
    assert admin(desk, "GET", f"/admin/privacy/jobs/{answer['items'][1]['job_id']}")[1]["status"] == "failed"
    [request] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                 if r["action"] == "customer.erase.several"]
    assert request["details"]["not_queued"] == [customers[1]], request
    # And the three started run to done, the refused one left as it was
    run_jobs(desk)
    assert [desk.item(f"CUSTOMER#{c}") is None for c in customers] == [True, False, True, True]
    assert "erasing" not in desk.item(f"CUSTOMER#{customers[1]}")


def test_a_bulk_erase_after_a_refusal_tries_no_more_once_less_time_is_left_than_one_send_can_take(
        desk, monkeypatch):
    from tests.support import FakeContext

    # Given four customers, the privacy queue refusing the second's erase only, and an SQS client whose one send
    # takes 12 s at worst
    customers = [desk.item(f"CONV#{customer_writes(desk, f'+3165550184{n}', 'Please forget me', f'SMend{n}')}")[
        "customer"]["id"] for n in range(4)]
    _privacy_queue_down(desk, monkeypatch, group=customers[1])
    worst = _sqs_client_of(monkeypatch, **QUICK_SQS)
    # and the request's time running out: after the refusal, 13 s left, then 11 s
    left = iter([worst + 1, worst - 1, worst - 1])
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: int(next(left) * 1000)))
    # When an admin erases the four at once
    status, answer = admin(desk, "POST", "/admin/privacy/erasures", {"customers": customers})
    # Then the third is still tried and started, and the fourth, with less time left than one send may take, is not
    # tried: not queued, with no job, held by nothing, on the audit trail as failed
    assert status == 202, answer
    assert [r["outcome"] for r in answer["items"]] == ["started", "not_queued", "started", "not_queued"], answer
    assert answer["items"][1].get("job_id") and not answer["items"][3].get("job_id"), answer
    assert "erasing" not in desk.item(f"CUSTOMER#{customers[3]}")
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customers[3]}&outcome=failed")[1]["items"]
    assert [r["details"] for r in trail] == [{"of_several": True, "not_tried": True}]


def test_a_bulk_erase_after_a_refusal_answers_a_customer_whose_erase_runs_already_started_with_that_job(
        desk, monkeypatch):
    # Given three customers, the third's erase started (queued, running) before the privacy queue began refusing sends
    customers = [desk.item(f"CONV#{customer_writes(desk, f'+3165550182{n}', 'Please forget me', f'SMrun{n}')}")[
        "customer"]["id"] for n in range(3)]
    status, running = admin(desk, "POST", f"/admin/customers/{customers[2]}/erase")
    assert status == 202, running
    down = _privacy_queue_down(desk, monkeypatch)
    _time_left(monkeypatch, _admin_queue_worst(desk) - 1)      # less time left than one more send may take
    # When an admin erases the three at once
    status, answer = admin(desk, "POST", "/admin/privacy/erasures", {"customers": customers})
    # Then the first is refused by the queue and the second not tried, but the third, whose erase runs and needs no
    # send, is answered started with that erase's job: not "nothing was done, not held"
    assert status == 202, answer
    first, second, third = answer["items"]
    assert [first["outcome"], second["outcome"]] == ["not_queued", "not_queued"] and down["tried"] == 1, answer
    assert (third["outcome"], third["job_id"]) == ("started", running["job_id"]), answer
    assert desk.item(f"CUSTOMER#{customers[2]}")["erasing"] == running["job_id"]
