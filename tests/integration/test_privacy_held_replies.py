"""A reply the erase holds (queued, its part on its way to the provider, no provider id yet) whose send is recorded
between the erase's last read and its deletion of the reply: the erase learns the provider ids from the reply it
deletes, so no marker naming the conversation stays, only the hash of each id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.integration.helpers import agent, online
from tests.integration.test_privacy import NAME, PHONE, TEXT, _job, scan, whatsapp


def test_a_send_recorded_after_the_erase_s_last_read_leaves_no_marker_of_the_reply(desk, monkeypatch):
    from shopdesk.dal.conversations import Conversations
    from shopdesk.privacy.erase import Eraser
    from tests.support import FakeTwilio
    # Given alice's reply to a customer, queued for sending
    conv = whatsapp(desk, TEXT, "SMheld1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": "Dear Wilhelmina, the teapot ships today"})
    assert status == 202, reply
    # and the dispatcher, which sends it (its intent recorded before the erase held it) and records the send after the
    # erase's last read (the reply held, with no provider id) and before the erase deletes the reply
    twilio = FakeTwilio()
    record_send, erase = Conversations.record_send, Eraser.erase
    jobs: list[dict[str, Any]] = []
    recorded: list[tuple[Any, ...]] = []

    def erase_now(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Conversations, "record_send", record_send)

        def recorded_then_erase(eraser: Any, subject: Any, *erase_args: Any) -> Any:
            monkeypatch.setattr(Eraser, "erase", erase)
            [held] = [row for row in subject.of_type("message") if row.get("direction") == "outbound"]
            assert held.get("erasing") and not held.get("provider_id"), held
            recorded.append((record_send(self, *args, **kwargs), kwargs["provider_id"]))
            return erase(eraser, subject, *erase_args)

        monkeypatch.setattr(Eraser, "erase", recorded_then_erase)
        jobs.append(_job(desk, "erase", customer))
        return recorded[0][0]

    monkeypatch.setattr(Conversations, "record_send", erase_now)
    try:
        # When the dispatcher takes the reply off the outbound queue
        assert desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url) == 1
    finally:
        twilio.close()
    # Then the reply went out and its send was recorded on the held reply; the erase finished and left no marker
    # naming the conversation (the provider's id, which for WhatsApp encodes the number), only the hash of the id
    assert len(twilio.requests) == 1 and [j["status"] for j in jobs] == ["done"] and len(recorded) == 1
    provider_id = recorded[0][1]
    assert desk.item(f"EXTMSG#twilio#{provider_id}") is None
    assert desk.item("ERASEDMSG#twilio#sha256:" + hashlib.sha256(provider_id.encode()).hexdigest()) is not None
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "teapot", provider_id):
        assert trace not in everything, trace
