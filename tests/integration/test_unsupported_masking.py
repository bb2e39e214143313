"""What a webhook could not store as a message is kept (``UNSUPPORTED#<day>``) with a bounded copy of what came: that
copy is masked as a message is, card numbers and IBANs never in the table, its ids and where it is left as they are."""

from __future__ import annotations

import json

from tests.integration.helpers import post_twilio
from tests.integration.test_unsupported_items import _post_whatsapp, _records, _text_message, _whatsapp
from tests.support import twilio_form

CARD, IBAN = "4111 1111 1111 1111", "NL91ABNA0417164300"
SAID = f"my card is {CARD} and my IBAN {IBAN}"


def _kept(desk, provider: str) -> str:
    [record] = [r for r in _records(desk) if r["provider"] == provider]
    return json.dumps(record, default=str, ensure_ascii=False)


def test_an_unreadable_items_copy_is_masked_before_it_is_kept(desk):
    # When a WhatsApp message and an SMS from senders that are no phone numbers say a card number and an IBAN
    wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert _post_whatsapp(desk, _whatsapp(_text_message(wamid, "not-a-phone", SAID)))["statusCode"] == 200
    assert post_twilio(desk, twilio_form(MessageSid="SMbadcard1", From="not a number", To="+14155550100",
                                         Body=SAID))["statusCode"] == 200
    # And a mail without a From says them too
    raw = f"To: support@shop.example\r\nSubject: card\r\n\r\n{SAID}\r\n".encode()
    desk.client("s3").put_object(Bucket=desk.env["MAIL_BUCKET"], Key="raw/nofrom-card", Body=raw)
    desk.invoke("inbound_email", {"Records": [{"s3": {"bucket": {"name": desk.env["MAIL_BUCKET"]},
                                                      "object": {"key": "raw/nofrom-card"}}}]})
    # Then each record keeps the item, masked: the last four digits, no number
    for provider in ("whatsapp_cloud", "twilio", "email"):
        kept = _kept(desk, provider)
        assert "1111 1111 1111" not in kept and "4111111111111111" not in kept and IBAN not in kept, kept
        assert "[card •••• 1111]" in kept, kept
    # while what names the item and where it is stays as it came
    assert wamid in _kept(desk, "whatsapp_cloud") and "not-a-phone" in _kept(desk, "whatsapp_cloud")
    assert "SMbadcard1" in _kept(desk, "twilio") and "not a number" in _kept(desk, "twilio")
    assert '"key": "raw/nofrom-card"' in _kept(desk, "email")
