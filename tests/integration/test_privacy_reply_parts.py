"""A reply sent in several provider messages (a file a message on WhatsApp) has a provider marker per part; the erase
deletes every part's marker, not only the first's, and leaves a hash of each id."""

from __future__ import annotations

import hashlib
import json

from tests.integration.helpers import agent, online
from tests.integration.test_attachments import PDF, PNG, upload
from tests.integration.test_privacy import NAME, PHONE, TEXT, _job, scan, whatsapp
from tests.support import FakeTwilio


def test_an_erase_deletes_the_marker_of_every_part_of_a_reply_sent_in_several(desk):
    # Given alice's reply to a WhatsApp customer with its text, an image and a PDF: three messages to Twilio
    conv = whatsapp(desk, TEXT, "SMparts1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    files = [upload(desk, "label.png", "image/png", PNG, conv), upload(desk, "invoice.pdf", "application/pdf", PDF,
                                                                        conv)]
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": "Dear Wilhelmina, the teapot ships today", "attachments": files})
    assert status == 202, reply
    twilio = FakeTwilio()
    try:
        assert desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url) == 1
    finally:
        twilio.close()
    [sent] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("id") == reply["id"]]
    ids = list(sent["part_ids"])
    assert len(twilio.requests) == len(ids) == 2 and sent["provider_id"] == ids[0], sent
    assert all(desk.item(f"EXTMSG#twilio#{pid}") is not None for pid in ids)
    # When an admin erases the customer
    assert _job(desk, "erase", customer)["status"] == "done"
    # Then no part's marker is left (they name the conversation and the reply), only a hash of each id
    for pid in ids:
        assert desk.item(f"EXTMSG#twilio#{pid}") is None, pid
        assert desk.item("ERASEDMSG#twilio#sha256:" + hashlib.sha256(pid.encode()).hexdigest()) is not None, pid
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, PHONE, *ids):
        assert trace not in everything, trace


def test_an_erase_deletes_the_markers_of_parts_only_receipts_told_the_reply_of(desk):
    import pytest
    from botocore.exceptions import ClientError

    from shopdesk.ids import send_reference
    from tests.integration.test_send_once import _reply_record_refused
    # Given alice's reply sent in two provider messages whose record reached the markers but not the reply, whose
    # parts the receipts with our reference confirmed: the reply knows its ids only in ``confirmed``
    conv = whatsapp(desk, TEXT, "SMparts2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "It ships today"})[0] == 202
    conversations = desk.handler("dispatcher").conversations
    sk, _ = conversations.find_message(conv, lambda m: m.direction.value == "outbound")
    assert conversations.record_intent(conv, sk, part=1, attempt=1, reference=send_reference(conv, sk, 1))
    with _reply_record_refused(conversations.table, conv), pytest.raises(ClientError):
        conversations.record_send(conv, sk, provider="twilio", provider_id="SMconf0", status="accepted",
                                  attempts=1, other_ids=["SMconf1"])
    for part, pid in enumerate(("SMconf0", "SMconf1")):
        conversations.apply_receipt("twilio", pid, "delivered", None, reference=send_reference(conv, sk, part))
    [sent] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"] == sk]
    assert not sent.get("provider_id") and sent["confirmed"] == {"0": "SMconf0", "1": "SMconf1"}, sent
    assert all(desk.item(f"EXTMSG#twilio#{pid}") is not None for pid in ("SMconf0", "SMconf1"))
    # When an admin erases the customer
    assert _job(desk, "erase", customer)["status"] == "done"
    # Then neither part's marker is left, only a hash of each id
    for pid in ("SMconf0", "SMconf1"):
        assert desk.item(f"EXTMSG#twilio#{pid}") is None, pid
        assert desk.item("ERASEDMSG#twilio#sha256:" + hashlib.sha256(pid.encode()).hexdigest()) is not None, pid
    assert "SMconf" not in json.dumps(scan(desk), default=str)
