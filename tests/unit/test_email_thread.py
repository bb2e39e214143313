"""What keeps a message we send by email in the customer's thread (shopdesk.logic.email_thread)."""

from __future__ import annotations

import pytest

from shopdesk.logic.email_thread import email_thread, reply_address_for, thread_references
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


def test_a_long_thread_keeps_its_first_id_and_the_latest_so_the_answer_names_the_first_and_last_three():
    # Given a mail whose References names 29 earlier mails (a client that trims none)
    earlier = [f"m{n}@example.de" for n in range(29)]
    # When its route keeps what our answer needs
    kept = thread_references(earlier, "m29@example.de")
    # Then the thread's first id and the latest two: the answer's References adds the mail's own id after them
    assert kept == ["m0@example.de", "m27@example.de", "m28@example.de"]


@pytest.mark.parametrize(("references", "message_id", "kept"), [
    ([], "m0@x", []),                                           # the thread's first mail: its id is In-Reply-To
    (["m0@x"], "m1@x", ["m0@x"]),
    (["m0@x", "m1@x", "m2@x"], "m3@x", ["m0@x", "m1@x", "m2@x"]),     # four ids in all: nothing trimmed
    (["m0@x", "m1@x", "m2@x", "m3@x"], None, ["m0@x", "m1@x", "m2@x", "m3@x"]),
    ([f"m{n}@x" for n in range(9)], None, ["m0@x", "m6@x", "m7@x", "m8@x"]),  # no id of its own: the last three
    (["m0@x", "m1@x", "m1@x", "m2@x"], "m2@x", ["m0@x", "m1@x"]),   # a repeated id, its own id among them
])
def test_short_threads_are_kept_whole_and_no_id_twice(references, message_id, kept):
    assert thread_references(references, message_id) == kept
