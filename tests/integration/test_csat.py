"""CSAT on moto: a person's resolve sends one survey; the customer's rating (and comment) is stored on the resolved
conversation once, without reopening or routing it; a low rating alerts the team on the bus."""

from __future__ import annotations

import csv
import io
import json
import time
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer

from tests.integration.helpers import agent, customer_writes, online, outbound_sent, post_twilio, route_records
from tests.integration.test_admin_api import admin_call
from tests.support import twilio_form


def _settings(desk, **changes) -> None:
    status, body = admin_call(desk, "PUT", "/admin/csat", "[admins]", {"enabled": True, **changes})
    assert status == 200, body
    desk.handler("agent_api").surveys._settings = None          # the settings are cached half a minute


def _messages(desk, conv: str) -> list[dict]:
    rows = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :m)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}, ":m": {"S": "MSG#"}}, ConsistentRead=True)["Items"]
    return [{k: _plain(_DESERIALIZE.deserialize(v)) for k, v in row.items()} for row in rows]


_DESERIALIZE = TypeDeserializer()


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _kinds(desk, conv: str, kind: str) -> list[dict]:
    return [m for m in _messages(desk, conv) if m.get("kind") == kind]


def _resolved_sms_conversation(desk, phone: str, sid: str, text: str = "Where is my parcel?") -> str:
    online(desk, "alice")
    conv = customer_writes(desk, phone, text, sid)
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert status == 200 and body["status"] == "resolved", body
    return conv


def _sms(desk, phone: str, text: str, sid: str) -> None:
    result = post_twilio(desk, twilio_form(MessageSid=sid, From=phone, To="+14155550100", Body=text))
    assert result["statusCode"] == 200, result


@pytest.fixture
def alerts(desk):
    """An SQS queue that receives the bus's CSAT alerts (as a shop's own rule would)."""
    sqs, events = desk.client("sqs"), desk.client("events")
    url = sqs.create_queue(QueueName=f"csat-alerts-{desk.bus_name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="csat-alerts", EventBusName=desk.bus_name,
                    EventPattern=json.dumps({"source": ["shopdesk"], "detail-type": ["CsatNegative"]}))
    events.put_targets(Rule="csat-alerts", EventBusName=desk.bus_name, Targets=[{"Id": "q", "Arn": arn}])

    def received(expected: int, deadline_s: float = 5.0) -> list[dict]:
        found: list[dict] = []
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
                found.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if len(found) >= expected:
                break
            time.sleep(0.1)
        return found
    return received


def test_a_resolve_sends_one_survey_in_words_on_sms_and_a_second_resolve_sends_none(desk):
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340201", "SMcs1")
    [survey] = _kinds(desk, conv, "csat_survey")
    assert "1" in survey["text"] and "5" in survey["text"] and survey["status"] == "queued"
    assert survey["payload"]["agent_id"] == "alice" and "choices" not in survey["payload"]
    # When the same resolve is sent again (a double click, a retried request)
    agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    desk.handler("agent_api").surveys.on_resolve(conv)          # and the survey step itself runs twice
    # Then there is still one survey
    assert len(_kinds(desk, conv, "csat_survey")) == 1


def test_the_follow_up_goes_on_the_channel_the_customer_answered_on(desk):
    # Given a customer who wrote by SMS, then on WhatsApp: the survey goes where they wrote last (WhatsApp)
    _settings(desk)
    online(desk, "alice")
    conv = customer_writes(desk, "+31612340209", "Where is my parcel?", "SMcs9")
    assert customer_writes(desk, "+31612340209", "Any news?", "SMcs9w", channel="whatsapp") == conv
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    [survey] = _kinds(desk, conv, "csat_survey")
    assert survey["channel"] == "whatsapp"
    # When they answer by SMS
    _sms(desk, "+31612340209", "4", "SMcs9a")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then the question for a comment comes back by SMS, where they are, not on WhatsApp
    [answer] = _kinds(desk, conv, "csat_answer")
    [follow_up] = _kinds(desk, conv, "csat_follow_up")
    assert (answer["channel"], follow_up["channel"], follow_up["to"]) == ("sms", "sms", "+31612340209")


def test_a_follow_up_whose_send_failed_goes_out_once_when_the_rating_s_work_runs_again(desk, monkeypatch):
    from shopdesk.dal.queues import Queue
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340210", "SMcs10")
    outbound_sent(desk)
    # Given the outbound queue refusing the rating's follow-up once (the follow-up already recorded)
    sends, refused = Queue.send, []

    def flaky(queue, body, **kwargs):
        if queue.url == desk.outbound_queue_url and not refused:
            refused.append(body["message_id"])
            raise RuntimeError("SQS is unavailable")
        return sends(queue, body, **kwargs)

    monkeypatch.setattr(Queue, "send", flaky)
    _sms(desk, "+31612340210", "4", "SMcs10a")
    route_records(desk)
    [follow_up] = _kinds(desk, conv, "csat_follow_up")
    assert refused == [follow_up["id"]] and outbound_sent(desk) == []
    # When the rating's work runs again (the queue's retry)
    route_records(desk)
    # Then that follow-up goes out, and no second one is written
    assert [m["id"] for m in _kinds(desk, conv, "csat_follow_up")] == [follow_up["id"]]
    assert outbound_sent(desk) == [follow_up["id"]]


def test_a_rating_is_counted_once_and_the_conversation_stays_resolved_with_its_comment(desk):
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340202", "SMcs2")
    # When the customer answers "5" (and the provider delivers it twice), then writes a comment
    _sms(desk, "+31612340202", "5", "SMcs2a")
    _sms(desk, "+31612340202", "5", "SMcs2a")
    desk.drain_queue(desk.work_queue_url, "router")
    _sms(desk, "+31612340202", "Quick and kind, thank you", "SMcs2b")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then one answer with the score and the agent credited, one comment, on the resolved conversation
    [answer] = _kinds(desk, conv, "csat_answer")
    assert answer["payload"]["rating"] == 5 and answer["payload"]["agent_id"] == "alice"
    [comment] = _kinds(desk, conv, "csat_comment")
    assert comment["text"] == "Quick and kind, thank you"
    meta = desk.item(f"CONV#{conv}")
    assert meta["status"] == "resolved" and meta["resolved_by"] == "alice" and "QueuePK" not in meta
    assert desk.item("IDENTITY#phone#+31612340202").get("open_conversation_id") is None
    # and the agent API shows the rating on the answer
    _, seen = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert [m["rating"] for m in seen["messages"] if m["kind"] == "csat_answer"] == [5]
    # and the customer was asked for the comment once (the router's follow-up)
    assert len(_kinds(desk, conv, "csat_follow_up")) == 1
    # When the customer writes again after that, it is a new conversation as always
    later = customer_writes(desk, "+31612340202", "5 more questions about my other order?", "SMcs2c")
    assert later != conv


def test_a_message_that_is_not_an_answer_opens_the_next_conversation(desk):
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340203", "SMcs3")
    later = customer_writes(desk, "+31612340203", "Can I also change my address?", "SMcs3a")
    assert later and later != conv
    assert _kinds(desk, conv, "csat_answer") == []
    assert "csat" not in desk.item("IDENTITY#phone#+31612340203")       # the survey stopped waiting
    customer_writes(desk, "+31612340203", "5", "SMcs3b")                   # now a message of the open one
    assert _kinds(desk, conv, "csat_answer") == []


def test_a_low_rating_alerts_the_team_naming_the_agent(desk, alerts):
    _settings(desk, comment_prompt=False)
    conv = _resolved_sms_conversation(desk, "+31612340204", "SMcs4")
    _sms(desk, "+31612340204", "very bad, nobody read my message", "SMcs4a")
    desk.drain_queue(desk.work_queue_url, "router")
    [answer] = _kinds(desk, conv, "csat_answer")
    assert answer["payload"]["rating"] == 1 and "nobody read my message" in answer["payload"]["comment"]
    [event] = alerts(1)
    assert event["detail-type"] == "CsatNegative"
    assert event["detail"]["conversation_id"] == conv and event["detail"]["score"] == 1
    assert event["detail"]["agent_id"] == "alice" and event["detail"]["team"] == "default"
    assert [m["text"] for m in _kinds(desk, conv, "csat_follow_up")] == ["Thank you for your rating!"]


def test_surveys_only_where_the_settings_say(desk):
    _settings(desk, when="channels", channels=["whatsapp"])
    conv = _resolved_sms_conversation(desk, "+31612340205", "SMcs5")
    assert _kinds(desk, conv, "csat_survey") == []
    assert admin_call(desk, "PUT", "/admin/csat", "[admins]", {"enabled": True, "when": "teams"})[0] == 422
    assert admin_call(desk, "PUT", "/admin/csat", "[supervisors]", {"enabled": True})[0] == 403
    status, body = admin_call(desk, "GET", "/admin/csat", "[supervisors]")
    assert status == 200 and body["channels"] == ["whatsapp"] and body["version"] == 1


def test_reports_count_each_rating_once_per_agent_and_list_the_comments(desk):
    from tests.integration.test_analytics import Lake

    lake = Lake(desk)           # reads the table's stream from its start
    _settings(desk)
    online(desk, "bob")
    rated = _resolved_sms_conversation(desk, "+31612340206", "SMcs6")
    _sms(desk, "+31612340206", "👍", "SMcs6a")
    _sms(desk, "+31612340206", "👍", "SMcs6a")             # a provider's retry
    _sms(desk, "+31612340206", "The courier was late though", "SMcs6b")
    unhappy = _resolved_sms_conversation(desk, "+31612340207", "SMcs7")
    _sms(desk, "+31612340207", "2 - too slow", "SMcs7a")
    silent = _resolved_sms_conversation(desk, "+31612340208", "SMcs8")
    desk.drain_queue(desk.work_queue_url, "router")
    lake.pump()
    lake.pump()                 # the same records again change nothing
    day = time.strftime("%Y-%m-%d", time.gmtime())
    query = f"from={day}&to={day}T23:59:59Z&tz=UTC"
    status, summary = lake.report("/reports/summary", query)
    assert status == 200, summary
    assert summary["csat"] == {"score": 0.5, "responses": 2, "response_rate": pytest.approx(0.6667, abs=1e-4)}
    status, by_agent = lake.report("/reports/metrics", f"metric=csat&group_by=agent&{query}")
    assert status == 200, by_agent
    rows = {r["key"]: r for r in by_agent["items"]}
    assert (rows["alice"]["asked"], rows["alice"]["responses"], rows["alice"]["satisfied"]) == (3, 2, 1)
    status, by_team = lake.report("/reports/metrics", f"metric=csat&group_by=team&{query}")
    assert {r["key"]: r["asked"] for r in by_team["items"]} == {"default": 3}
    status, listed = lake.report("/reports/metrics", f"metric=csat_comments&{query}")
    assert status == 200, listed
    comments = {r["conversation_id"]: (r["rating"], r["comment"], r["agent_id"]) for r in listed["items"]}
    assert comments[rated] == (4, "The courier was late though", "alice")
    assert comments[unhappy][0] == 2 and "too slow" in comments[unhappy][1]
    assert silent not in comments
    # each in the language its survey was sent in (a rating's own words are too few to tell it)
    assert {r["language"] for r in listed["items"]} == {"en"}, listed["items"]
    assert lake.report("/reports/metrics", f"metric=csat_comments&group_by=agent&{query}")[0] == 400


def test_a_web_chat_visitor_sees_the_buttons_and_presses_one(desk):
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session

    _settings(desk)
    online(desk, "alice")
    session = _session(desk, "visitor-csat")
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "c1", "text": "Hola"}, session)
    assert status == 201, sent
    conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    # Then the widget lists the survey with its five choices
    status, polled, _ = widget(desk, "GET", "/widget/messages", session=session)
    assert status == 200, polled
    [survey] = [m for m in polled["items"] if m["choices"]]
    assert [c["id"] for c in survey["choices"]] == [f"csat:{n}" for n in range(1, 6)]
    # When the visitor presses "4" (a bad choice id is refused first)
    bad = {"client_message_id": "c2", "text": "4 Good", "choice": "csat 4!"}
    assert widget(desk, "POST", "/widget/messages", bad, session)[0] == 422
    pressed = {"client_message_id": "c3", "text": survey["choices"][3]["title"], "choice": "csat:4"}
    status, answered, _ = widget(desk, "POST", "/widget/messages", pressed, session)
    # Then it is the rating of the resolved conversation, which stays resolved
    assert status == 201 and answered["conversation_id"] == conv, answered
    [answer] = _kinds(desk, conv, "csat_answer")
    assert answer["payload"]["rating"] == 4 and answer["payload"]["rating_source"] == "button"
    assert desk.item(f"CONV#{conv}")["status"] == "resolved"
    # And the comment the visitor writes next shows in the chat with the rest (not "Sending…" in an emptied chat)
    desk.drain_queue(desk.work_queue_url, "router")
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    status, commented, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "c4", "text": "Quick!"},
                                  session)
    assert status == 201 and commented["conversation_id"] == conv, commented
    [_] = _kinds(desk, conv, "csat_comment")
    status, polled, _ = widget(desk, "GET", "/widget/messages", session=session)
    assert status == 200 and polled["conversation_id"] == conv, polled
    texts = [m["text"] for m in polled["items"]]
    assert texts[0] == "Hola" and survey["text"] in texts and texts[-1] == "Quick!", texts


def test_a_survey_button_pressed_again_is_neither_a_comment_nor_a_new_conversation(desk):
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session

    _settings(desk)
    online(desk, "alice")
    session = _session(desk, "visitor-again")
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "c1", "text": "Hola"}, session)
    conv = sent["conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    desk.drain_queue(desk.outbound_queue_url, "dispatcher")
    press = {"client_message_id": "c2", "text": "4", "choice": "csat:4"}
    assert widget(desk, "POST", "/widget/messages", press, session)[0] == 201
    desk.drain_queue(desk.work_queue_url, "router")
    # When the visitor presses another of the survey's buttons while a comment is awaited (Telegram and WhatsApp
    # keep the buttons on the survey), then again after writing the comment
    again = {"client_message_id": "c3", "text": "1", "choice": "csat:1"}
    assert widget(desk, "POST", "/widget/messages", again, session)[0] == 200
    words = {"client_message_id": "c4", "text": "Fast, thanks"}
    assert widget(desk, "POST", "/widget/messages", words, session)[0] == 201
    later = {"client_message_id": "c5", "text": "3", "choice": "csat:3"}
    status, answer, _ = widget(desk, "POST", "/widget/messages", later, session)
    # Then neither press is stored: the rating stays 4, its comment is the visitor's words, and no conversation opens
    assert status == 200 and answer["status"] == "duplicate", answer
    assert [m["payload"]["rating"] for m in _kinds(desk, conv, "csat_answer")] == [4]
    assert [m["text"] for m in _kinds(desk, conv, "csat_comment")] == ["Fast, thanks"]
    from tests.integration.test_privacy import scan
    conversations = [i["PK"] for i in scan(desk) if i.get("type") == "conversation"]
    assert conversations == [f"CONV#{conv}"], conversations


_SCHEDULED = {"version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.scheduler",
              "account": "123456789012", "time": "2026-12-03T12:00:00Z", "region": "us-east-1", "resources": [],
              "detail": {}}


def test_a_delayed_survey_goes_out_once_when_its_timer_comes_due(desk):
    from shopdesk import clock

    _settings(desk, delay_s=600)
    conv = _resolved_sms_conversation(desk, "+31612340209", "SMcs9")
    # Then nothing is sent yet: the survey waits in the due index
    assert _kinds(desk, conv, "csat_survey") == []
    assert [r["state"] for r in _records(desk, conv)] == ["scheduled"]
    desk.invoke("sla_sweep", _SCHEDULED)
    assert _kinds(desk, conv, "csat_survey") == []
    # When its time comes, the sweep sends it, once
    clock.set_offset(601)
    desk.invoke("sla_sweep", _SCHEDULED)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert len(_kinds(desk, conv, "csat_survey")) == 1
    assert [r["state"] for r in _records(desk, conv)] == ["asked"]
    _sms(desk, "+31612340209", "4", "SMcs9a")
    assert [m["payload"]["rating"] for m in _kinds(desk, conv, "csat_answer")] == [4]


def test_a_conversation_reopened_before_its_delayed_survey_gets_none(desk):
    from shopdesk import clock

    _settings(desk, delay_s=600)
    conv = _resolved_sms_conversation(desk, "+31612340210", "SMcs10")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 200
    clock.set_offset(601)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert _kinds(desk, conv, "csat_survey") == []


def _records(desk, conv: str) -> list[dict]:
    rows = desk.client("dynamodb").query(
        TableName=desk.table_name, KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conv}"}, ":c": {"S": "CSAT#"}}, ConsistentRead=True)["Items"]
    return [{k: _plain(_DESERIALIZE.deserialize(v)) for k, v in row.items()} for row in rows]


def test_the_survey_goes_with_the_resolved_conversation_under_retention(desk):
    assert admin_call(desk, "PUT", "/admin/privacy/settings", "[admins]",
                      {"retention": {"closed_conversations_days": 14}})[0] == 200
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340211", "SMcs11")
    expires = desk.item(f"CONV#{conv}")["ttl"]
    [record] = _records(desk, conv)
    [survey] = _kinds(desk, conv, "csat_survey")
    assert record["ttl"] == expires and survey["ttl"] == expires


def test_a_question_after_a_rating_opens_the_next_conversation(desk):
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340212", "SMcs12")
    _sms(desk, "+31612340212", "5", "SMcs12a")
    later = customer_writes(desk, "+31612340212", "Thanks! And where is my other order?", "SMcs12b")
    assert later and later != conv
    assert [m["payload"]["rating"] for m in _kinds(desk, conv, "csat_answer")] == [5]
    assert _kinds(desk, conv, "csat_comment") == []


def test_a_comment_about_the_agent_after_a_rating_is_its_comment_not_a_request_for_a_person(desk):
    # Given a customer who rated 5 by SMS
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31612340220", "SMcs20")
    _sms(desk, "+31612340220", "5", "SMcs20a")
    desk.drain_queue(desk.work_queue_url, "router")
    # When they write about the agent (no request for a person, whatever noun it names)
    _sms(desk, "+31612340220", "El agente fue muy amable", "SMcs20b")
    desk.drain_queue(desk.work_queue_url, "router")
    # Then it is the survey's comment on the resolved conversation, and no conversation opens for it
    assert [m["text"] for m in _kinds(desk, conv, "csat_comment")] == ["El agente fue muy amable"]
    assert desk.item(f"CONV#{conv}")["status"] == "resolved"
    assert desk.item("IDENTITY#phone#+31612340220").get("open_conversation_id") is None



@pytest.mark.parametrize("formula", [
    '=HYPERLINK("https://evil.example/c","The courier note")',         # a comment that runs in Excel
    '+HYPERLINK("https://evil.example/c","The courier note")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=HYPERLINK(\"https://evil.example/c\")",                           # a tab first, then a formula
    "\r=HYPERLINK(\"https://evil.example/c\")",                           # a carriage return first
])
def test_a_comment_written_as_a_spreadsheet_formula_is_text_in_the_csv(desk, formula):
    from tests.integration.test_analytics import Lake

    lake = Lake(desk)
    _settings(desk)
    _resolved_sms_conversation(desk, "+31612340209", "SMcs9")
    _sms(desk, "+31612340209", "👍", "SMcs9a")
    _sms(desk, "+31612340209", formula, "SMcs9b")
    desk.drain_queue(desk.work_queue_url, "router")
    lake.pump()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    status, text = lake.report("/reports/metrics", f"metric=csat_comments&from={day}&to={day}T23:59:59Z&tz=UTC"
                                                   "&format=csv")
    assert status == 200, text
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    # the customer's words are all there, as text a spreadsheet shows and never runs
    assert "'" + formula in cells, cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells


def test_a_delayed_survey_whose_scheduling_met_another_transaction_is_scheduled_still(desk, monkeypatch):
    from botocore.exceptions import ClientError

    from shopdesk.dal import aws

    _settings(desk, delay_s=600)
    client = aws.client("dynamodb", answering=True)         # the agent API's, which resolves (dal.aws: bounded)
    real, conflicted = client.transact_write_items, []

    def transact_write_items(**kwargs):
        # the schedule's transaction (the cycle's record, the timer, the check of the conversation) meets another one
        # on the conversation's record once, as the customer's message or the router's write at the resolve may
        items = kwargs["TransactItems"]
        if not conflicted and any(_DESERIALIZE.deserialize(op.get("Put", {}).get("Item", {}).get(
                "type", {"S": ""})) == "csat" for op in items) and any("ConditionCheck" in op for op in items):
            conflicted.append(len(items))
            reasons = [{"Code": "None"}] * (len(items) - 1) + [
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                               "CancellationReasons": reasons}, "TransactWriteItems")
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", transact_write_items)
    conv = _resolved_sms_conversation(desk, "+31612340219", "SMcs19")
    # Then the survey is scheduled all the same (the transaction sent again), not dropped with a log line
    assert conflicted == [3]
    assert [r["state"] for r in _records(desk, conv)] == ["scheduled"]


def test_a_delayed_survey_whose_send_the_queue_refused_stays_due_is_counted_and_goes_out_once_with_the_next_sweep(
        desk, monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from shopdesk import clock
    from shopdesk.dal.queues import Queue

    _settings(desk, delay_s=600)
    conv = _resolved_sms_conversation(desk, "+31612340231", "SMcs31")
    outbound_sent(desk)
    # Given the outbound queue refusing every send when the survey's time comes (an outage)
    down = {"on": True, "refused": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if down["on"] and self.url == desk.outbound_queue_url:
            down["refused"] += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    clock.set_offset(601)
    capsys.readouterr()
    # When the sweep runs
    desk.invoke("sla_sweep", _SCHEDULED)
    # Then the survey is recorded, not failed, and its timer stays due, counted (the sweep's TimersFailed)
    assert down["refused"] == 1
    [survey] = _kinds(desk, conv, "csat_survey")
    assert survey["status"] == "queued"
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is not None
    assert any('"TimersFailed"' in line for line in capsys.readouterr().out.splitlines())
    # And once the queue takes sends again, the next sweep sends that survey, once, and finishes the timer
    down["on"] = False
    clock.set_offset(661)
    desk.invoke("sla_sweep", _SCHEDULED)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert outbound_sent(desk) == [survey["id"]]
    assert [m["id"] for m in _kinds(desk, conv, "csat_survey")] == [survey["id"]]
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is None
    assert [r["state"] for r in _records(desk, conv)] == ["asked"]


def test_a_survey_asked_at_the_resolve_whose_send_the_queue_refused_stays_queued_is_counted_and_the_sweep_sends_it(
        desk, monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from shopdesk import clock
    from shopdesk.dal.queues import Queue

    _settings(desk)                              # no delay: asked at the resolve
    # Given the outbound queue refusing every send when the conversation is resolved (an outage)
    down = {"on": True, "refused": 0}
    real = Queue.send

    def send(self, body, *args, **kwargs):
        if down["on"] and self.url == desk.outbound_queue_url:
            down["refused"] += 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")
        return real(self, body, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", send)
    capsys.readouterr()
    # When alice resolves it
    conv = _resolved_sms_conversation(desk, "+31612340241", "SMcs41")
    # Then the survey is recorded and still queued, not failed, counted, and due for the sweep
    assert down["refused"] == 1
    [survey] = _kinds(desk, conv, "csat_survey")
    assert survey["status"] == "queued" and not survey.get("error"), survey
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is not None
    figures = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(f.get("work") == "survey" and "RoutingWorkNotSent" in f for f in figures)
    # And a sweep while the queue still refuses leaves it so (counted as the sweep's failed timer)
    clock.set_offset(60)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert down["refused"] == 2 and _kinds(desk, conv, "csat_survey")[0]["status"] == "queued"
    assert any('"TimersFailed"' in line for line in capsys.readouterr().out.splitlines())
    # And once the queue takes sends again, a later sweep sends that survey, once, and finishes the timer
    down["on"] = False
    clock.set_offset(125)
    desk.invoke("sla_sweep", _SCHEDULED)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert outbound_sent(desk) == [survey["id"]]
    assert [m["id"] for m in _kinds(desk, conv, "csat_survey")] == [survey["id"]]
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is None
    assert [r["state"] for r in _records(desk, conv)] == ["asked"]


def test_a_delayed_survey_whose_next_run_meets_the_table_refusing_is_never_left_queued(desk, monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.queues import Queue

    _settings(desk, delay_s=600)
    conv = _resolved_sms_conversation(desk, "+31612340232", "SMcs32")
    outbound_sent(desk)
    # Given a delayed survey recorded, its send refused by the outbound queue (still queued, its timer due)
    down = {"queue": True, "table": False}
    send, get_message = Queue.send, Conversations.get_message

    def refusing_send(self, body, *args, **kwargs):
        if down["queue"] and self.url == desk.outbound_queue_url:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")
        return send(self, body, *args, **kwargs)

    def refusing_get(self, *args, **kwargs):
        if down["table"]:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
                              "GetItem")
        return get_message(self, *args, **kwargs)

    monkeypatch.setattr(Queue, "send", refusing_send)
    monkeypatch.setattr(Conversations, "get_message", refusing_get)
    clock.set_offset(601)
    desk.invoke("sla_sweep", _SCHEDULED)
    [survey] = _kinds(desk, conv, "csat_survey")
    assert survey["status"] == "queued"
    # When the timer's next run meets the table refusing the survey's read (not the queue's refusal)
    down.update(queue=False, table=True)
    clock.set_offset(661)
    capsys.readouterr()
    desk.invoke("sla_sweep", _SCHEDULED)
    # Then the timer stays due and the failure is counted, the survey still queued, not left so for good
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is not None
    assert any('"TimersFailed"' in line for line in capsys.readouterr().out.splitlines())
    assert _kinds(desk, conv, "csat_survey")[0]["status"] == "queued"
    # And once the table answers, a later run sends that survey, once, and finishes the timer
    down["table"] = False
    clock.set_offset(661 + 120)
    desk.invoke("sla_sweep", _SCHEDULED)
    desk.invoke("sla_sweep", _SCHEDULED)
    assert outbound_sent(desk) == [survey["id"]]
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is None


def test_a_delayed_survey_whose_run_meets_the_table_refusing_stays_due_and_goes_out_later(desk, monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from shopdesk import clock
    from shopdesk.dal.csat import Surveys

    _settings(desk, delay_s=600)
    conv = _resolved_sms_conversation(desk, "+31612340233", "SMcs33")
    outbound_sent(desk)
    # Given the table refusing the conversation's read when the survey's time comes
    down = {"on": True}
    resolution = Surveys.resolution

    def refusing(self, conversation_id):
        if down["on"]:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "GetItem")
        return resolution(self, conversation_id)

    monkeypatch.setattr(Surveys, "resolution", refusing)
    clock.set_offset(601)
    capsys.readouterr()
    # When the sweep runs
    desk.invoke("sla_sweep", _SCHEDULED)
    # Then nothing is sent, the survey is still scheduled with its timer due, and the failure counted
    assert _kinds(desk, conv, "csat_survey") == []
    assert [r["state"] for r in _records(desk, conv)] == ["scheduled"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is not None
    assert any('"TimersFailed"' in line for line in capsys.readouterr().out.splitlines())
    # And once the table answers, the next run sends it, once
    down["on"] = False
    clock.set_offset(661)
    desk.invoke("sla_sweep", _SCHEDULED)
    desk.invoke("sla_sweep", _SCHEDULED)
    [survey] = _kinds(desk, conv, "csat_survey")
    assert outbound_sent(desk) == [survey["id"]]
    assert [r["state"] for r in _records(desk, conv)] == ["asked"]
    assert desk.item(f"CONV#{conv}", "DEADLINE#csat_survey") is None
