"""A Message-ID is the sender's word, not a provider's: two people's mails that carry the same one (a contact form or
a mailer that reuses a fixed id, or a stranger copying one from a thread he was sent) are two messages, each stored,
each with its own files; the same sender's mail delivered again is still one."""

from __future__ import annotations

import urllib.request
from email.message import EmailMessage

from tests.integration.test_email import _conversations, _deliver, _eml, _messages

REUSED = "<contact-form@shop.example>"


def _inbound(desk) -> dict[str, list[dict]]:
    """Each conversation's customer's messages, by the customer's address."""
    found: dict[str, list[dict]] = {}
    for conv in _conversations(desk):
        address = conv["customer"]["identities"][0]["address"]
        found[address] = [m for m in _messages(desk, conv["id"]) if m["direction"] == "inbound"]
    return found


def _with_file(sender: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "support@shop.example", "Photo", REUSED
    msg.set_content("See the file.")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="order.pdf")
    return bytes(msg)


def test_two_senders_mails_with_one_message_id_are_both_stored_and_a_redelivery_of_either_is_a_no_op(desk):
    # Given Ann's mail, stored
    ann = _eml(sender="Ann One <ann@customer.example>", body="Ann asks about wombats\n", message_id=REUSED)
    assert _deliver(desk, ann, "ann") == {"stored": 1, "duplicates": 0}
    # When Ben's mail comes with the same Message-ID: it is his message, stored, not Ann's delivered again
    ben = _eml(sender="Ben Two <ben@customer.example>", body="Ben asks about kangaroos\n", message_id=REUSED)
    assert _deliver(desk, ben, "ben") == {"stored": 1, "duplicates": 0}
    inbound = _inbound(desk)
    assert [m["text"] for m in inbound["ann@customer.example"]] == ["Ann asks about wombats"]
    assert [m["text"] for m in inbound["ben@customer.example"]] == ["Ben asks about kangaroos"]
    # And SES delivering either mail again stores nothing more
    assert _deliver(desk, ben, "ben-again") == {"stored": 0, "duplicates": 1}
    assert _deliver(desk, ann, "ann-again") == {"stored": 0, "duplicates": 1}
    assert {a: len(ms) for a, ms in _inbound(desk).items()} == {"ann@customer.example": 1, "ben@customer.example": 1}


def test_a_second_senders_file_under_a_reused_message_id_never_replaces_the_first_senders(desk):
    # Given Ann's mail with a file, and Ben's with a file of the same name under the same Message-ID
    _deliver(desk, _with_file("ann@customer.example", b"%PDF-1.4 ann's invoice"), "ann")
    _deliver(desk, _with_file("ben@customer.example", b"%PDF-1.4 ben's invoice"), "ben")
    # Then each one's message links to their own file
    inbound = _inbound(desk)
    for address, content in (("ann@customer.example", b"%PDF-1.4 ann's invoice"),
                             ("ben@customer.example", b"%PDF-1.4 ben's invoice")):
        [message] = inbound[address]
        [attachment] = message["attachments"]
        with urllib.request.urlopen(attachment["url"], timeout=10) as response:
            assert response.read() == content, address


def test_a_mail_under_a_stored_message_id_from_the_same_address_never_replaces_its_files(desk):
    # Given Ann's mail with a file, stored
    assert _deliver(desk, _with_file("ann@customer.example", b"%PDF-1.4 ann's invoice"), "ann")["stored"] == 1
    # When a mail From her address (which a domain without DMARC lets anyone write) comes under her Message-ID with
    # another file of that name: a duplicate, as her mail delivered again is
    assert _deliver(desk, _with_file("ann@customer.example", b"%PDF-1.4 other bank details"), "forged") == {
        "stored": 0, "duplicates": 1}
    # Then her message still links to her own file
    [message] = _inbound(desk)["ann@customer.example"]
    [attachment] = message["attachments"]
    with urllib.request.urlopen(attachment["url"], timeout=10) as response:
        assert response.read() == b"%PDF-1.4 ann's invoice"
