"""A customer who texts STOP: Twilio unsubscribes their number and refuses our sends (21610) until they text START.
shopdesk sees the same keywords, sends nothing automatic there, tells the agent before they write, and learns an
opt-out it did not see from Twilio's refusal."""

from __future__ import annotations

from tests.integration.helpers import TWILIO_URL, agent, customer_writes, online, post_twilio
from tests.integration.test_admin_api import admin_call
from tests.integration.test_bot import bot_messages
from tests.integration.test_privacy import scan
from tests.support import FakeTwilio, sqs_event, twilio_form

PHONE = "+31640000901"


def _conversation(desk, conv):
    return agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")[1]


def _acks(desk, conv):
    return [m for m in _conversation(desk, conv)["messages"] if m["kind"] == "acknowledgement"]


def _route(desk):
    desk.drain_queue(desk.work_queue_url, "router")


def _reply(desk, conv, text="We are on it."):
    return agent(desk, "POST", f"/agent/conversations/{conv}/replies", "root", {"text": text}, groups="[admins]")


def _acknowledgements_on(desk):
    assert admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgements": True})[0] == 200


def test_stop_unsubscribes_the_number_nothing_automatic_answers_and_agents_are_told_until_start(desk):
    _acknowledgements_on(desk)
    online(desk, "alice")
    conv = customer_writes(desk, PHONE, "Where is my order?", "SMopt1")
    _route(desk)
    assert len(_acks(desk, conv)) == 1                                   # acknowledged as usual
    assert _reply(desk, conv)[0] in (201, 202)

    assert customer_writes(desk, PHONE, " stop ", "SMopt2") == conv       # Twilio's keyword, any case
    _route(desk)
    seen = _conversation(desk, conv)
    stop = seen["messages"][-1]
    assert (stop["direction"], stop["kind"], stop["text"]) == ("inbound", "opt_out", " stop ")
    assert seen["opted_out"] == ["sms"]
    assert desk.item(f"IDENTITY#phone#{PHONE}")["opted_out_sms"]
    status, problem = _reply(desk, conv)
    assert status == 409 and "unsubscribed from SMS" in problem["detail"] and "START" in problem["detail"]
    assert (problem["code"], problem["params"]) == ("opted_out", {"channel": "sms"})     # for the inbox's words

    # still unsubscribed: a later message is the agent's to read, and nothing automatic answers it
    assert customer_writes(desk, PHONE, "hello?", "SMopt3") == conv
    _route(desk)
    assert len(_acks(desk, conv)) == 1 and _conversation(desk, conv)["opted_out"] == ["sms"]
    assert _reply(desk, conv)[0] == 409

    customer_writes(desk, PHONE, "START", "SMopt4")
    _route(desk)
    seen = _conversation(desk, conv)
    assert seen["messages"][-1]["kind"] == "opt_in" and seen["opted_out"] == []
    assert "opted_out_sms" not in desk.item(f"IDENTITY#phone#{PHONE}")
    assert _reply(desk, conv)[0] in (201, 202)


def test_a_stop_delivered_twice_is_stored_once_and_still_remembered(desk):
    body = twilio_form(MessageSid="SMopt10", From=PHONE, To="+14155550100", Body="STOP")
    assert post_twilio(desk, body)["statusCode"] == 200
    desk.client("dynamodb").update_item(TableName=desk.table_name, UpdateExpression="REMOVE opted_out_sms",
                                        Key={"PK": {"S": f"IDENTITY#phone#{PHONE}"}, "SK": {"S": "META"}})
    # (as if the first delivery had stopped between storing the message and remembering the opt-out)
    assert post_twilio(desk, body)["statusCode"] == 200                  # Twilio's retry
    conv = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    assert [m["kind"] for m in _conversation(desk, conv)["messages"] if m["direction"] == "inbound"] == ["opt_out"]
    assert desk.item(f"IDENTITY#phone#{PHONE}")["opted_out_sms"]


def test_yes_and_stop_in_a_sentence_are_ordinary_messages(desk):
    _acknowledgements_on(desk)
    conv = customer_writes(desk, PHONE, "YES", "SMopt20")                # not unsubscribed: YES is an answer
    _route(desk)
    seen = _conversation(desk, conv)
    assert seen["messages"][0]["kind"] == "text" and len(_acks(desk, conv)) == 1 and seen["opted_out"] == []
    customer_writes(desk, PHONE, "Stop sending me the wrong size please", "SMopt21")
    _route(desk)
    assert _conversation(desk, conv)["opted_out"] == []


def test_advanced_opt_out_names_the_keyword_on_whatsapp_too_and_only_that_channel_is_closed(desk):
    body = twilio_form(MessageSid="SMopt30", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100", Body="ALTO",
                       OptOutType="STOP")                                 # a keyword of the shop's own
    assert post_twilio(desk, body, url=TWILIO_URL)["statusCode"] == 200
    conv = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    identity = desk.item(f"IDENTITY#phone#{PHONE}")
    assert identity["opted_out_whatsapp"] and "opted_out_sms" not in identity
    customer_writes(desk, PHONE, "my order is late", "SMopt31")          # the same number by SMS
    seen = _conversation(desk, conv)
    assert seen["channels"] == ["sms", "whatsapp"] and seen["opted_out"] == ["whatsapp"]
    assert _reply(desk, conv)[0] in (201, 202)                          # on SMS, where they last wrote
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "root",
                      {"text": "hi", "channel": "whatsapp"}, groups="[admins]")
    assert status == 409


def test_twilios_refusal_of_an_unsubscribed_number_is_learned(desk):
    twilio = FakeTwilio()
    try:
        conv = customer_writes(desk, PHONE, "Where is my order?", "SMopt40")
        _route(desk)
        assert _reply(desk, conv)[0] in (201, 202)
        twilio.script.append((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                    "status": 400}))
        desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url)
        seen = _conversation(desk, conv)
        [failed] = [m for m in seen["messages"] if m["direction"] == "outbound"]
        assert failed["status"] == "failed" and failed["error"]["code"] == "21610"
        assert seen["opted_out"] == ["sms"] and desk.item(f"IDENTITY#phone#{PHONE}")["opted_out_sms"]
        assert agent(desk, "POST", f"/agent/conversations/{conv}/replies/{failed['id']}/retry", "root",
                     groups="[admins]")[0] == 409                         # sending again would only fail again
    finally:
        twilio.close()


def test_the_bot_does_not_answer_an_unsubscribed_customer(desk):
    from tests.integration.test_bot import KB, kb_import
    assert kb_import(desk, KB)[0] == 200
    assert admin_call(desk, "PUT", "/admin/bot", "[admins]", {"enabled": True, "fallback_language": "en",
                                                               "confidence_threshold": 0.26})[0] == 200
    customer_writes(desk, PHONE, "STOP", "SMopt50")
    _route(desk)
    conv = customer_writes(desk, PHONE, "How long does standard delivery take?", "SMopt51")
    _route(desk)
    assert bot_messages(desk, conv) == [] and _conversation(desk, conv)["waiting_since"]   # a person's to read


def _route_twice(desk):
    """The router's work, delivered twice (as SQS may): the second delivery must change nothing."""
    sqs = desk.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=desk.work_queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    received = sqs.receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10,
                                   MessageSystemAttributeNames=["All"])["Messages"]
    for _ in range(2):
        assert desk.invoke("router", sqs_event(received, arn))["batchItemFailures"] == []
    for m in received:
        sqs.delete_message(QueueUrl=desk.work_queue_url, ReceiptHandle=m["ReceiptHandle"])


def _resolve(desk, conv):
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "root", {"status": "resolved"},
                 groups="[admins]")[0] == 200


def _events(seen):
    return [m["event"]["kind"] for m in seen["messages"] if m["direction"] == "system" and m.get("event")]


def test_stop_on_the_only_channel_pauses_the_sla_clocks_and_start_lets_them_run_again(desk):
    conv = customer_writes(desk, PHONE, "Where is my order?", "SMopt60")
    _route(desk)
    assert _conversation(desk, conv)["sla"]["first_response_due_at"]
    # When the customer texts STOP before anyone answered (and the router gets the work twice)
    customer_writes(desk, PHONE, "STOP", "SMopt61")
    _route_twice(desk)
    # Then no response can be late: the clocks pause, once, with an entry saying why
    seen = _conversation(desk, conv)
    assert seen["sla"]["first_response_due_at"] is None and seen["status"] == "open"
    assert _events(seen).count("clocks_paused_unsubscribed") == 1
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("DEADLINE#")]
    # And START: they run again from where they stopped
    customer_writes(desk, PHONE, "START", "SMopt62")
    _route(desk)
    seen = _conversation(desk, conv)
    assert seen["sla"]["first_response_due_at"] and _events(seen).count("clocks_resumed_subscribed") == 1


def test_what_a_customer_writes_while_unsubscribed_is_read_but_starts_no_late_response(desk):
    conv = customer_writes(desk, PHONE, "Where is my order?", "SMopt65")
    _route(desk)
    customer_writes(desk, PHONE, "STOP", "SMopt66")
    _route(desk)
    # When they write again by SMS, still unsubscribed (Twilio delivers it; nothing can go back)
    customer_writes(desk, PHONE, "hello? any news?", "SMopt67")
    _route(desk)
    # Then a person reads it, and no response clock runs for it
    seen = _conversation(desk, conv)
    assert seen["messages"][-1]["text"] == "hello? any news?" and seen["status"] == "open"
    assert seen["sla"]["first_response_due_at"] is None
    assert _events(seen).count("clocks_paused_unsubscribed") == 1


def test_stop_with_another_channel_on_the_conversation_leaves_the_clocks_running(desk):
    body = twilio_form(MessageSid="SMopt70", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100",
                       Body="Where is my order?")
    assert post_twilio(desk, body, url=TWILIO_URL)["statusCode"] == 200
    conv = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    _route(desk)
    customer_writes(desk, PHONE, "STOP", "SMopt71")                       # SMS only: WhatsApp still reaches them
    _route(desk)
    seen = _conversation(desk, conv)
    assert seen["opted_out"] == ["sms"] and seen["sla"]["first_response_due_at"]
    assert "clocks_paused_unsubscribed" not in _events(seen)


def test_stop_and_start_after_a_resolve_stay_on_the_resolved_conversation(desk):
    online(desk, "alice")
    conv = customer_writes(desk, PHONE, "Where is my order?", "SMopt80")
    _route(desk)
    assert _reply(desk, conv)[0] in (201, 202)
    _resolve(desk, conv)
    # When the customer texts STOP, then START, days later
    for sid, word in (("SMopt81", "Stop"), ("SMopt82", "START")):
        body = twilio_form(MessageSid=sid, From=PHONE, To="+14155550100", Body=word)
        assert post_twilio(desk, body)["statusCode"] == 200
        _route(desk)
    # Then both are on the resolved conversation, which nobody has to open again
    seen = _conversation(desk, conv)
    assert seen["status"] == "resolved" and [m["kind"] for m in seen["messages"] if m["direction"] == "inbound"] \
        == ["text", "opt_out", "opt_in"]
    kept = [m["event"]["params"] for m in seen["messages"] if m.get("event", {}) and
            m["event"]["kind"] == "kept_resolved"]
    assert kept == [{"why": "opt_out", "channel": "sms"}, {"why": "opt_in", "channel": "sms"}]
    identity = desk.item(f"IDENTITY#phone#{PHONE}")
    assert "open_conversation_id" not in identity and "opted_out_sms" not in identity
    assert desk.item("AGENT#alice")["active"] == 0
    listed = agent(desk, "GET", "/agent/conversations", "root", query="view=all", groups="[admins]")[1]["items"]
    assert [(c["id"], c["status"]) for c in listed] == [(conv, "resolved")]


def test_a_stop_from_someone_with_no_conversation_is_resolved_not_queued(desk):
    online(desk, "alice")
    # When a number shopdesk never talked to texts STOP (and the router gets the work twice)
    customer_writes(desk, PHONE, "STOP", "SMopt90")
    conv = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    _route_twice(desk)
    # Then there is nothing to answer: resolved by the system with the reason, nobody's capacity taken
    seen = _conversation(desk, conv)
    assert (seen["status"], seen["assignee"], seen["waiting_since"]) == ("resolved", None, None)
    assert _events(seen) == ["nothing_to_answer"]
    assert desk.item("AGENT#alice")["active"] == 0
    # And what they write next is a conversation for a person, as always
    assert customer_writes(desk, PHONE, "Where is my order?", "SMopt91") != conv
