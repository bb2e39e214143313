"""What keeps a message we send by email in the customer's thread (shopdesk.logic.email_thread)."""

from __future__ import annotations

import pytest

from shopdesk.logic.email_thread import email_thread, reply_address_for
from shopdesk.models import ReplyRoute


def _route(subject: str | None) -> ReplyRoute:
    return ReplyRoute(channel="email", to="jonas@example.de", sender="support@shop.example", provider="ses",
                      context={"subject": subject, "message_id": "<j2@example.de>", "references": ["<j1@example.de>"]})


@pytest.mark.parametrize(("theirs", "ours"), [
    ("Frage zur Lieferung", "Re: Frage zur Lieferung"),
    ("Re: Frage zur Lieferung", "Re: Frage zur Lieferung"),
    ("AW: Frage zur Lieferung", "AW: Frage zur Lieferung"),     # Outlook in German: not "Re: AW: ..."
    ("SV: Leverans", "SV: Leverans"),
])
def test_the_subject_answers_the_customers_with_one_reply_prefix(theirs, ours):
    subject, payload = email_thread(_route(theirs), reply_address_for("c_1", "support@shop.example"))
    assert subject == ours
    assert payload == {"email": {"in_reply_to": "<j2@example.de>", "references": ["<j1@example.de>"],
                                 "reply_address": "reply+c_1@shop.example"}}


def test_nothing_off_email_and_no_reply_address_without_a_shop_address():
    assert email_thread(ReplyRoute(channel="sms", to="+1", sender="+2")) == (None, {})
    assert reply_address_for("c_1", "") is None
