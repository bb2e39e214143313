"""Privacy over the real handlers: masking at ingest, retention on the items, the audit trail, and a
customer's export and erase run by the privacy function from its queue."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from datetime import timedelta
from typing import Any

import pytest

from shopdesk import clock
from tests.integration.helpers import agent, customer_writes, handed_over, online, post_twilio, teams
from tests.support import http_event, presigned_seconds, twilio_form

PHONE = "+31655501234"
NAME = "Wilhelmina Vermeulen"
TEXT = "Wilhelmina here, my card is 4111 1111 1111 1111 and IBAN NL91 ABNA 0417 1643 00, order please"
ADMIN = {"cognito:username": "root", "name": "Root", "cognito:groups": "[admins]", "token_use": "id"}


def admin(desk: Any, method: str, path: str, body: Any = None, query: str = "", claims: dict | None = None
          ) -> tuple[int, Any]:
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json", "user-agent": "pytest"}, query=query,
                       claims=claims or ADMIN)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def scan(desk: Any) -> list[dict[str, Any]]:
    from shopdesk.dal.table import deserialize
    pages = desk.client("dynamodb").get_paginator("scan").paginate(TableName=desk.table_name)
    return [deserialize(item) for page in pages for item in page["Items"]]


def run_jobs(desk: Any) -> None:
    desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")


def whatsapp(desk: Any, text: str, sid: str) -> str:
    form = twilio_form(MessageSid=sid, From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100", Body=text,
                       ProfileName=NAME)
    assert post_twilio(desk, form)["statusCode"] == 200
    return desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]


def test_card_numbers_and_ibans_are_masked_before_anything_is_stored(desk):
    # Given an admin's own pattern (a Dutch citizen number), set before the inbound function starts
    status, saved = admin(desk, "PUT", "/admin/privacy/settings",
                          {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}],
                           "retention": {"messages_days": 30, "dedupe_markers_days": 10}})
    assert status == 200 and saved["version"] == 1
    from tests.integration.test_live import Stream
    stream = Stream(desk)
    # When a customer writes a card number, an IBAN and the pattern
    conv = whatsapp(desk, TEXT + " BSN 123456782", "SMmask1")
    # Then no item of the whole table, no record of its stream (every write, not only the last) and no message of
    # the work queue holds any of them, in any form the customer typed it or with its separators taken out
    secrets = ("4111 1111 1111 1111", "4111111111111111", "NL91 ABNA 0417 1643 00", "NL91ABNA0417164300", "NL91 ABNA",
               "0417 1643", "BSN 123456782", "123456782")
    sqs, queued = desk.client("sqs"), []
    while read := sqs.receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10).get("Messages", []):
        queued += read
    records = stream.read()["Records"]
    for place, held in (("table", scan(desk)), ("stream", records), ("work queue", queued)):
        text = json.dumps(held, default=str, ensure_ascii=False)
        for secret in secrets:
            assert secret not in text, (place, secret)
    assert queued and records                   # (there was something to look at)
    for read in queued:                         # visible again at once: the router below takes them
        sqs.change_message_visibility(QueueUrl=desk.work_queue_url, ReceiptHandle=read["ReceiptHandle"],
                                      VisibilityTimeout=0)
    # and the message keeps the last four and says what was masked
    items = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    message = next(i for i in items if i["SK"].startswith("MSG#"))
    assert "[card •••• 1111]" in message["text"] and "[IBAN •••• 4300]" in message["text"]
    assert "[BSN •••• 6782]" in message["text"]
    assert message["masked"] == ["card", "IBAN", "BSN"]
    # and the agent sees that something was masked
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, seen = agent(desk, "GET", f"/agent/conversations/{conv}", "alice")
    assert status == 200 and seen["messages"][0]["masked"] == ["card", "IBAN", "BSN"]
    # and the retention applies: the message expires in 30 days, its provider marker in 10
    now = clock.now().timestamp()
    assert abs(int(message["ttl"]) - (now + 30 * 86400)) < 120
    assert abs(int(desk.item("EXTMSG#twilio#SMmask1")["ttl"]) - (now + 10 * 86400)) < 120


def test_a_card_number_typed_full_width_or_pasted_with_invisible_characters_is_stored_masked(desk):
    # Given a customer who types their card number with a Japanese input method: full-width digits and hyphens
    typed = "\uff0d".join(["\uff14\uff11\uff11\uff11"] + ["\uff11\uff11\uff11\uff11"] * 3)
    conv = customer_writes(desk, "+31655501299", f"my card {typed}", "SMmaskfw1")
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # When an agent notes the number pasted from a web page: soft hyphens between the groups, a zero-width space in one
    pasted = "4111\u00ad1111\u00ad11\u200b11\u00ad1111"
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": f"card {pasted}"})
    assert status == 201, note
    # Then the message, the note and the conversation's preview keep the last four digits only
    items = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    messages = {i["direction"]: i for i in items if i["SK"].startswith("MSG#")}
    assert (messages["inbound"]["text"], messages["inbound"].get("masked")) == ("my card [card •••• 1111]", ["card"])
    assert (messages["note"]["text"], messages["note"].get("masked")) == ("card [card •••• 1111]", ["card"])
    assert next(i for i in items if i["SK"] == "META")["last_message_preview"] == "my card [card •••• 1111]"
    # and no item holds the number in any form
    stored = json.dumps(scan(desk), default=str, ensure_ascii=False)
    for secret in (typed, pasted, "4111111111111111", "\uff14\uff11\uff11\uff11"):
        assert secret not in stored, secret


def test_a_card_number_after_an_order_number_or_a_dash_is_stored_masked_and_the_order_number_kept(desk):
    from email.message import EmailMessage

    from tests.integration.test_email import _deliver
    # Given a customer who gives the order number, then the card on the next line, and one who writes it after a dash
    conv = customer_writes(desk, "+31655501298", "Order 1001\n4111 1111 1111 1111 exp 12/27", "SMmaskrun1")
    dashed = customer_writes(desk, "+31655501297", "My card\u20145555555555554444 please refund there", "SMmaskrun2")
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # and a mail whose sender's name and text hold a card after a number
    mail = EmailMessage()
    mail["From"], mail["To"] = '"Uma 7 4000 0566 5566 5556" <uma@customer.example>', "support@shop.example"
    mail["Subject"], mail["Message-ID"] = "Refund", "<run1@customer.example>"
    mail.set_content("Refund order 1001\n4000 0566 5566 5556 thanks\n")
    assert _deliver(desk, bytes(mail), "run1") == {"stored": 1, "duplicates": 0}
    # When an agent notes the order number and the card on one line
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                         {"text": "customer gave order 1001 4000 0566 5566 5556"})
    assert status == 201, note
    # Then the messages, the note, the preview and the sender's name hold the card masked and the order number as typed
    items = scan(desk)
    messages = {i["direction"]: i for i in items if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#")}
    assert (messages["inbound"]["text"], messages["inbound"].get("masked")) == (
        "Order 1001\n[card •••• 1111] exp 12/27", ["card"])
    assert (messages["note"]["text"], messages["note"].get("masked")) == (
        "customer gave order 1001 [card •••• 5556]", ["card"])
    assert desk.item(f"CONV#{conv}")["last_message_preview"] == "Order 1001\n[card •••• 1111] exp 12/27"
    [dashed_message] = [i for i in items if i["PK"] == f"CONV#{dashed}" and i.get("direction") == "inbound"]
    assert dashed_message["text"] == "My card\u2014[card •••• 4444] please refund there"
    identity = desk.item("IDENTITY#email#uma@customer.example")
    [mailed] = [i for i in items if i["PK"] == f"CONV#{identity['open_conversation_id']}"
                and i.get("direction") == "inbound"]
    assert mailed["text"].startswith("Refund order 1001\n[card •••• 5556] thanks"), mailed["text"]
    assert desk.item(f"CUSTOMER#{identity['customer_id']}", "META")["name"] == "Uma 7 [card •••• 5556]"
    # and no item, nor the mail SES stored, holds a card number as typed
    raw = desk.client("s3").get_object(Bucket=desk.env["MAIL_BUCKET"], Key="raw/run1")["Body"].read()
    stored = json.dumps(items, default=str, ensure_ascii=False) + raw.decode("utf-8", "replace")
    for secret in ("4111 1111 1111 1111", "5555555555554444", "4000 0566 5566 5556", "4000056655665556"):
        assert secret not in stored, secret


def test_a_card_split_over_two_lines_or_two_html_blocks_is_stored_masked(desk):
    from email.message import EmailMessage

    from tests.integration.test_email import _deliver
    # Given a customer who types a card over two lines between an order number and its expiry
    conv = customer_writes(desk, "+31655501296", "Order 1001\n4111 1111\n1111 1111\n12/27", "SMmasksplit1")
    # and two mails: one whose only text is HTML with the card in two paragraphs, one whose plain part a mail client
    # wrapped in the middle of the card and whose HTML part has it in two blocks
    mails = []
    for index, sender in enumerate(("vera@customer.example", "wim@customer.example")):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = sender, "support@shop.example", "Refund"
        mail["Message-ID"] = f"<split{index}@customer.example>"
        if index == 0:
            mail.set_content("<p>Please refund to 4000 0566</p>\n<p>5566 5556</p>", subtype="html")
        else:
            mail.set_content("Please refund to 4000 0566 5566\n5556, thanks\n")
            mail.add_alternative("<div>Please refund to 4000 0566 5566</div><div>5556, thanks</div>", subtype="html")
        assert _deliver(desk, bytes(mail), f"split{index}") == {"stored": 1, "duplicates": 0}
        mails.append(sender)
    # Then the messages hold the card masked, its last four kept, the numbers around it as typed, and say so
    items = scan(desk)
    [typed] = [i for i in items if i["PK"] == f"CONV#{conv}" and i.get("direction") == "inbound"]
    assert (typed["text"], typed.get("masked")) == ("Order 1001\n[card •••• 1111]\n12/27", ["card"])
    texts = []
    for sender in mails:
        identity = desk.item(f"IDENTITY#email#{sender}")
        [mailed] = [i for i in items if i["PK"] == f"CONV#{identity['open_conversation_id']}"
                    and i.get("direction") == "inbound"]
        texts.append((mailed["text"], mailed.get("masked")))
    assert texts == [("Please refund to [card •••• 5556]", ["card"]),
                     ("Please refund to [card •••• 5556], thanks", ["card"])]
    # and no item, nor the mails SES stored, holds the card's first groups
    raws = [desk.client("s3").get_object(Bucket=desk.env["MAIL_BUCKET"], Key=f"raw/split{index}")["Body"].read()
            for index in range(2)]
    stored = json.dumps(items, default=str, ensure_ascii=False) + "".join(r.decode("utf-8", "replace") for r in raws)
    for secret in ("4111 1111", "4000 0566", "0566 5566", "40000566"):
        assert secret not in stored, secret


def test_a_privacy_save_changes_the_fields_it_gives_and_keeps_the_others(desk):
    # Given a retention and a masking pattern
    bsn = {"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}
    status, first = admin(desk, "PUT", "/admin/privacy/settings",
                          {"masking_patterns": [bsn], "retention": {"messages_days": 30, "audit_days": 400}})
    assert status == 200, first
    # When a script saves the patterns alone, then the audit trail's retention alone
    status, patterns = admin(desk, "PUT", "/admin/privacy/settings",
                             {"masking_patterns": [bsn, {"name": "Member", "pattern": r"M-\d{6}"}]})
    assert status == 200, patterns
    status, audit_only = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"audit_days": 500}})
    assert status == 200, audit_only
    # Then each kept what it did not name: the retention (no job started: nothing stored changed), the patterns
    assert patterns["retention"]["messages_days"] == 30 and patterns["retention"]["audit_days"] == 400
    assert patterns.get("retention_job_id") is None
    assert audit_only["retention"] == {**first["retention"], "audit_days": 500}
    assert [p["name"] for p in audit_only["masking_patterns"]] == ["BSN", "Member"]
    # and a value given as none is none: the messages kept until erased
    status, kept = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": None}})
    assert status == 200 and kept["retention"]["messages_days"] is None and kept["retention"]["audit_days"] == 500


def test_a_pattern_that_is_not_a_regular_expression_is_refused(desk):
    status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                            {"masking_patterns": [{"name": "Broken", "pattern": "(unclosed"}]})
    assert status == 422 and "regular expression" in json.dumps(problem)
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["masking_patterns"] == []


def test_a_pattern_that_backtracks_without_end_is_refused_and_one_stored_before_withholds_the_text(desk):
    from shopdesk.dal.config import ConfigStore
    from shopdesk.dal.table import Table
    from shopdesk.privacy import settings
    runaway = {"name": "Runaway", "pattern": "(a|aa)+$"}
    # An admin's pattern that would stall every message is refused, naming the field
    status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                            {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}, runaway]})
    assert status == 422, problem
    assert [e["loc"] for e in problem["errors"]] == [["body", "masking_patterns", 1, "pattern"]]
    assert "takes too long" in problem["detail"]
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["masking_patterns"] == []
    # One stored before that check (or slow only on some text) stops at ingest: the webhook answers, and the text
    # the pattern could not be applied to is withheld, not stored unmasked
    ConfigStore(Table(desk.table_name)).put(settings.KIND, settings.KEY, {"masking_patterns": [runaway]}, None)
    conv = whatsapp(desk, "my card 4111 1111 1111 1111 " + "a" * 60 + "!", "SMslow1")
    [message] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#")]
    assert message["text"] == "[Runaway ••••: the text could not be checked in time and is withheld]"
    assert message["masked"] == ["card", "Runaway"]


def test_a_pattern_that_would_mask_every_message_is_refused_and_one_stored_before_masks_only_what_it_matches(desk):
    from shopdesk.dal.config import ConfigStore
    from shopdesk.dal.table import Table
    from shopdesk.privacy import settings
    # \\d* for \\d+ (a typo) matches the empty text between every letter; "." and \\w+ match everything: each
    # would have masked every message, and what masking takes is never stored
    for i, pattern in enumerate((r"\d*", r"\b", ".", r"\w+")):
        status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                                {"masking_patterns": [{"name": "Order", "pattern": r"ORD-\d+"},
                                                      {"name": "Typo", "pattern": pattern}]})
        assert status == 422, (pattern, problem)
        assert [e["loc"] for e in problem["errors"]] == [["body", "masking_patterns", 1, "pattern"]], pattern
        assert ("empty text" if i < 2 else "ordinary message") in problem["detail"], problem
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["masking_patterns"] == []
    # One stored before the check masks what it matches and leaves the rest of the message as it was
    ConfigStore(Table(desk.table_name)).put(settings.KIND, settings.KEY,
                                            {"masking_patterns": [{"name": "Typo", "pattern": r"\d*"}]}, None)
    conv = whatsapp(desk, "Hello, my order ORD-5521 came broken", "SMbroad1")
    [message] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#")]
    assert message["text"] == "Hello, my order ORD-[Typo ••••] came broken"


def test_a_pattern_that_matches_three_characters_or_less_is_refused_and_a_shops_own_ids_are_saved(desk):
    # \\d+ would mask every size, quantity and price, in new messages and, once saved, in what is stored, for good
    for pattern, shortest in ((r"\d+", "1 character"), (r"\b\d{3}\b", "3 characters"), (r"(?=ORD)", "empty text")):
        status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                                {"masking_patterns": [{"name": "Order", "pattern": r"ORD-\d{6}"},
                                                      {"name": "Short", "pattern": pattern}]})
        assert status == 422, (pattern, problem)
        assert [e["loc"] for e in problem["errors"]] == [["body", "masking_patterns", 1, "pattern"]], pattern
        assert shortest in problem["detail"], problem
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["masking_patterns"] == []
    patterns = [{"name": "Order", "pattern": r"ORD-\d{6}"}, {"name": "BSN", "pattern": r"BSN:?\s?\d{9}"},
                {"name": "Loyalty", "pattern": r"LOY\d{8}"}]
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"masking_patterns": patterns})
    assert status == 200 and saved["masking_patterns"] == patterns



def test_a_pattern_is_judged_as_the_regex_package_that_masks_with_it_reads_it(desk):
    from shopdesk.dal.config import ConfigStore
    from shopdesk.dal.table import Table
    from shopdesk.privacy import settings
    # Python's re reads [[:digit:]] as a set of ":digt[" then a "]": [[:digit:]][[:digit:]] was saved, and its masking
    # job masked every size, price and day in what was stored, for good
    for pattern, why in ((r"[[:digit:]][[:digit:]]", "as short as 2 characters"),
                         (r"\p{N}\p{N}(?= USD)", "as short as 2 characters"),
                         (r"(?V1)[[0-9]--[5]]{3}", "as short as 3 characters"),
                         (r"(?:ORD-\d{6}){e<=1}", "fuzzy matching"), (r"ORD-\K\d{2}", "\\K starts the match later"),
                         # "Order" is all it matches in short words, and it masked " Z" in messages
                         (r"(?:Order|ZZ){e<=1}", "fuzzy matching"),
                         # measured by its last definition (10 wide), it masked the day of "2025-11-30"
                         (r"(?|(\d)|(\d{9}))\1", "defined more than once")):
        status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                                {"masking_patterns": [{"name": "Order", "pattern": r"ORD-\d{6}"},
                                                      {"name": "Two", "pattern": pattern}]})
        assert status == 422, (pattern, problem)
        assert [e["loc"] for e in problem["errors"]] == [["body", "masking_patterns", 1, "pattern"]], pattern
        assert why in problem["detail"], (pattern, problem)
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["masking_patterns"] == []
    patterns = [{"name": "Order", "pattern": r"ORD-[[:digit:]]{6}"}, {"name": "Code", "pattern": r"\p{Lu}{2}\d{6}"}]
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"masking_patterns": patterns})
    assert status == 200 and saved["masking_patterns"] == patterns
    # A pattern stored before the check never masks inside what another masked: the order's last four stay
    ConfigStore(Table(desk.table_name)).put(settings.KIND, settings.KEY,
                                            {"masking_patterns": [{"name": "Order", "pattern": r"ORD-\d{6}"},
                                                                  {"name": "Two", "pattern": r"\d{2}"}]}, None)
    conv = whatsapp(desk, "Order ORD-777777, card 4111 1111 1111 1111, size 42", "SMlabels1")
    [message] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#")]
    assert message["text"] == "Order [Order •••• 7777], card [card •••• 1111], size [Two ••••]"

def test_a_too_short_pattern_stored_before_the_check_is_kept_with_a_warning_and_the_rest_still_saves(desk):
    from shopdesk.dal.config import ConfigStore
    from shopdesk.dal.table import Table
    from shopdesk.privacy import settings
    # Given a shop that saved \\d{3} before patterns under four characters were refused (what is stored is masked
    # with it already: refusing it now protects nothing, and would refuse every save of the settings)
    ConfigStore(Table(desk.table_name)).put(settings.KIND, settings.KEY,
                                            {"masking_patterns": [{"name": "Ref", "pattern": r"\d{3}"}]}, None)
    stored = [{"name": "Ref", "pattern": r"\d{3}"}]
    # When an admin changes the retention alone, or saves the patterns back as they are
    for body in ({"retention": {"messages_days": 365}}, {"masking_patterns": stored}):
        status, saved = admin(desk, "PUT", "/admin/privacy/settings", body)
        # Then it is saved, the stored pattern kept, and the answer says what is wrong with it
        assert status == 200, (body, saved)
        assert saved["masking_patterns"] == stored and saved["retention"]["messages_days"] == 365
        assert [w["loc"] for w in saved["masking_warnings"]] == [["body", "masking_patterns", 0, "pattern"]]
        assert "as short as 3 characters" in saved["masking_warnings"][0]["msg"]
        assert saved.get("masking_job_id") is None                  # nothing stored is masked again
    # A pattern added or changed in the save is still refused, and the save with it
    for patterns in ([*stored, {"name": "Size", "pattern": r"\d+"}], [{"name": "Ref", "pattern": r"\d{2}"}],
                     [{"name": "Code", "pattern": r"\d{3}"}]):
        status, problem = admin(desk, "PUT", "/admin/privacy/settings",
                                {"masking_patterns": patterns, "retention": {"messages_days": 30}})
        assert status == 422, (patterns, problem)
        assert [e["loc"] for e in problem["errors"]] == [["body", "masking_patterns", len(patterns) - 1, "pattern"]]
    status, read = admin(desk, "GET", "/admin/privacy/settings")
    assert read["retention"]["messages_days"] == 365 and read["masking_warnings"] == saved["masking_warnings"]
    # Once replaced by a pattern of its own, nothing is left to warn of
    status, saved = admin(desk, "PUT", "/admin/privacy/settings",
                          {"masking_patterns": [{"name": "Ref", "pattern": r"REF-\d{6}"}]})
    assert status == 200 and saved["masking_warnings"] == []


def test_the_audit_trail_is_kept_at_least_a_year_whatever_an_admin_saves(desk):
    # An admin cannot have their own later actions forgotten by shortening the trail's retention
    status, problem = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"audit_days": 1}})
    assert status == 422 and [e["loc"] for e in problem["errors"]] == [["body", "retention", "audit_days"]]
    assert admin(desk, "GET", "/admin/privacy/settings")[1]["retention"]["audit_days"] == 730
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"audit_days": 365}})
    assert status == 200 and saved["retention"]["audit_days"] == 365


def test_reading_a_customer_and_changing_settings_are_audited_with_who_where_and_before_after(desk):
    conv = customer_writes(desk, PHONE, "Hello", "SMaudit1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # When alice reads the customer's profile and an admin changes routing
    assert agent(desk, "GET", f"/agent/customers/{customer}", "alice")[0] == 200
    assert admin(desk, "PUT", "/admin/routing", {"sticky_days": 3})[0] == 200
    # Then the trail has both: by actor, by customer, with where it came from
    status, by_alice = admin(desk, "GET", "/admin/audit", query="actor=alice")
    assert status == 200
    read = next(r for r in by_alice["items"] if r["action"] == "customer.read")
    assert read["customer_id"] == customer and read["source_ip"] == "203.0.113.9" and read["status"] == 200
    assert any(r["action"] == "PUT /agent/me/presence" for r in by_alice["items"])
    by_customer = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    assert {r["action"] for r in by_customer} >= {"customer.read"}
    assert all(r["customer_id"] == customer for r in by_customer)
    routing = next(r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                   if r["action"] == "PUT /admin/routing")
    assert routing["before"]["acknowledgements"] is False and routing["after"]["sticky_days"] == 3
    assert routing["user_agent"] == "test"            # requestContext.http.userAgent
    # and by time alone, newest first
    recent = admin(desk, "GET", "/admin/audit")[1]["items"]
    assert [r["at"] for r in recent] == sorted((r["at"] for r in recent), reverse=True)
    assert {read["id"], routing["id"]} <= {r["id"] for r in recent}
    # and from a moment still to come until now: nothing yet, not an error; an explicit range the wrong way round
    # is one
    future = admin(desk, "GET", "/admin/audit", query="from=2099-01-01T00:00:00Z")
    assert future == (200, {"items": [], "next_cursor": None})
    assert admin(desk, "GET", "/admin/audit", query="from=2099-01-02T00:00:00Z&to=2099-01-01T00:00:00Z")[0] == 400
    # and no record holds the customer's phone
    assert PHONE not in json.dumps([i for i in scan(desk) if i.get("type") == "audit"])
    # and a supervisor may not read it
    supervisor = {**ADMIN, "cognito:username": "sam", "cognito:groups": "[supervisors]"}
    assert admin(desk, "GET", "/admin/audit", claims=supervisor)[0] == 403


def test_turning_the_bot_and_the_survey_on_is_audited_with_before_and_after(desk):
    # Given the bot and the satisfaction survey off
    # When an admin turns each on
    assert admin(desk, "PUT", "/admin/bot", {"enabled": True, "channels": ["whatsapp"]})[0] == 200
    assert admin(desk, "PUT", "/admin/csat", {"enabled": True, "delay_s": 300})[0] == 200
    # Then the trail says what each change was, as it does for routing
    records = {r["action"]: r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]}
    bot, csat = records["PUT /admin/bot"], records["PUT /admin/csat"]
    assert bot["before"] is None and bot["after"]["enabled"] is True and bot["after"]["channels"] == ["whatsapp"]
    assert csat["before"] is None and csat["after"]["enabled"] is True and csat["after"]["delay_s"] == 300
    # and a second change names what it was before
    assert admin(desk, "PUT", "/admin/bot", {"enabled": False})[0] == 200
    latest = next(r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                  if r["action"] == "PUT /admin/bot")
    assert latest["before"]["enabled"] is True and latest["after"]["enabled"] is False
    assert (latest["before"]["version"], latest["after"]["version"]) == (1, 2)


def test_renaming_and_retiring_a_label_is_audited_with_before_and_after(desk):
    # Given a label
    assert admin(desk, "PUT", "/admin/labels/shipping", {"name": "Shipping", "color": "#2f80ed"})[0] == 200
    # When an admin renames it, then retires it
    assert admin(desk, "PUT", "/admin/labels/shipping", {"name": "Delivery", "color": "#2f80ed"})[0] == 200
    assert admin(desk, "POST", "/admin/labels/shipping/retire")[0] == 200
    # Then the trail says what each change was
    records = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
               if r["target"] == "label_id=shipping"]
    retired, renamed, created = records[:3]
    assert created["before"] is None and created["after"]["name"] == "Shipping"
    assert (renamed["before"]["name"], renamed["after"]["name"]) == ("Shipping", "Delivery")
    assert (retired["before"]["retired"], retired["after"]["retired"]) == (False, True)


def test_shared_canned_responses_macros_and_articles_are_audited_with_before_and_after_but_not_their_words(desk):
    # Given a shared canned response, a shared macro and a knowledge-base article, each changed, then deleted
    body, body_es, note = "Your parcel left our warehouse today.", "Tu paquete salió hoy.", "Told them it shipped"
    canned = {"title": "Shipped", "shortcode": "shipped", "bodies": {"en": body}}
    macro = {"name": "Shipped", "actions": [{"type": "set_priority", "priority": "low"}]}
    article = {"title": "Delivery times", "body": "Parcels arrive within three working days.", "language": "en"}
    for path, first, second in [
            ("/admin/canned-responses/shipped", canned, {**canned, "bodies": {"en": body, "es": body_es}}),
            ("/admin/macros/shipped", macro, {**macro, "actions": [*macro["actions"], {"type": "note", "text": note}]}),
            ("/admin/kb/articles/delivery", article, {**article, "tags": ["shipping"]})]:
        assert admin(desk, "PUT", path, first)[0] == 200, path
        assert admin(desk, "PUT", path, second)[0] == 200, path
        assert admin(desk, "DELETE", path)[0] in (200, 204), path
    records = admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]

    def trail(target: str) -> list[dict[str, Any]]:
        """created, changed, deleted"""
        return [r for r in reversed(records) if r["target"] == target]

    # Then each record says what it was before and after
    created, changed, deleted = trail("response_id=shipped")
    assert created["before"] is None and created["after"]["shortcode"] == "shipped"
    assert list(changed["before"]["bodies"]) == ["en"] and list(changed["after"]["bodies"]) == ["en", "es"]
    assert changed["before"]["bodies"]["en"] == changed["after"]["bodies"]["en"]      # the same words: unchanged
    assert deleted["before"]["version"] == 2 and deleted["after"] is None
    created, changed, deleted = trail("macro_id=shipped")
    assert created["before"] is None and created["after"]["actions"] == macro["actions"]
    assert [a["type"] for a in changed["after"]["actions"]] == ["set_priority", "note"]
    assert deleted["before"]["name"] == "Shipped" and deleted["after"] is None
    created, changed, retired = trail("article_id=delivery")
    assert created["before"] is None and created["after"]["title"] == "Delivery times"
    assert (changed["before"]["tags"], changed["after"]["tags"]) == ([], ["shipping"])
    assert (retired["before"]["status"], retired["after"]["status"]) == ("published", "retired")
    # and none holds the words written: a fingerprint says whether they changed
    written = json.dumps(records, ensure_ascii=False)
    assert not any(words in written for words in (body, body_es, note, article["body"]))


def test_a_conversation_opened_with_its_customer_is_one_audit_record_naming_what_it_revealed(desk):
    conv = customer_writes(desk, PHONE, "Hello", "SMaudit2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")

    def opened() -> list[dict[str, Any]]:
        return [r for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
                if r["action"] == "conversation.opened"]
    # When alice reads the conversation alone, and with the assist panel (neither reveals the customer's profile)
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 200
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query="include=assist")[0] == 200
    # Then one record says she read it (its messages, the customer's name and phone); the second read, within its
    # window, is none
    [plain] = opened()
    assert plain["actor"] == "alice" and plain["details"] is None
    # When she opens it with the customer's profile, duplicates and orders
    status, body = agent(desk, "GET", f"/agent/conversations/{conv}", "alice",
                         query="include=customer,duplicates,orders,assist")
    assert status == 200 and body["included"]["customer"]["id"] == customer
    # Then one record says who saw which of them, about whom
    record, _ = opened()
    assert record["actor"] == "alice" and record["conversation_id"] == conv and record["status"] == 200
    assert record["details"]["included"] == ["customer", "duplicates", "orders"]
    # and another team's agent gets the 404 of a missing conversation, and nothing is recorded
    assert agent(desk, "GET", "/agent/me", "zoe")[0] == 200
    teams(desk, "billing")
    assert admin(desk, "PUT", "/admin/agents/zoe", {"teams": ["billing"], "capacity": 3})[0] == 200
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "zoe", query="include=customer")[0] == 404
    assert len(opened()) == 2


def test_an_audit_record_is_written_once_and_never_replaced(desk):
    from shopdesk.dal.audit import AuditLog
    from shopdesk.dal.table import ConditionFailed, Table
    log = AuditLog(Table(desk.table_name))
    record = {"id": "a_1", "at": "2026-12-01T10:00:00.000Z", "actor": "alice", "action": "customer.read"}
    log.append(record, None)
    with pytest.raises(ConditionFailed):
        log.append({**record, "actor": "mallory"}, None)
    assert log.by_actor("alice", "2026-12-01", "2026-12-02", 10, None)[0] == [record]
    assert log.by_actor("mallory", "2026-12-01", "2026-12-02", 10, None)[0] == []


def test_an_audit_page_by_actor_and_customer_is_full_and_its_cursor_goes_on_where_it_stopped(desk):
    from shopdesk.dal.audit import AuditLog
    from shopdesk.dal.table import Table
    log = AuditLog(Table(desk.table_name))
    now = clock.now()
    # Given a customer's records, alice's one in three (bob's and the privacy jobs' between them) ...
    for n in range(12):
        log.append({"id": f"a_{n:02d}", "at": clock.iso(now - timedelta(minutes=60 - n)), "action": "customer.read",
                    "actor": ("alice", "bob", "system:privacy")[n % 3], "customer_id": "u_pages"}, None)
    # ... and newer records of alice about other customers
    for n in range(6):
        log.append({"id": f"b_{n:02d}", "at": clock.iso(now - timedelta(minutes=30 - n)), "action": "customer.read",
                    "actor": "alice", "customer_id": f"u_other{n}"}, None)
    # When an admin pages through alice's records about the customer two at a time
    pages, cursor = [], None
    for _ in range(5):
        query = "actor=alice&customer_id=u_pages&limit=2" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, body = admin(desk, "GET", "/admin/audit", query=query)
        assert status == 200, body
        pages.append([r["id"] for r in body["items"]])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    # Then each page is full, newest first, and the cursors miss nothing (a page read from alice's index and then
    # filtered came back empty with a cursor: a screen showed "no record matches" for records that exist)
    assert pages[:2] == [["a_09", "a_06"], ["a_03", "a_00"]]
    assert [i for page in pages for i in page] == ["a_09", "a_06", "a_03", "a_00"] and cursor is None


MISSING = "c_01MISSING00000000000000000"


def _denied(desk: Any, query: str) -> list[dict[str, Any]]:
    status, body = admin(desk, "GET", "/admin/audit", query=query)
    assert status == 200, body
    assert all(r["outcome"] == "denied" for r in body["items"])
    return body["items"]


def _another_team(desk: Any) -> tuple[str, str]:
    """A WhatsApp conversation of team default that alice holds, and vera, an agent of team returns: (the
    conversation, its customer)."""
    teams(desk, "returns")
    assert agent(desk, "GET", "/agent/me", "vera")[0] == 200
    assert admin(desk, "PUT", "/admin/agents/vera", {"capacity": 3, "teams": ["returns"]})[0] == 200
    online(desk, "alice")
    conv = whatsapp(desk, "Where is my order?", "SMdenied1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    return conv, desk.item(f"CONV#{conv}")["customer"]["id"]


def test_another_teams_conversation_asked_for_is_a_denied_record_that_says_it_was_hidden(desk):
    conv, customer = _another_team(desk)
    # When vera (team returns) opens alice's conversation, writes a note and a reply on it, reads its customer,
    # applies a macro to it, and opens a conversation that does not exist
    hidden = agent(desk, "GET", f"/agent/conversations/{conv}", "vera")
    missing = agent(desk, "GET", f"/agent/conversations/{MISSING}", "vera")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "vera", {"text": "psst VIP-7781"})[0] == 404
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "vera", {"text": "hello VIP-7781"})[0] == 404
    assert agent(desk, "GET", f"/agent/customers/{customer}", "vera")[0] == 404
    macro = {"name": "Tag", "actions": [{"type": "set_priority", "priority": "high"}]}
    assert agent(desk, "PUT", "/agent/macros/tag", "vera", macro)[0] == 200
    status, applied = agent(desk, "POST", "/agent/macros/tag/apply", "vera", {"conversation_ids": [conv]})
    assert status == 200 and applied["results"][0]["problem"]["status"] == 404
    # Then she got the answer of a conversation that does not exist, as before
    assert hidden[0] == missing[0] == 404
    assert json.dumps(hidden[1]).replace(conv, "<id>") == json.dumps(missing[1]).replace(MISSING, "<id>")
    # and the trail has a denied record of each, naming her, the route, what she asked for and from where
    records = {(r["action"], r.get("conversation_id")): r for r in _denied(desk, "actor=vera&outcome=denied")}
    assert set(records) == {
        ("GET /agent/conversations/<conversation_id>", conv), ("GET /agent/conversations/<conversation_id>", MISSING),
        ("POST /agent/conversations/<conversation_id>/notes", conv),
        ("POST /agent/conversations/<conversation_id>/replies", conv),
        ("GET /agent/customers/<customer_id>", None), ("POST /agent/macros/<macro_id>/apply", conv)}
    opened = records[("GET /agent/conversations/<conversation_id>", conv)]
    assert opened["reason"] == "not_visible" and opened["status"] == 404 and opened["customer_id"] == customer
    assert (opened["source_ip"], opened["user_agent"], opened["roles"]) == ("203.0.113.9", "test", [])
    assert opened["target"] == f"conversation_id={conv}" and opened["request_id"]
    # and the trail tells the conversation that does not exist from the hidden one, which her answer did not
    nothing = records[("GET /agent/conversations/<conversation_id>", MISSING)]
    assert nothing["reason"] == "not_found" and nothing["customer_id"] is None
    read = records[("GET /agent/customers/<customer_id>", None)]
    assert (read["reason"], read["customer_id"], read["status"]) == ("not_visible", customer, 404)
    assert {records[k]["reason"] for k in records if k[1] == conv} == {"not_visible"}
    # and an admin finds them by the customer too
    about = _denied(desk, f"customer_id={customer}&outcome=denied")
    assert {r["action"] for r in about} == {a for a, c in records if c == conv} | {"GET /agent/customers/<customer_id>"}
    # and no record holds what she wrote, nor the customer's phone
    trail = json.dumps([i for i in scan(desk) if i.get("type") == "audit"])
    assert "VIP-7781" not in trail and PHONE not in trail


def test_a_role_refused_on_the_admin_and_reports_apis_is_a_denied_record_but_an_invalid_request_is_not(desk):
    _, customer = _another_team(desk)
    # When bob, an agent, calls three admin routes and a report, and sends a routing change the schema refuses
    assert agent(desk, "GET", "/agent/me", "bob")[0] == 200
    bob = {"cognito:username": "bob", "cognito:groups": "[]", "token_use": "id"}
    assert admin(desk, "GET", "/admin/audit", claims=bob)[0] == 403
    assert admin(desk, "PUT", "/admin/routing", {"sticky_days": 3}, claims=bob)[0] == 403
    assert admin(desk, "POST", f"/admin/customers/{customer}/erase", claims=bob)[0] == 403
    assert admin(desk, "PUT", "/admin/routing", {"sticky_days": "many"}, claims=bob)[0] == 422
    report = http_event("GET", "/reports/summary", None, {}, query="from=2026-11-30&to=2026-12-07",
                        claims=bob)
    assert desk.invoke("reports_api", report)["statusCode"] == 403
    # and an admin asks for a macro that does not exist (a 404 of no conversation or customer)
    assert admin(desk, "GET", "/admin/macros/nosuch")[0] == 404
    # Then each refusal of his role is a denied record: forbidden, 403, naming the customer he would have erased
    records = {r["action"]: r for r in _denied(desk, "actor=bob&outcome=denied")}
    assert set(records) == {"GET /admin/audit", "PUT /admin/routing", "POST /admin/customers/<customer_id>/erase",
                            "GET /reports/summary"}
    assert {(r["reason"], r["status"]) for r in records.values()} == {("forbidden", 403)}
    assert records["POST /admin/customers/<customer_id>/erase"]["customer_id"] == customer
    assert records["PUT /admin/routing"]["source_ip"] == "203.0.113.9"
    # and the request the schema refused (never an access check) and the admin's missing macro are none
    assert _denied(desk, "actor=root&outcome=denied") == []
    # and nothing was erased, nor routing changed
    assert desk.item(f"CUSTOMER#{customer}") is not None
    assert admin(desk, "GET", "/admin/routing")[1].get("sticky_days") != 3


def test_a_customer_the_admin_api_answers_404_for_is_a_denied_record_hidden_or_missing(desk):
    _, customer = _another_team(desk)
    unknown = "u_01MISSING00000000000000000"
    # When vera, a supervisor of team returns only, asks the admin API for team default's customer and for one that
    # does not exist
    vera = {"cognito:username": "vera", "cognito:groups": "[supervisors]", "token_use": "id"}
    hidden = admin(desk, "GET", f"/admin/customers/{customer}", claims=vera)
    missing = admin(desk, "GET", f"/admin/customers/{unknown}", claims=vera)
    # and an admin reads, sets the tier of, exports and erases a customer that does not exist
    for method, path, body in (("GET", "", None), ("PUT", "", {"tier": "vip"}), ("POST", "/export", None),
                               ("POST", "/erase", None)):
        assert admin(desk, method, f"/admin/customers/{unknown}{path}", body)[0] == 404
    # Then vera got the same answer for both
    assert hidden[0] == missing[0] == 404
    assert json.dumps(hidden[1]).replace(customer, "<id>") == json.dumps(missing[1]).replace(unknown, "<id>")
    # and each attempt is a denied record, the hidden one under the customer and saying so, as on the agent API
    seen = {r["customer_id"]: r for r in _denied(desk, "actor=vera&outcome=denied")}
    assert set(seen) == {customer, unknown}
    assert {r["action"] for r in seen.values()} == {"GET /admin/customers/<customer_id>"}
    assert (seen[customer]["reason"], seen[unknown]["reason"]) == ("not_visible", "not_found")
    assert all(r["roles"] == ["supervisors"] and r["status"] == 404 for r in seen.values())
    assert [r["action"] for r in _denied(desk, f"customer_id={customer}&outcome=denied")] == [
        "GET /admin/customers/<customer_id>"]
    # and the admin's four attempts are not_found records under the id asked for
    mine = _denied(desk, "actor=root&outcome=denied")
    assert sorted((r["action"], r["reason"], r["status"], r["customer_id"]) for r in mine) == sorted(
        (f"{m} /admin/customers/<customer_id>{p}", "not_found", 404, unknown)
        for m, p in (("GET", ""), ("PUT", ""), ("POST", "/export"), ("POST", "/erase")))


def test_a_supervisor_s_lookup_that_finds_a_customer_hidden_from_them_is_a_denied_record_without_the_address(desk):
    _, customer = _another_team(desk)
    # (and an email address of theirs: their phone's identity item, as a second identity of the same customer)
    email = "wilhelmina@example.com"
    identity = desk.client("dynamodb").get_item(TableName=desk.table_name, Key={
        "PK": {"S": f"IDENTITY#phone#{PHONE}"}, "SK": {"S": "META"}})["Item"]
    desk.client("dynamodb").put_item(TableName=desk.table_name,
                                     Item={**identity, "PK": {"S": f"IDENTITY#email#{email}"}})
    vera = {"cognito:username": "vera", "cognito:groups": "[supervisors]", "token_use": "id"}
    # When vera, a supervisor of team returns only, looks team default's customer up by phone and by email, and
    # looks up a phone number nobody has
    hidden = admin(desk, "GET", "/admin/customers", query=f"phone={urllib.parse.quote(PHONE)}", claims=vera)
    by_email = admin(desk, "GET", "/admin/customers", query=f"email={urllib.parse.quote(email)}", claims=vera)
    nobody = admin(desk, "GET", "/admin/customers", query="phone=%2B31655509999", claims=vera)
    # Then she is answered as if nobody had them (the answers alike)
    assert hidden == by_email == nobody == (200, {"items": []})
    # and each lookup that found the hidden customer is a denied record under them, not an allowed one, saying
    # which kind of address was looked up and never the address
    mine = admin(desk, "GET", "/admin/audit", query="actor=vera")[1]["items"]
    refused = [r for r in mine if r["outcome"] == "denied"]
    assert sorted((r["action"], r["reason"], r["customer_id"], r["details"]["query"]) for r in refused) == [
        ("GET /admin/customers", "not_visible", customer, "email"),
        ("GET /admin/customers", "not_visible", customer, "phone")]
    assert all(r["roles"] == ["supervisors"] and r["status"] == 200 for r in refused)
    assert [r["customer_id"] for r in _denied(desk, f"customer_id={customer}&outcome=denied")] == [customer] * 2
    stored = json.dumps([i for i in scan(desk) if i["PK"].startswith("AUDIT#")], default=str)
    for clear in (PHONE, PHONE.lstrip("+"), email, hashlib.sha256(PHONE.encode()).hexdigest()):
        assert clear not in stored
    # and the lookup of nobody is the allowed lookup it was, under no customer
    found = [r for r in mine if r["outcome"] != "denied"]
    assert [(r["action"], r.get("customer_id")) for r in found] == [("customer.find", None)]


def test_an_agent_taken_off_the_desk_using_their_token_is_a_denied_record_that_says_so(desk):
    conv, customer = _another_team(desk)
    assert agent(desk, "GET", "/agent/me", "bob")[0] == 200
    assert admin(desk, "POST", "/admin/agents/bob/deactivate")[0] == 200
    # When bob, taken off the desk, goes on with the token he holds: his team's conversation, an admin route, a report
    bob = {"cognito:username": "bob", "cognito:groups": "[]", "token_use": "id"}
    status, refused = agent(desk, "GET", f"/agent/conversations/{conv}", "bob")
    assert status == 403 and refused["code"] == "deactivated"
    assert admin(desk, "GET", "/admin/audit", claims=bob)[0] == 403
    report = http_event("GET", "/reports/summary", None, {}, query="from=2026-11-30&to=2026-12-07", claims=bob)
    assert desk.invoke("reports_api", report)["statusCode"] == 403
    # Then each attempt is a denied record saying why (deactivated), naming the conversation he asked for
    records = {r["action"]: r for r in _denied(desk, "actor=bob&outcome=denied")}
    assert set(records) == {"GET /agent/conversations/<conversation_id>", "GET /admin/audit", "GET /reports/summary"}
    assert {(r["reason"], r["status"]) for r in records.values()} == {("deactivated", 403)}
    assert records["GET /agent/conversations/<conversation_id>"]["conversation_id"] == conv
    # and once an admin puts him back, his reads are allowed again and no more denied records are written
    assert admin(desk, "POST", "/admin/agents/bob/reactivate")[0] == 200
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "bob")[0] == 200
    assert len(_denied(desk, "actor=bob&outcome=denied")) == 3
    assert customer


def test_an_agent_of_the_team_reading_its_conversation_and_customer_is_not_denied(desk):
    conv, customer = _another_team(desk)
    # When alice (who holds it) and bob (of her team) read the conversation with its customer, and its customer
    assert agent(desk, "GET", "/agent/me", "bob")[0] == 200
    for who in ("alice", "bob"):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", who, query="include=customer")[0] == 200
        assert agent(desk, "GET", f"/agent/customers/{customer}", who)[0] == 200
    # Then their records are there, allowed, with no reason; none of them is denied
    for who in ("alice", "bob"):
        body = admin(desk, "GET", "/admin/audit", query=f"actor={who}")[1]
        reads = [r for r in body["items"] if r["action"] in ("conversation.opened", "customer.read")]
        assert len(reads) == 2 and all(r["outcome"] == "allowed" and r["reason"] is None for r in reads)
        assert _denied(desk, f"actor={who}&outcome=denied") == []
        allowed = admin(desk, "GET", "/admin/audit", query=f"actor={who}&outcome=allowed")[1]["items"]
        assert {r["id"] for r in reads} <= {r["id"] for r in allowed}
    assert _denied(desk, f"customer_id={customer}&outcome=denied") == []


def test_the_audit_filters_find_denied_records_by_actor_customer_time_and_outcome_a_full_page_at_a_time(desk):
    conv, customer = _another_team(desk)
    start = clock.now()
    # Given vera's three looks at alice's conversation between alice's reads of it
    for _ in range(3):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice", query="include=customer")[0] == 200
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "vera")[0] == 404
    end = clock.now()
    since, until = urllib.parse.quote(clock.iso(start)), urllib.parse.quote(clock.iso(end))
    # When an admin pages through the denied records one at a time, by time alone and by customer and actor
    for base in (f"outcome=denied&from={since}&to={until}", f"outcome=denied&customer_id={customer}",
                 f"outcome=denied&customer_id={customer}&actor=vera"):
        ids, cursor = [], None
        for _ in range(6):
            query = base + "&limit=1" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, body = admin(desk, "GET", "/admin/audit", query=query)
            assert status == 200, body
            ids += [r["id"] for r in body["items"]]
            assert all(r["outcome"] == "denied" and r["actor"] == "vera" for r in body["items"])
            cursor = body.get("next_cursor")
            if not cursor:
                break
        # Then each page holds one, and the three are found, newest first, whatever lies between them
        assert len(ids) == len(set(ids)) == 3, (base, ids)
    # and a period before them finds none; the allowed ones are alice's
    before = urllib.parse.quote(clock.iso(start - timedelta(hours=1)))
    assert _denied(desk, f"outcome=denied&from={before}&to={since}&customer_id={customer}") == []
    allowed = admin(desk, "GET", "/admin/audit", query=f"outcome=allowed&customer_id={customer}")[1]["items"]
    assert allowed and {r["actor"] for r in allowed} == {"alice"}
    assert admin(desk, "GET", "/admin/audit", query="outcome=maybe")[0] == 422


def test_an_agent_guessing_ids_is_recorded_up_to_the_bound_of_a_minute_and_counted_beyond(desk, monkeypatch):
    from shopdesk.privacy import audit
    monkeypatch.setattr(audit, "DENIED_PER_MINUTE", 3)
    _another_team(desk)
    clock.set_offset(61 - clock.now().timestamp() % 60)       # a second into a minute: the guesses fit in it
    # When vera asks for seven conversation ids that do not exist within a minute
    for n in range(7):
        assert agent(desk, "GET", f"/agent/conversations/c_01GUESS{n:019d}", "vera")[0] == 404
    # Then the first three are recorded, the fourth too, saying the bound was reached, and the rest only counted
    records = _denied(desk, "actor=vera&outcome=denied")
    assert len(records) == 4
    assert [r.get("details") for r in records] == [{"bound_reached": 3}, None, None, None]     # newest first
    minute = clock.iso(clock.now())[:16]
    assert desk.item("DENIALS#vera", minute)["count"] == 7
    # and the next minute records her refusals again
    clock.set_offset(clock.offset() + 60)
    assert agent(desk, "GET", f"/agent/conversations/{MISSING}", "vera")[0] == 404
    assert len(_denied(desk, "actor=vera&outcome=denied")) == 5


def test_reading_a_conversation_that_is_gone_again_and_again_is_one_not_found_record_per_agent_and_window(desk):
    conv, customer = _another_team(desk)
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 200
    # Given alice's conversation, its customer erased while an inbox still has it open
    _job(desk, "erase", customer)
    clock.set_offset(61 - clock.now().timestamp() % 60)       # a second into a minute: the reads fit in it

    def gone(actor: str) -> list[dict[str, Any]]:
        return [r for r in _denied(desk, f"actor={actor}&outcome=denied") if r["conversation_id"] == conv]
    # When alice's tab reads it five times (the first read answered 404, each notice or poll after it)
    for _ in range(5):
        assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 404
    # Then the first read is a not_found record and the reads after it within the window are none, only counted
    [first] = gone("alice")
    assert (first["action"], first["reason"], first["status"]) == (
        "GET /agent/conversations/<conversation_id>", "not_found", 404)
    counted = desk.item("DENIALS#alice", clock.iso(clock.now())[:16])
    assert (counted["count"], counted["repeats"]) == (1, 4)         # the repeats spend none of the minute's bound
    # but another agent's read of it is theirs, and a write attempt on it is recorded every time
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "bob")[0] == 404
    assert len(gone("bob")) == 1
    for _ in range(2):
        assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "still there?"})[0] == 404
    assert [r["action"] for r in gone("alice")] == ["POST /agent/conversations/<conversation_id>/notes"] * 2 + [
        "GET /agent/conversations/<conversation_id>"]
    # and a read of what exists but is hidden (another team's) is recorded every time
    other = whatsapp(desk, "Me again", "SMgone2")
    for _ in range(3):
        assert agent(desk, "GET", f"/agent/conversations/{other}", "vera")[0] == 404
    assert [r["reason"] for r in _denied(desk, "actor=vera&outcome=denied")] == ["not_visible"] * 3
    # and once the window is over, alice's read of it is recorded again
    clock.set_offset(clock.offset() + 16 * 60)
    assert agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[0] == 404
    assert [r["action"] for r in gone("alice")].count("GET /agent/conversations/<conversation_id>") == 2


def _job(desk: Any, kind: str, customer: str) -> dict[str, Any]:
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/{kind}")
    assert status == 202, started
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "running"
    run_jobs(desk)
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")
    assert status == 200 and job["status"] == "done", job
    return job


def test_export_is_a_zip_of_everything_about_the_customer(desk):
    conv = whatsapp(desk, "Where is my parcel?", "SMexp1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Tomorrow"})[0] == 202
    # When an admin exports the customer
    job = _job(desk, "export", customer)
    # Then the link, valid for fifteen minutes, gives a zip with the customer, their identity and the conversation
    # with both messages
    assert presigned_seconds(job["download_url"]) == 900
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:   # moto's presigned URL
        archive = zipfile.ZipFile(io.BytesIO(answer.read()))
    data = json.loads(archive.read("data.json"))
    assert data["customer_id"] == customer
    assert data["customers"][0]["name"] == NAME
    assert [i["address"] for i in data["identities"]] == [PHONE]
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert "Where is my parcel?" in texts and "Tomorrow" in texts
    # (the timeline's system entries with their structured form, as stored)
    assert {"kind": "assigned", "params": {"agent": "alice"}} in [m.get("event") for c in data["conversations"]
                                                                   for m in c["messages"]]
    assert any(r["action"] == "customer.export" for r in data["audit"])
    # and the export itself is in the trail
    actions = [r["action"] for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]]
    assert "customer.export" in actions and "customer.export.done" in actions


def _lake_rows(desk: Any, *, erased_applied: bool) -> list[dict[str, Any]]:
    """Every event of the lake (the desk's events bucket, read as the reports read it), through the reports'
    deletion list filter or without it."""
    from shopdesk.analytics.duckdb_lake import S3DuckDbLake
    from shopdesk.analytics.sql import NOT_ERASED
    lake = S3DuckDbLake(desk.env["EVENTS_BUCKET"], "events/", s3=desk.client("s3"))
    where = f" WHERE {NOT_ERASED}" if erased_applied else ""
    return lake.rows("SELECT * FROM {events}" + where)  # noqa: S608 (our own statement)


def _conversations_reported(lake: Any) -> int:
    today = clock.now().date()
    status, body = lake.report("/reports/metrics",
                               f"metric=conversations&from={today}&to={today + timedelta(days=1)}&tz=UTC")
    assert status == 200, body
    return sum(row["value"] for row in body["items"])


def _objects(desk: Any, bucket: str) -> dict[str, str]:
    """Every object of a bucket, by key: its text (a zip's members' text, joined)."""
    s3, found = desk.client("s3"), {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            if body[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(body)) as zipped:
                    body = b"\n".join(zipped.read(name) for name in zipped.namelist())
            found[item["Key"]] = body.decode("utf-8", "replace")
    return found


def _every_object(desk: Any) -> dict[str, dict[str, str]]:
    """Every object of every bucket of the desk (``_objects``): its files, mail, exports and event lake."""
    return {name: _objects(desk, desk.env[name]) for name in ("MEDIA_BUCKET", "MAIL_BUCKET", "EXPORT_BUCKET",
                                                              "EVENTS_BUCKET")}


def test_erase_leaves_nothing_of_the_customer_and_a_replay_stores_nothing(desk):
    from tests.integration.test_analytics import Lake
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])        # the table's stream through the writer into the lake
    conv = whatsapp(desk, TEXT, "SMerase1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    desk.routes_before_agents = False       # (the router runs no more: the other customer's waits, not alice's)
    other = customer_writes(desk, "+31655509999", "Another customer's question", "SMkeep1")   # not routed
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "Wilhelmina is VIP"})[0] == 201
    assert agent(desk, "GET", f"/agent/customers/{customer}", "alice")[0] == 200
    # (a system entry whose event holds what the agent wrote about her: erased with the message)
    assert agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "alice",
                 {"priority": "high", "note": "Wilhelmina asked twice"})[0] == 200
    assert any((i.get("event") or {}).get("params", {}).get("note") == "Wilhelmina asked twice"
               for i in scan(desk) if i["PK"] == f"CONV#{conv}")
    # the lake has both customers' events, and the reports count both conversations
    assert lake.pump()
    rows = _lake_rows(desk, erased_applied=False)
    assert {customer, conv} <= {r["customer_id"] for r in rows} | {r["conversation_id"] for r in rows}
    assert _conversations_reported(lake) == 2
    # and an admin exported her first (a data subject's request: her data, then forget her), and holds its link
    exported = _job(desk, "export", customer)
    with urllib.request.urlopen(exported["download_url"], timeout=10) as answer:
        assert NAME in zipfile.ZipFile(io.BytesIO(answer.read())).read("data.json").decode()
    # When an admin erases the customer
    job = _job(desk, "erase", customer)
    assert job["counts"]["conversations"] == 1 and job["counts"]["exports"] == 1
    lake.pump()
    # Then the lake's queryable rows hold none of their ids (the rows themselves expire with the lake's retention;
    # events carry ids, never names or text), and the reports no longer count them
    kept = _lake_rows(desk, erased_applied=True)
    assert kept and not [r for r in kept if customer in (r["customer_id"], r["conversation_id"])
                         or conv in (r["customer_id"], r["conversation_id"])]
    assert {r["conversation_id"] for r in kept} >= {other}
    assert not [t for t in (NAME, "Wilhelmina", PHONE, PHONE[1:], "order please") if t in json.dumps(kept, default=str)]
    assert _conversations_reported(lake) == 1
    # Then no item of the table holds their name, phone or words
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "order please"):
        assert trace not in everything, trace
    assert desk.item(f"CONV#{conv}") is None and desk.item(f"IDENTITY#phone#{PHONE}") is None
    # and no object of any bucket holds them either: her export is deleted, its job says why and hands out no
    # link, and the link it gave before answers no more
    assert _objects(desk, desk.env["EXPORT_BUCKET"]) == {}
    stored = json.dumps(_every_object(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "order please"):
        assert trace not in stored, trace
    status, after = admin(desk, "GET", f"/admin/privacy/jobs/{exported['job_id']}")
    assert status == 200 and after["status"] == "done" and after["archive_deleted"] == "customer_erased", after
    assert after.get("download_url") is None
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(exported["download_url"], timeout=10)
    # and of the provider's marker only a hash of its id is left
    assert desk.item("EXTMSG#twilio#SMerase1") is None
    assert [i["PK"] for i in scan(desk) if i.get("type") == "erased_marker"] == [
        "ERASEDMSG#twilio#sha256:" + hashlib.sha256(b"SMerase1").hexdigest()]
    # and alice got her seat back
    assert agent(desk, "GET", "/agent/me", "alice")[1]["active"] == 0
    # and the provider's replay of the erased message is refused as a duplicate: nothing comes back
    form = twilio_form(MessageSid="SMerase1", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100", Body=TEXT,
                       ProfileName=NAME)
    assert post_twilio(desk, form)["statusCode"] == 200
    assert desk.item(f"IDENTITY#phone#{PHONE}") is None
    assert NAME not in json.dumps(scan(desk), default=str)
    # and the trail says it was erased, by whom, without the data
    records = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    assert {"customer.erase", "customer.erase.done", "customer.read"} <= {r["action"] for r in records}
    # and an erase of a customer that is gone names the erase that ran
    status, problem = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 409 and problem["code"] == "already_erased" and problem["params"]["job_id"] == job["job_id"]


@pytest.mark.parametrize("moment", ["before_the_erase_holds_them", "after_the_erase_s_last_read"])
def test_a_message_that_comes_while_its_customer_is_erased_leaves_nothing_of_them(desk, monkeypatch, moment):
    from shopdesk.privacy.erase import Eraser
    # Given a customer's conversation
    conv = whatsapp(desk, TEXT, "SMrace1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    # and their next message, which comes while their erase runs: before the erase holds what it read (its marks), or
    # after its last read, as it starts removing what it found
    hooked = "mark" if moment == "before_the_erase_holds_them" else "erase"
    original = getattr(Eraser, hooked)
    came: list[int] = []

    def message_then(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Eraser, hooked, original)
        form = twilio_form(MessageSid="SMrace2", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100",
                           Body="Gerrit-Jan here too, the teapot's lid is cracked", ProfileName=NAME)
        came.append(post_twilio(desk, form)["statusCode"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Eraser, hooked, message_then)
    # When an admin erases the customer, and what Twilio's request left for a replay is replayed after the erase
    job = _job(desk, "erase", customer)
    assert came == [200]
    desk.drain_queue(desk.env["INGEST_RETRY_QUEUE_URL"], "inbound_twilio")
    # Then nothing of the customer is left: their message was erased with the rest (stored before the hold, found by
    # the erase's last read), or refused while the erase ran and dropped by its replay (it came before the erase)
    assert job["counts"]["conversations"] == 1
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "order please", "Gerrit-Jan", "teapot"):
        assert trace not in everything, trace
    stored = json.dumps(_every_object(desk), default=str)
    for trace in (NAME, PHONE, PHONE[1:], "Gerrit-Jan", "teapot"):
        assert trace not in stored, trace
    assert desk.item(f"IDENTITY#phone#{PHONE}") is None and desk.item(f"CONV#{conv}") is None
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    # and the number writing after the erase is a new customer, with no link to the erased one
    again = whatsapp(desk, "Hello, a new question", "SMrace3")
    assert again != conv and desk.item(f"CONV#{again}")["customer"]["id"] != customer
    assert desk.item(f"IDENTITY#phone#{PHONE}")["customer_id"] != customer


@pytest.mark.parametrize("write", ["an_agent_s_reply", "a_note", "the_router_s_acknowledgement"])
def test_a_reply_note_or_acknowledgement_written_after_the_erase_s_last_read_leaves_nothing(desk, monkeypatch, write):
    from shopdesk.privacy.erase import Eraser
    from tests.integration.helpers import outbound_sent
    from tests.integration.test_acknowledgements import _turn_on
    # Given a customer's conversation: alice's, or (for the acknowledgement) with its first message not routed yet
    if write == "the_router_s_acknowledgement":
        _turn_on(desk)
        desk.routes_before_agents = False
    conv = whatsapp(desk, TEXT, "SMlate1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    if write != "the_router_s_acknowledgement":
        online(desk, "alice")
        desk.drain_queue(desk.work_queue_url, "router")
        assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    outbound_sent(desk)
    # and a write on its timeline that lands after the erase's last read, as the erase starts removing what it found:
    # alice's reply naming her, alice's note (no mention: a lone entry), or the router's acknowledgement of her message
    original = Eraser.erase
    answers: list[int] = []

    def write_then(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Eraser, "erase", original)
        if write == "an_agent_s_reply":
            answers.append(agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                                 {"text": "Dear Wilhelmina, the teapot ships today"})[0])
        elif write == "a_note":
            answers.append(agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                                 {"text": "Wilhelmina wants the teapot gift-wrapped"})[0])
        else:
            desk.drain_queue(desk.work_queue_url, "router")
            answers.append(0)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Eraser, "erase", write_then)
    # When an admin erases the customer
    job = _job(desk, "erase", customer)
    assert job["status"] == "done" and answers
    # Then the write was refused (the agent told the conversation is gone) or erased with the rest: nothing is left
    # under the conversation, no item or object holds her, and no reply of hers waits to be sent
    assert answers[0] in (0, 404), answers
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "order please", "teapot"):
        assert trace not in everything, trace
    stored = json.dumps(_every_object(desk), default=str)
    for trace in (NAME, PHONE, PHONE[1:], "teapot"):
        assert trace not in stored, trace
    assert outbound_sent(desk) == []


def test_a_reply_queued_before_the_erase_is_not_sent_while_its_customer_is_erased(desk, monkeypatch):
    from shopdesk.privacy.erase import Eraser
    from tests.support import FakeTwilio
    # Given alice's reply to a customer, stored and queued for sending, not sent yet
    conv = whatsapp(desk, TEXT, "SMqueued1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": "Dear Wilhelmina, the teapot ships today"})
    assert status == 202, reply
    # and the dispatcher, which takes it off the outbound queue once the erase has read what to erase
    twilio = FakeTwilio()
    original = Eraser.erase
    ran: list[int] = []

    def send_then(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Eraser, "erase", original)
        ran.append(desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Eraser, "erase", send_then)
    try:
        # When an admin erases the customer
        job = _job(desk, "erase", customer)
    finally:
        twilio.close()
    # Then the reply never went to the customer, and nothing of it, or of them, is left
    assert job["status"] == "done" and ran == [1]
    assert twilio.requests == []
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "teapot"):
        assert trace not in everything, trace


@pytest.mark.parametrize("write", ["the_refused_reply_s_timer", "a_delayed_survey"])
def test_a_timer_set_after_the_erase_s_final_pass_leaves_nothing_under_the_conversation(desk, monkeypatch, write):
    from shopdesk.csat.survey import SurveyDesk
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.logic.refused import take_back_later
    from shopdesk.privacy.erase import Eraser
    from tests.integration.test_csat import _settings
    # Given alice's conversation with a customer
    if write == "a_delayed_survey":
        _settings(desk, delay_s=600)
    conv = whatsapp(desk, TEXT, "SMtimer1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    # and a timer of the conversation set once the erase has made its final pass (read what landed under it): the
    # work queue's refusal of a failed reply's report handing the first response to the sweep, or the survey of
    # alice's resolve, whose read of the conversation came before the erase and whose schedule after it
    outcomes: list[Any] = []
    if write == "the_refused_reply_s_timer":
        original = Eraser.erase_landed

        def landed_then(self: Any, *args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(Eraser, "erase_landed", original)
            deleted = original(self, *args, **kwargs)
            outcomes.append(take_back_later(Conversations(Table(desk.table_name), 16), conv))
            return deleted

        monkeypatch.setattr(Eraser, "erase_landed", landed_then)
        # When an admin erases the customer
        job = _job(desk, "erase", customer)
    else:
        scheduled = SurveyDesk._schedule

        def erase_then(self: Any, *args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(SurveyDesk, "_schedule", scheduled)
            outcomes.append(_job(desk, "erase", customer))
            outcomes.append(scheduled(self, *args, **kwargs))
            return outcomes[-1]

        monkeypatch.setattr(SurveyDesk, "_schedule", erase_then)
        # When alice resolves the conversation, and an admin erases the customer as its survey is being scheduled
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
        job = outcomes[0]
    # Then the timer is refused (the conversation is gone: nobody is told of a failure) and nothing is left under the
    # conversation or names it
    assert job["status"] == "done" and outcomes[-1] in (None, "not_asked"), outcomes
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]


def test_a_send_recorded_after_the_erase_s_final_pass_leaves_nothing_of_the_reply(desk, monkeypatch):
    from shopdesk.dal.conversations import Conversations
    from tests.support import FakeTwilio
    # Given alice's reply to a customer, queued for sending
    conv = whatsapp(desk, TEXT, "SMsent1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, reply = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                          {"text": "Dear Wilhelmina, the teapot ships today"})
    assert status == 202, reply
    # and the dispatcher, which sends it (its intent recorded before the erase held it) and records the send once the
    # erase is over
    twilio = FakeTwilio()
    original = Conversations.record_send
    jobs: list[dict[str, Any]] = []

    def erase_then(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Conversations, "record_send", original)
        jobs.append(_job(desk, "erase", customer))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Conversations, "record_send", erase_then)
    try:
        # When the dispatcher takes the reply off the outbound queue
        assert desk.drain_queue(desk.outbound_queue_url, "dispatcher", TWILIO_API_BASE_URL=twilio.url) == 1
    finally:
        twilio.close()
    # Then the reply went out (before the erase held it), the erase finished, and the dispatcher's record of the send
    # left nothing: no message item made again, no marker naming the conversation, nothing to send again
    assert len(twilio.requests) == 1 and [j["status"] for j in jobs] == ["done"]
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]
    everything = json.dumps(scan(desk), default=str)
    for trace in (NAME, "Wilhelmina", PHONE, PHONE[1:], "teapot"):
        assert trace not in everything, trace
    assert desk.drain_queue(desk.outbound_queue_url, "dispatcher") == 0


def _looked(desk: Any, job: dict[str, Any], files: int) -> None:
    """The erase's job says what it said when done, but that its last look at the uploads, pending then, is done now,
    having deleted ``files``."""
    seen = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")[1]
    look = {k: v for k, v in seen.pop("last_look").items() if v is not None}
    assert seen == {k: v for k, v in job.items() if k != "last_look"} and job["last_look"]["status"] == "pending"
    assert look == {"status": "done", "finished_at": look["finished_at"], "files": files}, look


def test_a_file_uploaded_for_a_reply_after_the_erase_is_deleted_once_no_upload_link_can_be_used(desk):
    from urllib3.filepost import encode_multipart_formdata

    from shopdesk import clock
    from shopdesk.privacy.jobs import UPLOADS_SECONDS
    from tests.integration.test_attachments import PNG
    from tests.integration.test_csat import _SCHEDULED
    # Given alice's conversation with a customer, and an upload link alice asked for a file of her reply
    conv = whatsapp(desk, TEXT, "SMfile1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, link = agent(desk, "POST", "/agent/attachments", "alice",
                         {"filename": "teapot.png", "content_type": "image/png", "size": len(PNG) + 10,
                          "conversation_id": conv})
    assert status == 201, link
    # When an admin erases the customer, and alice's browser posts the file with that link after the erase
    job = _job(desk, "erase", customer)
    form, boundary = encode_multipart_formdata({**link["fields"],
                                                "file": ("teapot.png", PNG + b"Wilhelmina", "image/png")})
    with urllib.request.urlopen(urllib.request.Request(link["url"], data=form, method="POST",
                                                       headers={"Content-Type": boundary})) as posted:
        assert posted.status in (200, 201, 204)
    # (her reply naming it is refused: the conversation is gone)
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {
        "text": "Here it is", "attachments": [{"key": link["key"], "filename": "teapot.png",
                                               "content_type": "image/png", "size": len(PNG) + 10}]})[0] == 404
    uploads = f"media/outbound/{conv}/"
    assert [k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(uploads)] == [link["key"]]
    # Then the sweep leaves it while a link issued before the erase may still be used
    desk.invoke("sla_sweep", _SCHEDULED)
    run_jobs(desk)
    assert [k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(uploads)] == [link["key"]]
    # and once none can, the sweep has the privacy function look at the conversation's uploads again: none is left
    clock.set_offset(UPLOADS_SECONDS + 60)
    desk.invoke("sla_sweep", _SCHEDULED)
    run_jobs(desk)
    assert not [k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(uploads)]
    assert "Wilhelmina" not in json.dumps(_every_object(desk), default=str)
    # and the job says what it said, its timer is done, and nothing names the conversation
    _looked(desk, job, files=1)
    assert not [i for i in scan(desk) if i.get("type") == "timer"]
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]

@pytest.mark.parametrize("moment", ["its_record_lands_before_the_erase_deletes_the_message",
                                    "its_invocation_stops_after_storing_the_file"])
def test_an_inbound_file_the_router_stores_after_the_erase_s_last_read_is_deleted_by_its_last_look(
        desk, monkeypatch, moment):
    from contextlib import suppress

    from shopdesk.channels.base import Media
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.media import MediaStore
    from shopdesk.dal.table import Table
    from shopdesk.logic.media import MediaCopier
    from shopdesk.privacy.erase import Eraser
    from shopdesk.privacy.jobs import UPLOADS_SECONDS
    from tests.integration.conftest import TEMPLATE
    from tests.integration.test_attachments import PNG
    from tests.integration.test_csat import _SCHEDULED
    # Given a customer's WhatsApp photo, whose file the router has not copied yet
    form = twilio_form(MessageSid="SMphoto1", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100", Body=TEXT,
                       ProfileName=NAME, NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                       MediaContentType0="image/png")
    assert post_twilio(desk, form)["statusCode"] == 200
    conv = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    [message] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("direction") == "inbound"]
    # and the router's copy of it (the provider's download stood in for), which read the message before the erase
    # and stores the file once the erase has read the customer for the last time: its record of the file lands
    # before the erase deletes the message, or its invocation stops (a timeout) between the file and its record
    copier = MediaCopier(Conversations(Table(desk.table_name), 16), MediaStore(desk.env["MEDIA_BUCKET"]),
                         {"twilio": lambda attachment, limit: Media(PNG + b"Wilhelmina", "image/png")}, 1_000_000)
    if moment == "its_invocation_stops_after_storing_the_file":
        def stopped(*args: Any) -> None:
            raise TimeoutError("the router's invocation timed out")
        monkeypatch.setattr(copier.conversations, "update_attachments", stopped)
    erase = Eraser.erase

    def copied_then_erased(self: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Eraser, "erase", erase)
        with suppress(TimeoutError):
            copier.copy(conv, message["SK"])
        return erase(self, *args, **kwargs)

    monkeypatch.setattr(Eraser, "erase", copied_then_erased)
    # When an admin erases the customer
    job = _job(desk, "erase", customer)
    files = f"media/{conv}/"
    assert [k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(files)]
    # Then once the router can no longer be storing a file it read the message for before the erase, the sweep has
    # the privacy function look at the conversation's files again: none is left
    assert TEMPLATE["Resources"]["RouterFunction"]["Properties"]["Timeout"] < UPLOADS_SECONDS
    clock.set_offset(UPLOADS_SECONDS + 60)
    desk.invoke("sla_sweep", _SCHEDULED)
    run_jobs(desk)
    assert not [k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(files)]
    assert "Wilhelmina" not in json.dumps(_every_object(desk), default=str)
    _looked(desk, job, files=1)
    assert not [i for i in scan(desk) if i.get("type") == "timer"]
    assert not [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" or i.get("conversation_id") == conv]


def test_a_visitor_s_file_posted_with_a_link_issued_before_their_erase_is_deleted_and_what_they_send_since_kept(
        desk):
    from urllib3.filepost import encode_multipart_formdata

    from shopdesk.privacy.jobs import UPLOADS_SECONDS
    from tests.integration.test_attachments import PNG
    from tests.integration.test_csat import _SCHEDULED
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session, _upload
    # Given a web-chat visitor who wrote, and two upload links they asked for before an admin erased them
    session = _session(desk, "visitor-wilma")
    status, message, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": TEXT}, session)
    assert status == 201, message
    customer = desk.item(f"CONV#{message['conversation_id']}")["customer"]["id"]
    links = []
    for name in ("left.png", "sent.png"):
        status, link, _ = widget(desk, "POST", "/widget/attachments",
                                 {"filename": name, "content_type": "image/png", "size": len(PNG) + 10}, session)
        assert status == 201, link
        links.append(link)
    # When the admin erases them, and their browser posts both files with those links after the erase
    job = _job(desk, "erase", customer)
    for link, data in zip(links, (PNG + b"Wilhelmina", PNG + b"new person"), strict=True):
        form, boundary = encode_multipart_formdata({**link["fields"], "file": (link["filename"], data, "image/png")})
        with urllib.request.urlopen(urllib.request.Request(link["url"], data=form, method="POST",
                                                           headers={"Content-Type": boundary})) as posted:
            assert posted.status in (200, 201, 204)
    # and the visitor writes again (a new customer now), sending the second file and one uploaded since, and
    # uploads another they have not sent yet
    session = _session(desk, "visitor-wilma")
    since = _upload(desk, session, "since.png", "image/png", PNG)
    draft = _upload(desk, session, "draft.png", "image/png", PNG)
    status, again, _ = widget(desk, "POST", "/widget/messages", {
        "client_message_id": "w2", "text": "Hello again", "attachments": [
            {"key": links[1]["key"], "filename": "sent.png", "content_type": "image/png", "size": len(PNG) + 10},
            {"key": since, "filename": "since.png", "content_type": "image/png", "size": len(PNG)}]}, session)
    assert status == 201, again
    files = "media/webchat/visitor-wilma/"
    assert {k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(files)} == {
        links[0]["key"], links[1]["key"], since, draft}
    # Then once no link issued before the erase can be used, the sweep has the privacy function look at the visitor's
    # files again: the one posted with such a link and sent in no message is deleted; what the new customer sent or
    # uploaded stays
    clock.set_offset(UPLOADS_SECONDS + 60)
    desk.invoke("sla_sweep", _SCHEDULED)
    run_jobs(desk)
    assert {k for k in _objects(desk, desk.env["MEDIA_BUCKET"]) if k.startswith(files)} == {
        links[1]["key"], since, draft}
    assert "Wilhelmina" not in json.dumps(_every_object(desk), default=str)
    _looked(desk, job, files=1)
    assert not [i for i in scan(desk) if i.get("type") == "timer" and str(i["PK"]).startswith("PRIVACYJOB#")]

@pytest.mark.parametrize("moment", ["after_the_erase", "while_an_erase_holds_the_customer"])
def test_a_retention_walk_s_inactive_customer_timer_landing_after_the_erase_leaves_nothing_of_them(
        desk, monkeypatch, moment):
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table, Update
    from shopdesk.privacy import reapply
    from shopdesk.privacy.settings import Retention
    # Given a customer whose conversation alice resolved while inactive customers were kept (no timer)
    conv = whatsapp(desk, TEXT, "SMidle41")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    assert desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer") is None
    # and the walk of a retention saved since (inactive customers erased after 30 days), which read the resolved
    # conversation before the customer was erased (or while an erase holds them) and gives them their timer after
    table = Table(desk.table_name)
    inactive = reapply._inactive

    def erased_then(*args: Any) -> Any:
        if moment == "after_the_erase":
            _job(desk, "erase", customer)
        else:       # an erase running (a worker received it), which holds them by the one rule (dal/erased.py)
            table.put({"PK": "PRIVACYJOB#job_elsewhere", "SK": "META", "kind": "erase", "status": "running",
                       "customer_id": customer, "created_at": clock.now_iso(), "received_at": clock.now_iso()})
            table.update(f"CUSTOMER#{customer}", "META", Update().set("erasing", "job_elsewhere"))
        return inactive(*args)

    monkeypatch.setattr(reapply, "_inactive", erased_then)
    # When the walk runs
    counts, more = reapply.reapply_step(Conversations(table, 16), Retention(inactive_customers_days=30))
    # Then the timer is not set: nothing is left under the erased customer, or written under the one being erased
    # (their erase's last read may have been made)
    assert more is None and counts["conversations"] == 1
    assert desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer") is None
    if moment == "after_the_erase":
        assert not [i for i in scan(desk) if i["PK"] == f"CUSTOMER#{customer}"]


@pytest.mark.parametrize("moment", ["between_its_read_and_its_archive", "after_the_erase_looked_for_archives"])
def test_an_export_running_while_its_customer_is_erased_leaves_no_archive_and_no_link(desk, monkeypatch, moment):
    from shopdesk.dal.privacy import Files, SubjectData
    # Given a customer, an export of her and her erase, run side by side (jobs of customers merged into one another
    # are in different queue groups; a queue may deliver out of order)
    conv = whatsapp(desk, TEXT, "SMrace1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    export = admin(desk, "POST", f"/admin/customers/{customer}/export")[1]["job_id"]
    erase = admin(desk, "POST", f"/admin/customers/{customer}/erase")[1]["job_id"]
    worker = desk.handler("privacy").worker
    if moment == "between_its_read_and_its_archive":
        # When the export has read everything about her, and the whole erase runs before it writes its archive
        put = Files.put

        def erase_first(self: Any, *args: Any) -> None:
            monkeypatch.setattr(Files, "put", put)
            assert worker.run(erase) == "done"
            put(self, *args)
        monkeypatch.setattr(Files, "put", erase_first)
        assert worker.run(export) == "failed"
    else:
        # When the erase has looked for her archives, and the whole export runs before it removes her record
        record = SubjectData.record_erased

        def export_first(self: Any, *args: Any) -> None:
            monkeypatch.setattr(SubjectData, "record_erased", record)
            assert worker.run(export) == "failed"
            record(self, *args)
        monkeypatch.setattr(SubjectData, "record_erased", export_first)
        assert worker.run(erase) == "done"
    # Then no archive of her is left, nor its name under her, and the export says why it hands out no link
    assert _objects(desk, desk.env["EXPORT_BUCKET"]) == {}
    assert not [i for i in scan(desk) if i.get("type") == "export"]
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{export}")
    assert status == 200 and job["status"] == "failed" and job.get("download_url") is None, job
    assert job["error"] == "the customer was erased while their export ran: its archive was deleted"
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase}")[1]["status"] == "done"
    assert desk.item(f"CONV#{conv}") is None


def test_an_erase_of_a_customer_once_merged_into_another_deletes_every_export_holding_them(desk):
    # Given two customers an agent merged into one, and an export of the survivor (which holds the other)
    survivor_conv = whatsapp(desk, "Where is my parcel?", "SMmrg1")
    survivor = desk.item(f"CONV#{survivor_conv}")["customer"]["id"]
    other_conv = customer_writes(desk, "+31655508888", "It is me again, Wilhelmina", "SMmrg2")
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    status, merge = agent(desk, "POST", f"/agent/customers/{survivor}/merge", "alice",
                          {"other_id": other, "reason": "same person"})
    assert status == 200
    exported = _job(desk, "export", survivor)
    assert set(json.loads(zipfile.ZipFile(io.BytesIO(urllib.request.urlopen(
        exported["download_url"], timeout=10).read())).read("data.json"))["customer_ids"]) == {survivor, other}
    # When the merge is undone (an erase of a customer merged away is refused: test_privacy_merged.py) and an admin
    # erases the customer who was merged
    assert agent(desk, "POST", f"/agent/customers/{survivor}/unmerge", "alice",
                 {"merge_id": merge["id"], "reason": "two people"})[0] == 200
    assert _job(desk, "erase", other)["counts"]["exports"] == 1
    # Then the survivor's export, which held them, is deleted too, and its job hands out no link
    assert _objects(desk, desk.env["EXPORT_BUCKET"]) == {}
    status, after = admin(desk, "GET", f"/admin/privacy/jobs/{exported['job_id']}")
    assert status == 200 and after["archive_deleted"] == "customer_erased" and after.get("download_url") is None
    assert not [i for i in scan(desk) if i.get("type") == "export"]


def test_a_done_export_hands_out_no_link_once_its_day_in_the_bucket_is_over(desk):
    conv = whatsapp(desk, "Where is my parcel?", "SMday1")
    job = _job(desk, "export", desk.item(f"CONV#{conv}")["customer"]["id"])
    assert job["download_url"] and job.get("archive_deleted") is None
    # When more than a day has passed (the export bucket's lifecycle deletes its archive)
    clock.set_offset(86400 + 60)
    # Then the job says so, and hands out no link to an archive that is gone
    status, later = admin(desk, "GET", f"/admin/privacy/jobs/{job['job_id']}")
    assert status == 200 and later["status"] == "done" and later["archive_deleted"] == "expired", later
    assert later.get("download_url") is None


def test_an_erase_removes_the_order_cache_of_the_email_a_shop_signed_its_visitor_in_with(desk):
    import time

    from shopdesk.channels import webchat
    from tests.integration.test_widget import _call as widget
    # Given a visitor the shop signed in with an email that is no identity of theirs, whose orders the panel
    # looked up by it (the cache keeps a pointer under the email, and the order)
    email = "griselda.widget@example.com"
    token = webchat.sign_visitor_token({"visitor_id": "customer:griselda", "name": "Griselda", "email": email,
                                        "exp": int(time.time()) + 600}, "test-visitor-secret")
    status, session, _ = widget(desk, "POST", "/widget/sessions", {"visitor_token": token})
    assert status == 201, session
    status, sent, _ = widget(desk, "POST", "/widget/messages", {"client_message_id": "g1", "text": "Hello"},
                             session["session"])
    assert status == 201, sent
    customer = desk.item(f"CONV#{sent['conversation_id']}")["customer"]["id"]
    ddb = desk.client("dynamodb")
    for pk, sk, extra in ((f"COMMERCE#shopify#email#{email}", "ORDER#2026-12-01T10:00:00Z#77",
                           {"order_id": {"S": "77"}}),
                          ("ORDER#shopify#77", "META", {"body": {"S": json.dumps({"email": email})}})):
        ddb.put_item(TableName=desk.table_name, Item={"PK": {"S": pk}, "SK": {"S": sk}, **extra})
    # When an admin erases the visitor
    assert _job(desk, "erase", customer)["status"] == "done"
    # Then nothing of the table names the email: not the pointer, not the cached order
    assert email not in json.dumps(scan(desk), default=str)


def test_an_erase_removes_every_pointer_to_the_customer_s_orders_whatever_value_it_is_under(desk):
    # Given a customer known by phone only, whose order (found by their phone) carries their email: the cache
    # points to it from the phone, the email and the number, and keeps when it last asked about the email; the
    # shop's customer record points from the email too
    phone, email = "+14155550177", "sam.lee.erase@example.com"
    conv = customer_writes(desk, phone, "Where is my order?", "SMpointers1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    ddb = desk.client("dynamodb")
    order = json.dumps({"email": email, "phone": phone})
    for pk, sk, extra in (
            ("ORDER#shopify#88", "META", {"type": {"S": "order"}, "id": {"S": "88"}, "number": {"S": "#1088"},
                                          "email": {"S": email}, "phone": {"S": phone}, "body": {"S": order}}),
            (f"COMMERCE#shopify#phone#{phone}", "ORDER#2026-12-01T10:00:00Z#88",
             {"type": {"S": "order_ref"}, "order_id": {"S": "88"}}),
            (f"COMMERCE#shopify#email#{email}", "ORDER#2026-12-01T10:00:00Z#88",
             {"type": {"S": "order_ref"}, "order_id": {"S": "88"}}),
            (f"COMMERCE#shopify#email#{email}", "SYNC", {"type": {"S": "order_lookup"}, "found": {"N": "1"}}),
            ("COMMERCE#shopify#number##1088", "ORDER#2026-12-01T10:00:00Z#88",
             {"type": {"S": "order_ref"}, "order_id": {"S": "88"}}),
            (f"COMMERCE#shopify#phone#{phone}", "CUSTOMER#501",
             {"type": {"S": "customer_ref"}, "customer_id": {"S": "501"}}),
            ("SHOPCUSTOMER#shopify#501", "META", {"type": {"S": "shop_customer"}, "id": {"S": "501"},
                                                  "email": {"S": email}, "phone": {"S": phone}}),
            (f"COMMERCE#shopify#email#{email}", "CUSTOMER#501",
             {"type": {"S": "customer_ref"}, "customer_id": {"S": "501"}})):
        ddb.put_item(TableName=desk.table_name, Item={"PK": {"S": pk}, "SK": {"S": sk}, **extra})
    # When an admin erases them
    assert _job(desk, "erase", customer)["status"] == "done"
    # Then nothing of the table names their email, phone or order: no pointer under any of the three
    everything = json.dumps(scan(desk), default=str)
    for trace in (email, phone, "#1088", "ORDER#shopify#88"):
        assert trace not in everything, trace


def _lake_objects(desk: Any) -> str:
    """Every object of the events bucket as it is stored (the rows a report filters out included)."""
    s3 = desk.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=desk.env["EVENTS_BUCKET"])
            for o in page.get("Contents", [])]
    return "\n".join(s3.get_object(Bucket=desk.env["EVENTS_BUCKET"], Key=k)["Body"].read().decode("utf-8", "replace")
                     for k in keys)


def test_an_erased_customer_s_csat_comment_is_in_no_lake_object_and_no_report(desk):
    from tests.integration.test_analytics import Lake
    from tests.integration.test_csat import _resolved_sms_conversation, _settings, _sms
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])
    # Given a customer who rated their conversation and commented
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31655507777", "SMcsat1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    _sms(desk, "+31655507777", "4", "SMcsat2")
    desk.drain_queue(desk.work_queue_url, "router")
    _sms(desk, "+31655507777", "Quokkavelvet service, thanks", "SMcsat3")
    desk.drain_queue(desk.work_queue_url, "router")
    lake.pump()
    today = clock.now().date()
    query = f"metric=csat_comments&from={today}&to={today + timedelta(days=1)}&tz=UTC"
    status, listed = lake.report("/reports/metrics", query)
    assert status == 200 and [(c["conversation_id"], c["rating"], c["comment"]) for c in listed["items"]] == [
        (conv, 4, "Quokkavelvet service, thanks")], listed
    # the lake says a rating has a comment, never what it says: the words are on the survey record only
    objects = _lake_objects(desk)
    assert conv in objects and "commented" in objects and "Quokkavelvet" not in objects
    # When an admin erases them
    assert _job(desk, "erase", customer)["status"] == "done"
    lake.pump()
    # Then no report lists the comment, and no row a report can read names them
    assert lake.report("/reports/metrics", query)[1]["items"] == []
    kept = json.dumps(_lake_rows(desk, erased_applied=True), default=str)
    assert customer not in kept and conv not in kept
    assert "Quokkavelvet" not in _lake_objects(desk) + json.dumps(scan(desk), default=str)


def test_a_hand_off_note_is_masked_like_a_note_in_its_text_and_its_event(desk):
    # Given a conversation the router gave one agent, handed over with the card number the customer read out
    conv, _, _ = handed_over(desk, "+31612340021", "my card got charged twice", "SMmask1",
                             "refund to 4111 1111 1111 1111")
    # Then the timeline's entry keeps the last four digits only, in its text and in its event, as stored
    entries = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("direction") == "system"
               and (i.get("event") or {}).get("kind") == "transferred"]
    assert len(entries) == 1
    assert entries[0]["text"].endswith("Hand-off note: refund to [card •••• 1111]")
    assert entries[0]["event"]["params"]["note"] == "refund to [card •••• 1111]"
    assert "4111 1111" not in json.dumps(entries[0], default=str)


SECRETS = "card 5500 0000 0000 0004, iban DE89 3704 0044 0532 0130 00, BSN 123456782"
IN_CLEAR = ("5500 0000 0000 0004", "5500000000000004", "DE89 3704", "0532 0130", "123456782")


def test_what_agents_write_with_a_routing_change_a_merge_and_a_macro_name_is_masked_like_a_note(desk):
    # Given an admin's own pattern, and a conversation the router gave alice
    assert admin(desk, "PUT", "/admin/privacy/settings",
                 {"masking_patterns": [{"name": "BSN", "pattern": r"BSN:?\s?\d{9}"}]})[0] == 200
    conv = whatsapp(desk, "Where is my parcel?", "SMmask2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # When she changes its routing with a note holding the card number, the IBAN and the pattern a customer read out
    status, body = agent(desk, "PUT", f"/agent/conversations/{conv}/routing", "alice",
                         {"skills": ["billing"], "note": f"she read out {SECRETS}"})
    assert status == 200, body
    # and merges another customer into hers saying why with them, then undoes it saying why with them
    other_conv = customer_writes(desk, "+31655507777", "hi again", "SMmask3")
    other = desk.item(f"CONV#{other_conv}")["customer"]["id"]
    status, merge = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                          {"other_id": other, "reason": f"same person: {SECRETS}"})
    assert status == 200, merge
    status, body = agent(desk, "POST", f"/agent/customers/{customer}/unmerge", "alice",
                         {"merge_id": merge["id"], "reason": f"not her: {SECRETS}"})
    assert status == 200, body
    # and names a macro of her own with them, and applies it
    status, body = agent(desk, "PUT", "/agent/macros/refund", "alice",
                         {"name": f"Refund {SECRETS}", "actions": [{"type": "set_priority", "priority": "high"}]})
    assert status == 200, body
    status, body = agent(desk, "POST", "/agent/macros/refund/apply", "alice", {"conversation_ids": [conv]})
    assert status == 200 and body["results"][0]["result"] == "applied", body
    # Then no item of the table holds any of them in clear
    stored = json.dumps(scan(desk), default=str)
    for secret in IN_CLEAR:
        assert secret not in stored, secret
    # and the routing entry keeps the last four, in its text and its event, and lists what was masked
    entries = {(i.get("event") or {}).get("kind"): i for i in scan(desk)
               if i["PK"] == f"CONV#{conv}" and i.get("direction") == "system"}
    routing = entries["routing_changed"]
    assert routing["text"].endswith("Note: she read out card [card •••• 0004], iban [IBAN •••• 3000], [BSN •••• 6782]")
    assert routing["event"]["params"]["note"] == "she read out card [card •••• 0004], iban [IBAN •••• 3000], " \
                                                 "[BSN •••• 6782]"
    assert routing["masked"] == ["card", "IBAN", "BSN"]
    # and both timelines say why the merge was made and undone, masked
    timeline = agent(desk, "GET", f"/agent/customers/{other}", "alice")[1]["timeline"]
    assert [e["reason"] for e in timeline] == [
        "not her: card [card •••• 0004], iban [IBAN •••• 3000], [BSN •••• 6782]",
        "same person: card [card •••• 0004], iban [IBAN •••• 3000], [BSN •••• 6782]"]
    # and the macro's entry names it as it is stored: masked
    assert "Refund card [card •••• 0004]" in entries["macro_applied"]["text"]
    assert entries["macro_applied"]["event"]["params"]["macro"].startswith("Refund card [card •••• 0004]")


def _messenger(desk: Any, *events: dict[str, Any]) -> None:
    from shopdesk.channels import meta
    raw = json.dumps({"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": list(events)}]}).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": meta.sign(raw, "test_app_secret")}
    assert desk.invoke("inbound_messenger", http_event("POST", "/webhooks/messenger", raw.decode(),
                                                       headers))["statusCode"] == 200


def test_a_card_number_in_an_edit_is_masked_in_its_text_and_its_event_and_exported_so(desk):
    # Given a Messenger customer's conversation
    who = {"sender": {"id": "5678"}, "recipient": {"id": "1234567890"}}
    _messenger(desk, {**who, "timestamp": 1, "message": {"mid": "m_edit1", "text": "Can I pay by card?"}})
    conv = desk.item("IDENTITY#messenger#5678")["open_conversation_id"]
    # When the customer edits the message to hold their card number
    _messenger(desk, {**who, "timestamp": 2, "message_edit": {"mid": "m_edit1", "num_edit": 1,
                                                              "text": "my card is 4111 1111 1111 1111"}})
    # Then the timeline's entry keeps the last four digits only, in its text and in its event, as stored
    [entry] = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("kind") == "edit"]
    assert entry["text"] == "Edited a message: my card is [card •••• 1111]"
    assert entry["event"] == {"kind": "edit", "params": {"text": "my card is [card •••• 1111]"}}
    assert entry["masked"] == ["card"] and "4111 1111" not in json.dumps(entry, default=str)
    # and the customer's export holds the entry as stored: masked, with its event
    job = _job(desk, "export", desk.item(f"CONV#{conv}")["customer"]["id"])
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:   # moto's presigned URL
        data = json.loads(zipfile.ZipFile(io.BytesIO(answer.read())).read("data.json"))
    exported = [m for c in data["conversations"] for m in c["messages"] if m.get("kind") == "edit"]
    assert [m["event"] for m in exported] == [entry["event"]]
    assert "4111 1111" not in json.dumps(data)


def test_retention_gives_replies_notes_and_resolved_conversations_their_expiry(desk):
    # Given messages kept 60 days and closed conversations 14
    assert admin(desk, "PUT", "/admin/privacy/settings",
                 {"retention": {"messages_days": 60, "closed_conversations_days": 14}})[0] == 200
    conv = customer_writes(desk, PHONE, "Hello", "SMret1")
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    # When alice replies, notes a card number the customer read out, and resolves
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "Done"})[0] == 202
    status, note = agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice",
                         {"text": "card was 4111 1111 1111 1111"})
    assert status == 201 and note["text"] == "card was [card •••• 1111]" and note["masked"] == ["card"]
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # Then every message the agent wrote expires in 60 days, the conversation 14 days after it was resolved
    now = clock.now().timestamp()
    items = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    written = [i for i in items if i.get("direction") in ("outbound", "note")]
    assert len(written) == 2 and all(abs(int(i["ttl"]) - (now + 60 * 86400)) < 120 for i in written)
    # and so does every system entry of the timeline (the router's assignment, the resolve), like the messages
    system = [i for i in items if i.get("direction") == "system"]
    assert sorted(i["text"] for i in system) == ["Assigned to Alice", "Marked resolved by Alice"]
    assert system and all(abs(int(i["ttl"]) - (now + 60 * 86400)) < 120 for i in system)
    assert abs(int(desk.item(f"CONV#{conv}")["ttl"]) - (now + 14 * 86400)) < 120
    # and a reopen keeps it again
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "open"})[0] == 200
    assert "ttl" not in desk.item(f"CONV#{conv}")


def test_the_lake_s_retention_is_an_s3_lifecycle_rule_the_settings_write(desk):
    # Given the events bucket with a rule of its own (the query results')
    s3, bucket = desk.client("s3"), desk.env["EVENTS_BUCKET"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "query-results", "Status": "Enabled", "Filter": {"Prefix": "athena-results/"},
         "Expiration": {"Days": 7}}]})
    # When an admin keeps the lake's events 200 days, then 30
    for days in (200, 30):
        assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"events_days": days}})[0] == 200
        rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
        # Then the events, their delivery errors and the deletion list expire after that many days
        assert {name: (r["Filter"]["Prefix"], r["Expiration"]["Days"]) for name, r in rules.items()} == {
            "query-results": ("athena-results/", 7), "events": ("events/", days), "errors": ("errors/", days),
            "erased": ("erased/", days)}


def test_a_messages_files_expire_with_it_once_admins_set_a_message_retention(desk):
    # Given the media bucket with a rule of its own (the shop's library is kept)
    s3, bucket = desk.client("s3"), desk.env["MEDIA_BUCKET"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "shop-archive", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 3650}}]})
    files = {"media/c_", "media/email/", "media/outbound/", "media/webchat/"}
    # When an admin keeps messages 60 days, then takes the message retention away
    for days, expected in ((60, 60), (None, int(desk.env.get("MEDIA_RETENTION_DAYS", "730")))):
        assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": days}})[0] == 200
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        # Then every message's files expire with it (else after the stack's period), the bucket's own rule stays
        by_prefix = {r["Filter"]["Prefix"]: r["Expiration"]["Days"] for r in rules}
        assert {p: by_prefix[p] for p in files} == dict.fromkeys(files, expected)
        assert by_prefix["archive/"] == 3650 and "media/library/" not in by_prefix


def test_after_a_stack_update_puts_the_template_s_rules_back_the_deploy_writes_the_settings_again(desk, capsys):
    from scripts.backfill import main as backfill
    # Given admins keeping events 90 days and messages 60, and a stack update that put the template's rules back
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"events_days": 90, "messages_days": 60}})[0] \
        == 200
    s3, events, media = desk.client("s3"), desk.env["EVENTS_BUCKET"], desk.env["MEDIA_BUCKET"]
    template = {events: [("events", "events/", 400), ("query-results", "athena-results/", 7)],
                media: [("expire-inbound-attachments", "media/c_", 730), ("shop-archive", "archive/", 3650)]}
    for bucket, rules in template.items():
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": name, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
            for name, prefix, days in rules]})
    # When make deploy's last step runs
    assert backfill(["lifecycle", "--table", desk.table_name, "--events-bucket", events, "--media-bucket", media,
                     "--endpoint-url", desk.endpoint, "--region", "us-east-1"]) == 0
    said = capsys.readouterr().out
    # Then the settings' rules are back, and each bucket's own rules stay
    expires = {bucket: {r["Filter"]["Prefix"]: r["Expiration"]["Days"]
                        for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
               for bucket in (events, media)}
    assert expires[events] == {"events/": 90, "errors/": 90, "erased/": 90, "athena-results/": 7}
    assert expires[media] == {"media/c_": 60, "media/email/": 60, "media/outbound/": 60, "media/webchat/": 60,
                              "archive/": 3650}
    assert f"s3://{events}: " in said and "events 90 days" in said


def test_an_erase_removes_the_raw_mail_of_a_survey_answered_by_email(desk):
    from tests.integration.test_csat import _settings
    from tests.integration.test_email import _deliver, _eml
    # Given a customer who wrote by email, was answered and rated the conversation by email
    _settings(desk)
    online(desk, "alice")
    assert _deliver(desk, _eml(sender="Hendrika Quist <hendrika@customer.example>", body="Where is my parcel?\n",
                               message_id="<q1@customer.example>"), "q1") == {"stored": 1, "duplicates": 0}
    [conv] = [i["PK"].removeprefix("CONV#") for i in scan(desk) if i.get("type") == "conversation"]
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    desk.drain_queue(desk.work_queue_url, "router")
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})
    assert status == 200, body
    assert _deliver(desk, _eml(sender="Hendrika Quist <hendrika@customer.example>", subject="Re: your rating",
                               body="5\n", message_id="<q2@customer.example>",
                               In_Reply_To="<q1@customer.example>"), "q2") == {"stored": 1, "duplicates": 0}
    answers = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i.get("kind") == "csat_answer"]
    assert len(answers) == 1 and answers[0]["payload"]["rating"] == 5, answers
    # (the rating keeps where its mail is, beside how it was given)
    assert answers[0]["payload"]["source"] == {"bucket": desk.env["MAIL_BUCKET"], "key": "raw/q2"}
    assert answers[0]["payload"]["rating_source"] == "digit"
    s3 = desk.client("s3")
    raw = {o["Key"] for o in s3.list_objects_v2(Bucket=desk.env["MAIL_BUCKET"], Prefix="raw/").get("Contents", [])}
    assert raw == {"raw/q1", "raw/q2"}
    # When an admin erases them
    _job(desk, "erase", customer)
    # Then neither mail SES stored is left: not the question, and not the rating (it names them too)
    left = s3.list_objects_v2(Bucket=desk.env["MAIL_BUCKET"], Prefix="raw/").get("Contents", [])
    assert left == []


def test_an_erase_removes_the_records_of_unreadable_webhooks_that_name_the_customer(desk):
    # Given a Messenger customer, and two requests Meta signed that could not be stored: one of theirs (it holds
    # their id and words), one of someone else whose id starts like theirs
    who = {"sender": {"id": "56781234"}, "recipient": {"id": "1234567890"}}
    _messenger(desk, {**who, "timestamp": 1, "message": {"mid": "m_un1", "text": "Hello there"}})
    customer = desk.item("IDENTITY#messenger#56781234")["customer_id"]
    _messenger(desk, {**who, "timestamp": 2, "message": {"mid": ["not", "an", "id"], "text": "Zebrafinch words"}})
    other = {"sender": {"id": "567812345"}, "recipient": {"id": "1234567890"}}
    _messenger(desk, {**other, "timestamp": 3, "message": {"mid": {"odd": True}, "text": "Someone else"}})
    records = [i for i in scan(desk) if i["PK"].startswith("UNSUPPORTED#")]
    assert len(records) == 2 and "Zebrafinch" in json.dumps(records)
    # When an admin exports, then erases them
    job = _job(desk, "export", customer)
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:   # moto's presigned URL
        data = json.loads(zipfile.ZipFile(io.BytesIO(answer.read())).read("data.json"))
    assert "Zebrafinch" in json.dumps(data) and "Someone else" not in json.dumps(data)
    _job(desk, "erase", customer)
    # Then the record of theirs is gone with the rest, and the other customer's stays
    left = [i for i in scan(desk) if i["PK"].startswith("UNSUPPORTED#")]
    assert "Zebrafinch" not in json.dumps(scan(desk), default=str)
    assert len(left) == 1 and "Someone else" in json.dumps(left)


def test_the_mail_ses_stored_is_written_again_masked_once_its_message_is_stored(desk):
    from email import policy
    from email.parser import BytesParser

    from tests.integration.test_email import _deliver, _eml
    s3, bucket = desk.client("s3"), desk.env["MAIL_BUCKET"]
    # Given a customer's mail with a card number, and one without a Message-ID (known by a digest of its bytes)
    with_card = _eml(body="Please refund to my card 4111 1111 1111 1111, order #1001\n",
                     message_id="<k1@customer.example>")
    assert _deliver(desk, with_card, "k1") == {"stored": 1, "duplicates": 0}
    no_id = _eml(sender="Bea <bea@customer.example>", body="IBAN NL91 ABNA 0417 1643 00 for the refund\n")
    del_id = no_id.replace(b"Message-ID: <m1@customer.example>\n", b"")
    assert b"Message-ID" not in del_id
    assert _deliver(desk, del_id, "k2") == {"stored": 1, "duplicates": 0}
    # Then each stored mail is the same mail with what the message masked masked, marked as written by us
    for key, masked in (("raw/k1", "[card •••• 1111]"), ("raw/k2", "[IBAN •••• 4300]")):
        stored = s3.get_object(Bucket=bucket, Key=key)
        mail = BytesParser(policy=policy.default).parsebytes(stored["Body"].read())
        assert masked in mail.get_body(("plain",)).get_content()
        assert stored["Metadata"] == {"shopdesk-masked": "1"}
    everything = json.dumps(scan(desk), default=str)
    assert "4111 1111 1111 1111" not in everything and "NL91 ABNA" not in everything
    # And the notices of the rewrites (S3 tells the function of every write) store nothing again: the mail without
    # a Message-ID, read again, would otherwise be a new message
    assert _deliver_notice(desk, "k1") == {"stored": 0, "duplicates": 0}
    assert _deliver_notice(desk, "k2") == {"stored": 0, "duplicates": 0}
    assert len([i for i in scan(desk) if i.get("type") == "message"]) == 2
    # And a mail with nothing to mask stays exactly as SES stored it
    plain = _eml(sender="Cas <cas@customer.example>", message_id="<k3@customer.example>")
    assert _deliver(desk, plain, "k3") == {"stored": 1, "duplicates": 0}
    stored = s3.get_object(Bucket=bucket, Key="raw/k3")
    assert stored["Body"].read() == plain and not stored.get("Metadata")
    # And a notice of a mail erased meanwhile finds nothing, and fails nothing
    s3.delete_object(Bucket=bucket, Key="raw/k3")
    assert _deliver_notice(desk, "k3") == {"stored": 0, "duplicates": 0}


def test_a_card_in_the_html_part_of_the_mail_ses_stored_is_masked_as_a_reader_sees_it(desk):
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    from tests.integration.test_email import _deliver
    s3, bucket = desk.client("s3"), desk.env["MAIL_BUCKET"]
    # Given a mail client's mail: a plain part, and an HTML part whose card groups are joined by &nbsp;, character
    # references or an empty tag, quoted-printable and base64
    htmls = ['<div dir="ltr">Please refund to 4000&nbsp;0566&nbsp;5566&nbsp;5556</div>',
             "<p>Refund to 4000&#32;0566&#160;5566&#x20;5556 please</p>",
             '<p title="4000 0566 5566 5556">Refund to 4000<span></span> 0566 <b>5566</b> 5556 please</p>']
    for index, (html, cte) in enumerate(zip(htmls, ("quoted-printable", "base64", None), strict=True)):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "Ada <ada@customer.example>", "support@shop.example", "Refund"
        msg["Message-ID"] = f"<h{index}@customer.example>"
        msg.set_content("Please refund to 4000 0566 5566 5556\n")
        msg.add_alternative(html, subtype="html", cte=cte)
        assert _deliver(desk, bytes(msg), f"h{index}") == {"stored": 1, "duplicates": 0}
        # Then the mail written again holds the card masked in its HTML part too, as a reader sees it
        stored = s3.get_object(Bucket=bucket, Key=f"raw/h{index}")["Body"].read()
        mail = BytesParser(policy=policy.default).parsebytes(stored)
        part = mail.get_body(("html",)).get_content()
        assert "[card •••• 5556]" in part and "0566" not in part, part
        raw = stored.decode("ascii", "replace")
        for boundary in {part.get_boundary() for part in mail.walk()} - {None}:
            raw = raw.replace(boundary, "")          # a MIME boundary is random digits: "0566" may be among them
        assert "0566" not in raw


def _deliver_notice(desk: Any, key: str) -> dict[str, int]:
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": desk.env["MAIL_BUCKET"]}, "object": {"key": f"raw/{key}"}}}]}
    return desk.invoke("inbound_email", event)


def test_an_admin_erases_several_customers_named_by_id_email_or_phone_after_seeing_whom_the_names_find(desk):
    from tests.integration.test_email import _deliver, _eml
    # Given three customers: one by WhatsApp, one by SMS (a national number of the shop's region names it), one by email
    first = desk.item(f"CONV#{whatsapp(desk, 'Hello', 'SMmany1')}")["customer"]["id"]
    customer_writes(desk, "+31612345678", "Where is my parcel?", "SMmany2")
    second = desk.item("IDENTITY#phone#+31612345678")["customer_id"]
    assert _deliver(desk, _eml(sender="Hendrika Quist <Hendrika@Customer.example>"), "many3")["stored"] == 1
    third = desk.item("IDENTITY#email#hendrika@customer.example")["customer_id"]
    names = [first, "06 12345678", "HENDRIKA@customer.example", "nobody@customer.example", "+31 6 1234 5678",
             "not a customer"]
    # When an admin previews the names: whom they find, and nothing is started
    status, preview = admin(desk, "POST", "/admin/privacy/erasures/preview", {"customers": names})
    assert status == 200
    assert [(r["outcome"], r.get("customer_id")) for r in preview["items"]] == [
        ("found", first), ("found", second), ("found", third), ("not_found", None), ("same_customer", second),
        ("unrecognised", None)]
    assert preview["items"][0]["name"] == NAME
    assert not [i for i in scan(desk) if str(i["PK"]).startswith("PRIVACYJOB#")]
    # and then erases them
    status, started = admin(desk, "POST", "/admin/privacy/erasures", {"customers": names})
    assert status == 202
    jobs = {r["customer_id"]: r["job_id"] for r in started["items"] if r["outcome"] == "started"}
    assert set(jobs) == {first, second, third}
    run_jobs(desk)
    # Then each is erased, and each erase is in the audit trail under that customer, as a single erase is
    for customer, job in jobs.items():
        assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "done"
        assert desk.item(f"CUSTOMER#{customer}") is None
        trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
        assert {"customer.erase", "customer.erase.done"} <= {r["action"] for r in trail}
    stored = json.dumps(scan(desk), default=str)
    for gone in (NAME, "hendrika@customer.example", "Where is my parcel"):
        assert gone not in stored
    # and the request itself is on the trail with whom it named (ids, not the names given)
    [request] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=root")[1]["items"]
                 if r["action"] == "customer.erase.several"]
    assert request["details"]["customers"] == sorted(jobs) and "Hendrika" not in json.dumps(request)


def test_only_admins_erase_several_and_at_most_a_hundred_names_at_once(desk):
    supervisor = {**ADMIN, "cognito:username": "sam", "cognito:groups": "[supervisors]"}
    for path in ("/admin/privacy/erasures/preview", "/admin/privacy/erasures"):
        assert admin(desk, "POST", path, {"customers": ["+15005550142"]}, claims=supervisor)[0] == 403
        assert admin(desk, "POST", path, {"customers": [f"+1500555{n:04d}" for n in range(101)]})[0] == 422
        assert admin(desk, "POST", path, {"customers": []})[0] == 422


def test_customers_inactive_for_the_days_set_are_erased_and_one_who_wrote_again_is_not(desk):
    # Given inactive customers erased after 30 days, and two customers whose conversations were resolved
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"inactive_customers_days": 30}})[0] == 200
    online(desk, "alice")
    quiet, back = "+31655501301", "+31655501302"
    convs = {phone: customer_writes(desk, phone, "Where is my order?", f"SMidle{phone[-1]}") for phone in (quiet, back)}
    desk.drain_queue(desk.work_queue_url, "router")
    for conv in convs.values():
        assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    customers = {phone: desk.item(f"IDENTITY#phone#{phone}")["customer_id"] for phone in (quiet, back)}
    # the resolve set each customer's timer 30 days on
    timer = desk.item(f"CUSTOMER#{customers[quiet]}", "DEADLINE#inactive_customer")
    assert abs(clock.parse_iso(timer["due_at"]).timestamp() - (clock.now() + timedelta(days=30)).timestamp()) < 120
    # When one of them writes again 20 days later, and the sweep runs once their 30 days are over
    clock.set_offset(timedelta(days=20).total_seconds())
    customer_writes(desk, back, "Me again: the parcel never came", "SMidle3")
    clock.set_offset(timedelta(days=31).total_seconds())
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    # Then the quiet one is erased, by the system, on the audit trail; the one who wrote again is still there
    assert desk.item(f"CUSTOMER#{customers[quiet]}") is None and desk.item(f"IDENTITY#phone#{quiet}") is None
    assert desk.item(f"CUSTOMER#{customers[back]}") is not None
    trail = admin(desk, "GET", "/admin/audit", query=f"customer_id={customers[quiet]}")[1]["items"]
    [erase] = [r for r in trail if r["action"] == "customer.erase"]
    assert erase["actor"] == "system:retention" and erase["details"]["reason"] == "inactive"
    assert desk.item(f"CUSTOMER#{customers[quiet]}", "DEADLINE#inactive_customer") is None


def test_a_period_lengthened_after_the_timer_was_set_is_counted_in_full(desk):
    # Given a customer resolved under 30 days, and the shop keeping inactive customers 60 days since
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"inactive_customers_days": 30}})[0] == 200
    online(desk, "alice")
    phone = "+31655501311"
    conv = customer_writes(desk, phone, "Where is my order?", "SMidle11")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    resolved = clock.now()
    customer = desk.item(f"IDENTITY#phone#{phone}")["customer_id"]
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"inactive_customers_days": 60}})[0] == 200
    # When the timer set for day 30 comes due
    clock.set_offset(timedelta(days=31).total_seconds())
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    # Then the customer is kept, and looked at again 60 days after their last conversation moved
    assert desk.item(f"CUSTOMER#{customer}") is not None
    timer = desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer")
    assert abs(clock.parse_iso(timer["due_at"]) - (resolved + timedelta(days=60))) < timedelta(minutes=2)
    # And when those 60 days are over, they are erased
    clock.set_offset(timedelta(days=61).total_seconds())
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    assert desk.item(f"CUSTOMER#{customer}") is None
    assert desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer") is None


def test_a_thank_you_kept_on_the_resolved_conversation_counts_the_days_again_from_it(desk):
    # Given a customer resolved under 30 days who thanks the shop 2 days later (kept on the resolved conversation)
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"inactive_customers_days": 30}})[0] == 200
    online(desk, "alice")
    phone = "+31655501312"
    conv = customer_writes(desk, phone, "Where is my order?", "SMidle12")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    customer = desk.item(f"IDENTITY#phone#{phone}")["customer_id"]
    clock.set_offset(timedelta(days=2).total_seconds())
    thanked = clock.now()
    assert post_twilio(desk, twilio_form(MessageSid="SMidle13", From=phone, To="+14155550100",
                                         Body="Thank you so much!"))["statusCode"] == 200
    assert desk.item(f"IDENTITY#phone#{phone}").get("open_conversation_id") is None
    assert desk.item(f"CONV#{conv}")["status"] == "resolved"
    # When the timer set at the resolve comes due
    clock.set_offset(timedelta(days=31).total_seconds())
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    # Then they are kept, and looked at again 30 days after their thank-you
    assert desk.item(f"CUSTOMER#{customer}") is not None
    timer = desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer")
    assert abs(clock.parse_iso(timer["due_at"]) - (thanked + timedelta(days=30))) < timedelta(minutes=2)


def test_a_retention_set_later_is_given_to_what_was_written_before_it_and_a_second_run_writes_nothing(desk, capsys):
    from scripts.backfill import main as backfill
    # Given a conversation answered and resolved while nothing expired
    online(desk, "alice")
    conv = customer_writes(desk, "+31655501401", "Where is my order?", "SMlate1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": "On its way"})[0] == 202
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    customer = desk.item("IDENTITY#phone#+31655501401")["customer_id"]
    assert all("ttl" not in i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#"))
    # When an admin sets a retention, and the operator applies it to what is there (a dry run first)
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {
        "messages_days": 60, "closed_conversations_days": 14, "inactive_customers_days": 90}})[0] == 200
    args = ["retention", "--table", desk.table_name, "--endpoint-url", desk.endpoint]
    assert backfill([*args, "--dry-run"]) == 0
    assert all("ttl" not in i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#"))
    assert backfill(args) == 0
    # Then every message expires 60 days after it was written, the conversation 14 days after its resolve, and the
    # customer has a timer 90 days after it
    items = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    messages = [i for i in items if i["SK"].startswith("MSG#")]
    assert messages and all(int(m["ttl"]) == int((clock.parse_iso(m["created_at"]) + timedelta(days=60)).timestamp())
                            for m in messages)
    meta = next(i for i in items if i["SK"] == "META")
    assert int(meta["ttl"]) == int((clock.parse_iso(meta["updated_at"]) + timedelta(days=14)).timestamp())
    timer = desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer")
    assert timer["due_at"] == clock.iso(clock.parse_iso(meta["updated_at"]) + timedelta(days=90))
    # and a second run finds everything as it should be
    assert backfill(args) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("retention:")]
    assert said[-1].endswith("wrote 0 messages, 0 closed conversations, 0 surveys, 0 label items, "
                             "0 inactive timers"), said
    assert "would write" in said[0] and " 0 messages" not in said[0]


def test_a_retention_saved_is_given_to_what_is_already_stored_by_a_job_a_slice_at_a_time(desk, monkeypatch):
    from tests.support import FakeContext
    # Given two conversations written while nothing expired, one of them answered and resolved
    online(desk, "alice")
    convs = [customer_writes(desk, phone, "Where is my order?", sid)
             for phone, sid in (("+31655501501", "SMjob1"), ("+31655501502", "SMjob2"))]
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{convs[0]}/replies", "alice", {"text": "On its way"})[0] == 202
    assert agent(desk, "POST", f"/agent/conversations/{convs[0]}/status", "alice", {"status": "resolved"})[0] == 200
    customer = desk.item(f"CONV#{convs[0]}")["customer"]["id"]
    # When an admin keeps messages 60 days, resolved conversations 14 and inactive customers 90, and the job's
    # invocations each have time for no more than the one page of one conversation each step makes at least
    monkeypatch.setattr("shopdesk.privacy.reapply.PAGE", 1)
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", staticmethod(lambda: 0))
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {
        "messages_days": 60, "closed_conversations_days": 14, "inactive_customers_days": 90}})
    assert status == 200 and saved["retention_job_id"]
    job = saved["retention_job_id"]
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"
    slices = desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy")
    # Then it went on over several invocations until every message expires 60 days after it was written, the
    # resolved conversation 14 days after its resolve, and its customer has a timer 90 days after it
    assert slices >= 4
    done = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert done["status"] == "done" and done["kind"] == "retention" and done.get("customer_id") is None
    assert done["counts"]["conversations"] == 2 and done["counts"]["closed_conversations"] == 1
    assert done["counts"]["inactive_timers"] == 1 and done["counts"]["messages"] >= 5
    messages = [i for i in scan(desk) if i["PK"] in {f"CONV#{c}" for c in convs} and i["SK"].startswith("MSG#")]
    assert messages and all(int(m["ttl"]) == int((clock.parse_iso(m["created_at"]) + timedelta(days=60)).timestamp())
                            for m in messages)
    meta = desk.item(f"CONV#{convs[0]}")
    assert int(meta["ttl"]) == int((clock.parse_iso(meta["updated_at"]) + timedelta(days=14)).timestamp())
    assert "ttl" not in desk.item(f"CONV#{convs[1]}")                 # still open
    timer = desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer")
    assert timer["due_at"] == clock.iso(clock.parse_iso(meta["updated_at"]) + timedelta(days=90))
    # and the audit trail says it was applied, by whose save
    [applied] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:privacy")[1]["items"]
                 if r["action"] == "retention.applied"]
    assert applied["details"]["requested_by"] == "root" and applied["details"]["messages_days"] == 60


def test_a_save_that_changes_no_retention_of_the_table_starts_no_job(desk):
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 60}})[1]["retention_job_id"]
    run_jobs(desk)
    for body in ({"retention": {"messages_days": 60}, "masking_patterns": [{"name": "bsn", "pattern": r"\b\d{9}\b"}]},
                 {"retention": {"messages_days": 60, "events_days": 200}}):
        status, saved = admin(desk, "PUT", "/admin/privacy/settings", body)
        assert status == 200 and saved.get("retention_job_id") is None, saved


def test_a_class_set_back_to_kept_takes_away_the_expiry_it_gave_but_a_survey_keeps_its_conversation_s(desk):
    from shopdesk.dal.table import serialize
    # Given messages and a resolved conversation given 30 and 14 days, and a survey sent with the conversation's expiry
    online(desk, "alice")
    conv = customer_writes(desk, "+31655501601", "Where is my order?", "SMkept1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    assert admin(desk, "PUT", "/admin/privacy/settings", {"retention": {
        "messages_days": 30, "closed_conversations_days": 14}})[1]["retention_job_id"]
    run_jobs(desk)
    closes = int(desk.item(f"CONV#{conv}")["ttl"])
    survey = {"PK": f"CONV#{conv}", "SK": "MSG#2999-01-01T00:00:00Z#m_survey", "type": "message", "id": "m_survey",
              "conversation_id": conv, "direction": "outbound", "kind": "csat_survey", "text": "How did we do?",
              "created_at": "2999-01-01T00:00:00Z", "ttl": closes}
    desk.client("dynamodb").put_item(TableName=desk.table_name, Item=serialize(survey))
    # When the admin goes back to keeping both until erased
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {
        "messages_days": None, "closed_conversations_days": None}})
    assert status == 200 and saved["retention_job_id"]
    run_jobs(desk)
    # Then the messages and the conversation stop expiring, and the survey still goes with the conversation's date
    items = [i for i in scan(desk) if i["PK"] == f"CONV#{conv}"]
    assert all("ttl" not in i for i in items if i["SK"].startswith("MSG#") and i["id"] != "m_survey")
    assert "ttl" not in desk.item(f"CONV#{conv}")
    assert int(desk.item(f"CONV#{conv}", survey["SK"])["ttl"]) == closes
    done = admin(desk, "GET", f"/admin/privacy/jobs/{saved['retention_job_id']}")[1]
    assert done["status"] == "done" and done["counts"]["closed_conversations"] == 1 and done["counts"]["messages"] >= 2


def test_what_writers_still_holding_the_old_retention_write_after_a_save_gets_its_expiry_from_a_second_pass(desk):
    # Given a customer who wrote while messages were kept until erased (ingest and the router hold that setting, read
    # at most every five minutes)
    conv = customer_writes(desk, "+31655501701", "Where is my order?", "SMsettle1")
    desk.drain_queue(desk.work_queue_url, "router")
    # When an admin keeps messages 30 days: the job gives what is stored its expiry at once and is done
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"messages_days": 30}})
    assert status == 200 and saved["retention_job_id"]
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{saved['retention_job_id']}")[1]["status"] == "done"
    # and the customer writes again at once: ingest and the router still hold the old setting and write no expiry
    customer_writes(desk, "+31655501701", "It is order 1001", "SMsettle2")
    desk.drain_queue(desk.work_queue_url, "router")

    def messages() -> list[dict[str, Any]]:
        return [i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("MSG#")]

    assert [m for m in messages() if "ttl" not in m]
    # Then, once every writer's settings have been read again, a second pass gives those their expiry too
    clock.set_offset(6 * 60)
    desk.invoke("sla_sweep", {})
    run_jobs(desk)
    assert all(int(m["ttl"]) == int((clock.parse_iso(m["created_at"]) + timedelta(days=30)).timestamp())
               for m in messages())
    # the audit trail names it, and the save it follows
    [second] = [r for r in admin(desk, "GET", "/admin/audit", query="actor=system:retention")[1]["items"]
                if r["action"] == "retention.applied" and r["details"].get("settles")]
    assert second["details"]["settles"] == saved["retention_job_id"]
    assert second["details"]["requested_by"] == "system:retention" and second["details"]["messages"] >= 1
    # and nothing more is scheduled: a later sweep starts no third pass
    clock.set_offset(20 * 60)
    desk.invoke("sla_sweep", {})
    assert desk.drain_queue(desk.env["PRIVACY_QUEUE_URL"], "privacy") == 0


def _privacy_messages(desk: Any, receives: int) -> dict[str, Any]:
    """The privacy queue's waiting messages as Lambda gets them on their ``receives``-th delivery."""
    from tests.support import sqs_event
    sqs = desk.client("sqs")
    url = desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"],
                                   VisibilityTimeout=0)["Messages"]
    for m in received:
        m["Attributes"]["ApproximateReceiveCount"] = str(receives)
    return sqs_event(received, arn)


def test_an_erase_that_fails_its_last_attempt_says_failed_and_a_redrive_after_the_fix_finishes_it(desk, monkeypatch):
    from shopdesk.privacy.erase import Eraser
    conv = customer_writes(desk, "+31655501601", "My card is broken, call me", "SMfail1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202
    job = started["job_id"]

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the table said no about +31655501601")
    monkeypatch.setattr(Eraser, "erase", broken)
    # Given an erase that fails on an attempt before the queue's last: it is retried, and still running
    result = desk.invoke("privacy", _privacy_messages(desk, 4))
    assert len(result["batchItemFailures"]) == 1
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"
    # When its last attempt (the queue's maxReceiveCount) fails too
    result = desk.invoke("privacy", _privacy_messages(desk, 5))
    # Then the message goes on to the dead-letter queue, and the job says it failed, how, and what happens now,
    # without the error's text (it quoted the customer)
    assert len(result["batchItemFailures"]) == 1
    failed = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert failed["status"] == "failed" and failed["finished_at"]
    assert "5 attempts" in failed["error"] and "RuntimeError" in failed["error"] and "run it again" in failed["error"]
    assert "+3165" not in json.dumps(failed)
    # and the audit trail records it, naming the job and not the error's text
    [record] = [r for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
                if r["action"] == "customer.erase.failed"]
    assert record["details"]["job_id"] == job and record["details"]["attempts"] == 5
    assert "+3165" not in json.dumps(record)
    # and the customer, whom the erase held while it ran, is held no more: their next message is stored
    assert customer_writes(desk, "+31655501601", "Are you still there?", "SMfail1b") == conv
    assert desk.item("EXTMSG#twilio#SMfail1b")["conversation_id"] == conv
    assert not [i for i in scan(desk) if i.get("erasing")]
    # When the operator redrives it after the fix, the job runs again and finishes
    monkeypatch.undo()
    result = desk.invoke("privacy", _privacy_messages(desk, 1))
    assert result["batchItemFailures"] == []
    done = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert done["status"] == "done" and done.get("error") is None and done["counts"]["conversations"] == 1
    assert desk.item(f"CONV#{conv}") is None


def test_a_last_attempt_killed_when_its_time_ran_out_says_failed_once_its_invocation_is_over(desk, monkeypatch):
    from shopdesk.privacy.erase import Eraser
    conv = customer_writes(desk, "+31655501602", "Please forget me", "SMfail2")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    job = admin(desk, "POST", f"/admin/customers/{customer}/erase")[1]["job_id"]

    class Killed(BaseException):
        """Lambda ending the invocation: nothing after it runs in the function."""

    def killed(*_: Any, **__: Any) -> Any:
        raise Killed
    monkeypatch.setattr(Eraser, "erase", killed)
    # Given the queue's last attempt killed mid-erase (the test context gives an invocation 30 s)
    with pytest.raises(Killed):
        desk.invoke("privacy", _privacy_messages(desk, 5))
    # Then while that invocation could still be running the job is running
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "running"
    # and once its time is over it says failed: out of time after 5 attempts
    clock.set_offset(31)
    failed = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert failed["status"] == "failed" and "5 attempts (out of time)" in failed["error"]
    # When it is redriven after the fix, its first attempt runs it to the end
    monkeypatch.undo()
    assert desk.invoke("privacy", _privacy_messages(desk, 1))["batchItemFailures"] == []
    done = admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]
    assert done["status"] == "done" and done.get("error") is None
    assert desk.item(f"CONV#{conv}") is None


def test_an_export_s_data_is_plain_json_its_raw_mail_opens_as_mail_and_it_leaves_out_the_desk_s_access_grants(desk):
    from tests.integration.test_email import _deliver, _eml
    # Given a customer who wrote by email about an order (the understanding gives the conversation its topics),
    # mentioned to a second agent in a note (a grant: the desk's access control)
    assert _deliver(desk, _eml(body="Hello,\nwhere is my order #1001? It has not arrived.\n"), "mexp1")["stored"] == 1
    conv = next(i for i in scan(desk) if i.get("type") == "conversation")["PK"][5:]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/notes", "alice", {"text": "@bob can you check?"})[0] == 201
    meta = desk.item(f"CONV#{conv}")
    assert isinstance(meta.get("topics"), set) and meta.get("granted"), meta      # sets, as the table holds them
    customer = meta["customer"]["id"]
    # When an admin exports them
    job = _job(desk, "export", customer)
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:
        archive = zipfile.ZipFile(io.BytesIO(answer.read()))
    raw = archive.read("data.json").decode()
    data = json.loads(raw)
    # Then the sets are JSON lists, not Python's text of them, and the grants are not there
    [exported] = data["conversations"]
    assert exported["conversation"]["topics"] == sorted(meta["topics"])
    assert "{'" not in raw and "granted" not in exported["conversation"]
    # and nothing of the desk's own: agents' unread marks, the SLA engine's and the table's bookkeeping, delivery
    # markers, where the agents worked from; the note is there (the admin reviews the archive before sending it)
    assert not {"mentions_unread", "clocks_json", "sla_warned"} & set(exported["conversation"]), exported
    assert "message_sk" not in raw and "other" not in data
    assert data["audit"] and not [r for r in data["audit"] if {"source_ip", "user_agent", "request_id"} & set(r)]
    assert "@bob can you check?" in [m.get("text") for m in exported["messages"]]
    # and the raw mail is a .eml file, named so in data.json
    [mail] = [f for f in data["files"] if f.startswith("files/raw/")]
    assert mail == "files/raw/mexp1.eml" and mail in archive.namelist()
    assert b"where is my order #1001?" in archive.read(mail)


def test_a_customer_lookup_is_in_the_trail_under_the_customer_it_found_and_a_job_s_progress_is_not_a_record(desk):
    conv = whatsapp(desk, "Where is my parcel?", "SMlook1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    # When an admin looks the customer up by their phone number, and by an address nobody has
    assert admin(desk, "GET", "/admin/customers", query="phone=%2B31655501234")[1]["items"][0]["id"] == customer
    assert admin(desk, "GET", "/admin/customers", query="email=nobody@example.com")[1] == {"items": []}
    # Then the lookup that found them is on the trail under the customer
    about = admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
    assert [r["action"] for r in about].count("customer.find") == 1
    # When the admin follows an export: reads while it runs reveal nothing and write nothing, the read that hands
    # out the link is recorded with the job (its details flat: job_id and kind)
    started = admin(desk, "POST", f"/admin/customers/{customer}/export")[1]["job_id"]
    for _ in range(3):
        assert admin(desk, "GET", f"/admin/privacy/jobs/{started}")[1]["status"] == "running"
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started}")[1]["download_url"]
    reads = [r for r in admin(desk, "GET", "/admin/audit", query=f"customer_id={customer}")[1]["items"]
             if r["action"] in ("customer.export.link", "privacy.job.read")]
    assert [(r["action"], r["details"]) for r in reads] == [("customer.export.link",
                                                             {"job_id": started, "kind": "export"})]


def _export_of(desk: Any, customer: str) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    job = _job(desk, "export", customer)
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:   # moto's presigned URL
        archive = zipfile.ZipFile(io.BytesIO(answer.read()))
    return archive, json.loads(archive.read("data.json"))


def test_an_export_holds_the_survey_records_and_the_lake_s_rows_of_the_customer_and_those_merged_into_them(desk):
    from tests.integration.test_analytics import Lake
    from tests.integration.test_csat import _resolved_sms_conversation, _sms
    from tests.integration.test_csat import _settings as surveys_on
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])        # the table's stream through the writer into the lake
    # Given a customer who rated the agent 4 and commented, and a second number of theirs merged into them
    surveys_on(desk)
    conv = _resolved_sms_conversation(desk, "+31655502101", "SMrate1")
    _sms(desk, "+31655502101", "4", "SMrate2")
    desk.drain_queue(desk.work_queue_url, "router")
    _sms(desk, "+31655502101", "Very kind agent, plumquasar", "SMrate3")
    desk.drain_queue(desk.work_queue_url, "router")
    second = customer_writes(desk, "+31655502102", "My other number", "SMrate4")
    desk.drain_queue(desk.work_queue_url, "router")
    customer, merged = (desk.item(f"IDENTITY#phone#{p}")["customer_id"] for p in ("+31655502101", "+31655502102"))
    status, body = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                         {"other_id": merged, "reason": "same person"})
    assert status == 200, body
    stranger = customer_writes(desk, "+31655502103", "Someone else entirely", "SMrate5")
    assert lake.pump()
    # When an admin exports the customer
    _, data = _export_of(desk, customer)
    # Then the conversation holds its survey record: score, state, agent and comment
    [exported] = [c for c in data["conversations"] if c["conversation"]["id"] == conv]
    [record] = exported["csat"]
    assert record["score"] == 4 and record["state"] == "commented" and record["agent_id"] == "alice"
    assert record["comment"] == "Very kind agent, plumquasar" and "ttl" not in record and "PK" not in record
    # and the event lake's rows about them: the rating of their conversation, and the rows of the customer merged
    # into them, as the lake holds them (ids and figures, its detail as JSON); none of anyone else's
    events = data["events"]
    [rating] = [e for e in events if e["type"] == "csat_answered"]
    assert rating["conversation_id"] == conv and rating["rating"] == 4 and isinstance(rating["detail"], dict)
    assert {customer, merged} <= {e["customer_id"] for e in events}
    assert {conv, second} <= {e["conversation_id"] for e in events}
    assert stranger not in {e["conversation_id"] for e in events}
    assert len({e["event_id"] for e in events}) == len(events)          # each event once
    assert [e["at_ms"] for e in events] == sorted(e["at_ms"] for e in events)


def test_files_uploaded_but_never_sent_are_in_the_export_and_gone_after_the_erase(desk):
    from tests.integration.test_attachments import PNG, upload
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session, _upload
    # Given a web-chat visitor who uploads two files and sends one, and an agent who uploads two files for a reply
    # and sends neither (a reply never written)
    session = _session(desk, "visitor-olga")
    sent = _upload(desk, session, "receipt.png", "image/png", PNG)
    abandoned = _upload(desk, session, "abandoned.png", "image/png", PNG + b"olga")
    status, message, _ = widget(desk, "POST", "/widget/messages", {
        "client_message_id": "o1", "text": "my receipt",
        "attachments": [{"key": sent, "filename": "receipt.png", "content_type": "image/png", "size": len(PNG)}]},
        session)
    assert status == 201, message
    conv = message["conversation_id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    drafts = [upload(desk, f"draft-{n}.png", "image/png", PNG, conv)["key"] for n in (1, 2)]
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    # and another visitor's upload, and an agent's in another conversation
    keep_visitor = _upload(desk, _session(desk, "visitor-olgb"), "theirs.png", "image/png", PNG)
    other = customer_writes(desk, "+31655502201", "Someone else", "SMupl1")
    desk.drain_queue(desk.work_queue_url, "router")
    keep_agent = upload(desk, "theirs.png", "image/png", PNG, other)["key"]
    # When an admin exports the visitor
    archive, data = _export_of(desk, customer)
    # Then the export holds every file: the one sent, the one abandoned, the agent's drafts
    for key in (abandoned, *drafts):
        assert f"files/{key}" in data["files"] and f"files/{key}" in archive.namelist(), key
    assert archive.read(f"files/{abandoned}") == PNG + b"olga"
    assert not {f"files/{keep_visitor}", f"files/{keep_agent}"} & set(data["files"])
    # When the admin erases the visitor
    _job(desk, "erase", customer)
    # Then none of their files is left in the media bucket; the others' are
    left = set(_objects(desk, desk.env["MEDIA_BUCKET"]))
    assert not [k for k in left if k.startswith(("media/webchat/visitor-olga/", f"media/outbound/{conv}/"))], left
    assert {keep_visitor, keep_agent} <= left


def test_a_retention_saved_later_gives_a_resolved_conversation_s_survey_record_and_label_items_its_expiry(desk):
    from tests.integration.test_csat import _resolved_sms_conversation, _sms
    from tests.integration.test_csat import _settings as surveys_on
    # Given a labelled conversation resolved, rated and commented on while nothing expired
    surveys_on(desk)
    assert admin(desk, "PUT", "/admin/labels/shipping", {"name": "Shipping", "color": "#2F80ED"})[0] == 200
    online(desk, "alice")
    conv = customer_writes(desk, "+31655502301", "Where is my parcel?", "SMret1")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/labels", "alice", {"add": ["shipping"]})[0] == 200
    assert _resolved_sms_conversation(desk, "+31655502301", "SMret1") == conv
    _sms(desk, "+31655502301", "4", "SMret2")
    desk.drain_queue(desk.work_queue_url, "router")
    _sms(desk, "+31655502301", "Very kind agent", "SMret3")
    desk.drain_queue(desk.work_queue_url, "router")
    record = next(i for i in scan(desk) if i["PK"] == f"CONV#{conv}" and i["SK"].startswith("CSAT#"))
    assert record["comment"] == "Very kind agent" and "ttl" not in record
    assert "ttl" not in desk.item(f"CONV#{conv}", "LABEL#shipping")
    # When an admin keeps resolved conversations 30 days
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"closed_conversations_days": 30}})
    assert status == 200 and saved["retention_job_id"]
    run_jobs(desk)
    # Then the survey record and the label item expire with the conversation
    closes = int(desk.item(f"CONV#{conv}")["ttl"])
    assert int(desk.item(f"CONV#{conv}", record["SK"])["ttl"]) == closes
    assert int(desk.item(f"CONV#{conv}", "LABEL#shipping")["ttl"]) == closes
    done = admin(desk, "GET", f"/admin/privacy/jobs/{saved['retention_job_id']}")[1]
    assert done["counts"]["surveys"] == 1 and done["counts"]["label_items"] == 1, done
    # and set back to kept, they stop expiring with it
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", {"retention": {"closed_conversations_days": None}})
    run_jobs(desk)
    assert "ttl" not in desk.item(f"CONV#{conv}")
    assert "ttl" not in desk.item(f"CONV#{conv}", record["SK"])
    assert "ttl" not in desk.item(f"CONV#{conv}", "LABEL#shipping")


def test_the_verification_rate_bucket_of_an_address_holds_no_address_and_still_limits_it(desk):
    from tests.integration.test_widget import _call as widget
    from tests.integration.test_widget import _session
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given visitors who ask codes for the same address (typed with capitals once)
    for n, email in enumerate(["Otto.Typed@Example.com", "otto.typed@example.com", "otto.typed@example.com"]):
        status, body, _ = widget(desk, "POST", "/widget/email-verification", {"email": email},
                                 _session(desk, f"visitor-v{n}"))
        assert status == 202, body
    # Then no rate bucket names the address
    buckets = [i["PK"] for i in scan(desk) if i["PK"].startswith("RATE#")]
    assert buckets and not [b for b in buckets if "otto" in b.lower()], buckets
    # and the address's bucket still limits it: a fourth code for it, from yet another visitor, is refused
    assert widget(desk, "POST", "/widget/email-verification", {"email": "otto.typed@example.com"},
                  _session(desk, "visitor-v3"))[0] == 429


def test_an_export_whose_lake_cannot_answer_fails_and_runs_again_never_an_archive_without_the_lake(desk, monkeypatch):
    from shopdesk.analytics.athena import QueryFailed
    from shopdesk.analytics.duckdb_lake import DuckDbLake
    from tests.integration.test_analytics import Lake
    from tests.support import sqs_event
    lake = Lake(desk, desk.env["EVENTS_BUCKET"])        # the table's stream through the writer into the lake
    conv = whatsapp(desk, TEXT, "SMlakeout1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    assert lake.pump()
    # Given an export asked for while the lake's engine cannot answer (Athena failed, or hit the scan limit)
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/export")
    assert status == 202, started
    answers = DuckDbLake.rows

    def unavailable(self: Any, sql: str) -> list[dict[str, Any]]:
        raise QueryFailed("Query exhausted resources at this scale factor")
    monkeypatch.setattr(DuckDbLake, "rows", unavailable)
    # When the privacy function takes the job
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    result = desk.invoke("privacy", sqs_event([message], arn))
    # Then the message fails (the queue gives it again), the job still runs, and no archive nor link exists
    assert result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")
    assert status == 200 and job["status"] == "running" and job.get("download_url") is None, job
    assert _objects(desk, desk.env["EXPORT_BUCKET"]) == {}
    # And when the queue gives it again with the lake answering, the archive holds the lake's rows of her
    monkeypatch.setattr(DuckDbLake, "rows", answers)
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    run_jobs(desk)
    status, job = admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")
    assert job["status"] == "done", job
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:
        data = json.loads(zipfile.ZipFile(io.BytesIO(answer.read())).read("data.json"))
    assert data["events"] and {e.get("conversation_id") for e in data["events"]} == {conv}


def test_a_conflict_is_no_denied_record(desk):
    # Given a customer alice holds the conversation of, and a second customer
    online(desk, "alice")
    conv = whatsapp(desk, "Where is my order?", "SMconflict1")
    other_conv = customer_writes(desk, "+31655501299", "And mine?", "SMconflict2")
    desk.drain_queue(desk.work_queue_url, "router")
    customer, other = (desk.item(f"CONV#{c}")["customer"]["id"] for c in (conv, other_conv))
    assert agent(desk, "GET", f"/agent/customers/{customer}", "alice")[0] == 200
    # When the state refuses what they ask (409): alice merges a customer being erased, an admin erases twice
    erase = admin(desk, "POST", f"/admin/customers/{other}/erase")[1]["job_id"]
    status, problem = agent(desk, "POST", f"/agent/customers/{customer}/merge", "alice",
                            {"other_id": other, "reason": "same person"})
    assert status == 409, problem
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{erase}")[1]["status"] == "done"
    status, problem = admin(desk, "POST", f"/admin/customers/{other}/erase")
    assert status == 409 and problem["code"] == "already_erased", problem
    # Then neither is a denied record: they were allowed, and the state said no
    assert _denied(desk, "actor=alice&outcome=denied") == []
    assert _denied(desk, "actor=root&outcome=denied") == []
    assert _denied(desk, f"customer_id={customer}&outcome=denied") == []

