"""Whose is a message stored before messages named their identity, in the conversation of a customer once merged with
the data subject (``privacy.subject._unnamed_theirs``): hers only when it came while the merge held, on a kind of
identity only her side had at it."""

from __future__ import annotations

from typing import Any

from shopdesk.privacy.subject import Subject, _unnamed_theirs

AT, UNMERGED = "2026-03-01T10:00:00.000Z", "2026-03-05T10:00:00.000Z"


def _subject(her: list[str], theirs: list[str], unmerged_at: str | None = UNMERGED) -> Subject:
    subject = Subject("u_her", customer_ids=["u_her"])
    merge = {"survivor_id": "u_them", "merged_id": "u_her", "at": AT, "survivor_identities": theirs,
             "merged_identities": her, **({"unmerged_at": unmerged_at} if unmerged_at else {})}
    subject.add([{"PK": "MERGE#mg_1", "SK": "META", "type": "merge", "status": "merged", "merge": merge}])
    return subject


def _inbound(channel: str, at: str, **more: Any) -> dict[str, Any]:
    return {"type": "message", "direction": "inbound", "channel": channel, "created_at": at, **more}


def test_a_message_on_a_kind_only_she_had_while_merged_is_hers_and_not_before_or_after():
    theirs = _unnamed_theirs(_subject(["email#her@example.com"], ["phone#+31655507771"]), "u_them")
    assert theirs(_inbound("email", "2026-03-02T09:00:00.000Z"))
    assert not theirs(_inbound("email", "2026-02-28T09:00:00.000Z"))      # before the merge
    assert not theirs(_inbound("email", "2026-03-06T09:00:00.000Z"))      # after the unmerge
    assert not theirs(_inbound("sms", "2026-03-02T09:00:00.000Z"))        # theirs: the phone was theirs
    assert not theirs(_inbound("whatsapp", "2026-03-02T09:00:00.000Z"))   # the phone too


def test_a_message_on_a_kind_both_had_is_not_taken_for_hers():
    theirs = _unnamed_theirs(_subject(["phone#+31655507772"], ["phone#+31655507771"]), "u_them")
    assert not theirs(_inbound("sms", "2026-03-02T09:00:00.000Z"))


def test_a_message_naming_an_identity_is_judged_by_it_not_here_and_another_customer_s_merge_counts_not():
    subject = _subject(["whatsapp#x", "phone#+31655507772"], ["email#them@example.com"])
    theirs = _unnamed_theirs(subject, "u_them")
    assert not theirs(_inbound("sms", "2026-03-02T09:00:00.000Z", identity="phone#+31655507771"))
    assert theirs(_inbound("whatsapp", "2026-03-02T09:00:00.000Z"))
    assert not _unnamed_theirs(subject, "u_someone_else")(_inbound("whatsapp", "2026-03-02T09:00:00.000Z"))


def test_a_merge_not_undone_holds_until_now():
    theirs = _unnamed_theirs(_subject(["email#her@example.com"], ["phone#+31655507771"], None), "u_them")
    assert theirs(_inbound("email", "2026-12-01T09:00:00.000Z"))


def test_a_whatsapp_message_is_judged_by_both_kinds_a_whatsapp_customer_writes_from():
    # WhatsApp Cloud names a customer without a number by their user id (``whatsapp#<id>``), not the phone: a
    # WhatsApp message of then may be either kind's
    their_whatsapp = _unnamed_theirs(_subject(["phone#+31655507772"], ["whatsapp#bsuid-them"]), "u_them")
    assert not their_whatsapp(_inbound("whatsapp", "2026-03-02T09:00:00.000Z"))   # it may be theirs: it stays
    assert their_whatsapp(_inbound("sms", "2026-03-02T09:00:00.000Z"))             # SMS is only the phone: hers
    her_whatsapp = _unnamed_theirs(_subject(["whatsapp#bsuid-her"], ["email#them@example.com"]), "u_them")
    assert her_whatsapp(_inbound("whatsapp", "2026-03-02T09:00:00.000Z"))          # only she wrote on WhatsApp
    assert not her_whatsapp(_inbound("sms", "2026-03-02T09:00:00.000Z"))           # nobody had the phone
