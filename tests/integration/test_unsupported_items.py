"""What a signed webhook brings that cannot be stored as a message is kept and said, never dropped.

Each channel: the answer counts it (``unsupported``), the log has a warning with the provider's id,
and the day's unsupported record has a bounded copy. Oversized content is stored truncated with a
marker; a store that is down still fails the request (5xx), so the provider retries.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shopdesk import clock
from shopdesk.bounds import STORE_DEPTH, TRUNCATED
from shopdesk.channels import meta
from shopdesk.dal.table import Table
from shopdesk.dal.unsupported import UnsupportedLog
from shopdesk.logic import webhooks
from shopdesk.logs import FunctionFailed
from tests.integration.helpers import agent, post_twilio
from tests.support import http_event, sample, twilio_form

WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def _post_whatsapp(desk: Any, doc: dict[str, Any], **overrides: str) -> dict[str, Any]:
    body = json.dumps(doc)
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(body.encode(), "test_app_secret")}
    return desk.invoke("inbound_whatsapp", http_event("POST", "/webhooks/whatsapp", body, headers), **overrides)


def _whatsapp(*messages: Any) -> dict[str, Any]:
    doc = json.loads(sample("meta_whatsapp", "text")[0])
    doc["entry"][0]["changes"][0]["value"]["messages"] = list(messages)
    return doc


def _text_message(mid: str, sender: Any, text: str = "hello") -> dict[str, Any]:
    return {"from": sender, "id": mid, "timestamp": "1700000000", "type": "text", "text": {"body": text}}


def _records(desk: Any) -> list[dict[str, Any]]:
    return UnsupportedLog(Table(desk.table_name)).list_day(clock.iso(clock.now())[:10])


@pytest.fixture
def warnings(monkeypatch) -> list[dict[str, Any]]:
    """The warnings the webhook logic logs, each as its message plus its extra keys."""
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(webhooks.logger, "warning",
                        lambda message, extra=None, **_: seen.append({"message": message, **(extra or {})}))
    return seen


def _conversations(desk: Any) -> list[dict[str, Any]]:
    return agent(desk, "GET", "/agent/conversations", "alice", query="view=all")[1]["items"]


def test_whatsapp_message_from_an_unusable_sender_is_counted_logged_and_kept(desk, warnings):
    result = _post_whatsapp(desk, _whatsapp(_text_message(WAMID, "not-a-phone", "where is my parcel?")))
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["unsupported"] == 1 and json.loads(result["body"])["stored"] == 0
    [warning] = [w for w in warnings if w["message"] == "unsupported webhook item"]
    assert warning["item_id"] == WAMID and warning["provider"] == "whatsapp_cloud" and "sender" in warning["reason"]
    [record] = _records(desk)
    assert record["provider"] == "whatsapp_cloud" and record["count"] == 1
    assert record["items"][0]["item_id"] == WAMID and record["items"][0]["raw"]["text"]["body"] == "where is my parcel?"
    assert _conversations(desk) == []
    # the provider repeats the request: the same record again, not a second one
    _post_whatsapp(desk, _whatsapp(_text_message(WAMID, "not-a-phone", "where is my parcel?")))
    assert len(_records(desk)) == 1


def test_one_bad_message_in_a_batch_does_not_cost_the_others(desk):
    result = _post_whatsapp(desk, _whatsapp(_text_message("wamid.bad", {"nested": [1]}), 42,
                                            _text_message("wamid.good", "16505551234", "fine")))
    answer = json.loads(result["body"])
    assert result["statusCode"] == 200 and answer["stored"] == 1 and answer["unsupported"] == 2
    assert [c["last_message_preview"] for c in _conversations(desk)] == ["fine"]
    assert [i.get("item_id") for i in _records(desk)[0]["items"]] == ["wamid.bad", None]


def test_messenger_event_without_a_usable_sender_is_kept(desk, warnings):
    doc = json.loads(sample("meta_messenger", "text")[0])
    event = doc["entry"][0]["messaging"][0]
    event["sender"] = {"id": "x" * 5_000}
    body = json.dumps(doc)
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(body.encode(), "test_app_secret")}
    result = desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", body, headers))
    assert result["statusCode"] == 200 and json.loads(result["body"])["unsupported"] == 1
    assert [w["item_id"] for w in warnings] == [event["message"]["mid"]]
    assert _records(desk)[0]["provider"] == "messenger"


def test_telegram_update_with_media_fields_of_the_wrong_type_still_arrives(desk):
    update = json.loads(sample("telegram", "photo_with_caption")[0])
    for size in update["message"]["photo"]:
        size["mime_type"], size["file_name"] = {"odd": True}, ["not", "a", "name"]
    body = json.dumps(update)
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}
    result = desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, headers))
    assert result["statusCode"] == 200 and json.loads(result["body"])["stored"] == 1


def test_telegram_update_nested_hundreds_of_levels_deep_is_stored_bounded(desk):
    update = json.loads(sample("telegram", "text_captured")[0])
    deep: Any = "bottom"
    for _ in range(400):
        deep = {"x": deep}
    update["message"]["poll"] = deep
    del update["message"]["text"]
    body = json.dumps(update)
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": "test_secret_token-1"}
    result = desk.invoke("inbound_telegram", http_event("POST", "/webhooks/telegram", body, headers))
    assert result["statusCode"] == 200 and json.loads(result["body"])["stored"] == 1
    [conv] = _conversations(desk)
    [message] = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    assert message["kind"] == "unsupported"


def test_twilio_message_from_an_unusable_sender_is_acknowledged_and_kept(desk, warnings):
    result = post_twilio(desk, twilio_form(MessageSid="SMbad0001", From="not a number", To="+14155550100",
                                           Body="hello"))
    assert result["statusCode"] == 200 and result["body"].startswith("<?xml")
    assert json.loads(result["headers"]["X-Shopdesk-Outcome"])["unsupported"] == 1
    assert [w["item_id"] for w in warnings] == ["SMbad0001"]
    [record] = _records(desk)
    assert record["provider"] == "twilio" and record["items"][0]["raw"]["From"] == "not a number"


def test_a_text_too_long_for_one_item_is_stored_truncated_with_a_marker(desk):
    result = _post_whatsapp(desk, _whatsapp(_text_message("wamid.long", "16505551234", "é" * 300_000)))
    assert result["statusCode"] == 200 and json.loads(result["body"])["stored"] == 1
    [conv] = _conversations(desk)
    [message] = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    assert message["text"].startswith("ééé") and TRUNCATED in message["text"] and message["text"].endswith("bytes]")


def test_an_unsupported_message_nested_deeply_keeps_a_bounded_raw_copy(desk):
    deep: Any = {"leaf": "x"}
    for _ in range(300):
        deep = [deep]
    message = {"from": "16505551234", "id": "wamid.deep", "timestamp": "1700000000", "type": "hologram",
               "hologram": {"layers": deep}}
    assert _post_whatsapp(desk, _whatsapp(message))["statusCode"] == 200
    [conv] = _conversations(desk)
    [message] = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    item = desk.item(f"CONV#{conv['id']}", f"MSG#{message['created_at'][:23]}Z#{message['id']}")
    assert item["truncated"] == ["payload"]
    depth, level, leaves = 0, [item["payload"]], []
    while level:
        depth += 1
        leaves += [v for v in level if isinstance(v, str)]
        level = [v for node in level if isinstance(node, dict | list)
                 for v in (node.values() if isinstance(node, dict) else node)]
    assert depth - 1 <= STORE_DEPTH and any(leaf.startswith(TRUNCATED + ": nested deeper") for leaf in leaves)


def test_raw_mail_without_a_sender_is_kept_as_unsupported(desk):
    raw = b"To: support@shop.example\r\nSubject: who am I\r\n\r\nno From header\r\n"
    desk.client("s3").put_object(Bucket=desk.env["MAIL_BUCKET"], Key="raw/nofrom", Body=raw)
    event = {"Records": [{"s3": {"bucket": {"name": desk.env["MAIL_BUCKET"]}, "object": {"key": "raw/nofrom"}}}]}
    desk.invoke("inbound_email", event)
    [record] = _records(desk)
    assert record["provider"] == "email" and record["items"][0]["raw"]["key"] == "raw/nofrom"
    assert "no From header" in record["items"][0]["raw"]["start"]


def test_a_store_that_is_down_still_fails_the_request_so_the_provider_retries(desk):
    with pytest.raises(FunctionFailed) as failed:
        _post_whatsapp(desk, _whatsapp(_text_message("wamid.retry", "16505551234")), TABLE_NAME="no-such-table")
    assert isinstance(failed.value.__context__, ClientError)


def test_an_unreadable_message_of_a_known_customer_shows_on_their_open_conversation(desk):
    assert _post_whatsapp(desk, _whatsapp(_text_message("wamid.first", "16505551234", "hi")))["statusCode"] == 200
    doc = _whatsapp(_text_message("wamid.odd", "16505551234", "second"))
    doc["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "9" * 2_000    # no shop address is that
    answer = json.loads(_post_whatsapp(desk, doc)["body"])
    assert answer["unsupported"] == 1 and answer["stored"] == 0
    [conv] = _conversations(desk)
    messages = agent(desk, "GET", f"/agent/conversations/{conv['id']}", "alice")[1]["messages"]
    [note] = [m for m in messages if m["kind"] == "unsupported"]
    assert note["direction"] == "system" and "shop_address" in note["text"]
    # (structured for the inbox to word: a stable reason, and the models' words as the text has them)
    assert note["event"]["kind"] == "unsupported" and note["event"]["params"]["reason"] == "invalid"
    assert note["event"]["params"]["detail"] in note["text"] and "shop_address" in note["event"]["params"]["detail"]
    item = desk.item(f"CONV#{conv['id']}", f"MSG#{note['created_at'][:23]}Z#{note['id']}")
    assert item["payload"]["raw"]["text"]["body"] == "second"
