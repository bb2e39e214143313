"""The right to be forgotten on the local stack: one customer writes through every channel (SMS, WhatsApp,
email, Messenger, Instagram, Telegram, web chat), asks a code for an address of theirs they never confirm, uploads a
file they never send (and an agent one for a reply never sent), agents merge the seven into one customer and answer,
an admin erases them, and then none of their name, phone, email or words is anywhere: not in any table item (a Scan
through ``GET /_local/aws``), not in any S3 object or its key, not in the search index (its words, its names), not in
the stack's logs."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import boto3
import pytest
from tests.e2e.test_channels import FAKE_META_SECRET, FAKE_TELEGRAM_SECRET, FAKE_VISITOR_SECRET, WIDGET_ORIGIN
from tests.e2e.test_core_loop import send_sms
from tests.e2e.test_search import text_in
from tests.support import twilio_form
from urllib3 import encode_multipart_formdata
from websockets.sync.client import connect

from shopdesk.channels import meta, webchat
from shopdesk.privacy.jobs import UPLOADS_SECONDS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]

NAME = "Griselda Oosterhuis"
PHONE = "+14155557391"
EMAIL = "griselda.oosterhuis@customer.example"
WORD = "zephyrquokka"                  # in every message: what the search index would find
TEXTS = {channel: f"{WORD} {channel} question about my blue teapot {n}"
         for n, channel in enumerate(("sms", "whatsapp", "email", "messenger", "instagram", "telegram", "webchat"))}
PSID, IGSID, CHAT, VISITOR = "7391001", "7391002", 7391003, "visitor-7391"
TYPED = "g.oosterhuis@work.example"     # an address the visitor asks a code for and never confirms
PNG = b"\x89PNG\r\n\x1a\n" + f"{WORD} an upload never sent".encode()


def _json(stack, path: str, payload: dict, headers: dict[str, str]) -> None:
    raw = json.dumps(payload).encode()
    answer = stack.post(path, data=raw, headers={"Content-Type": "application/json", **headers})
    assert answer.status == 200, answer.text


def _phone(stack) -> None:
    text_in(stack, PHONE, TEXTS["sms"], "SM" + uuid.uuid4().hex)
    whatsapp = twilio_form(MessageSid="SM" + uuid.uuid4().hex, From=f"whatsapp:{PHONE}", To="whatsapp:+14155550199",
                           Body=TEXTS["whatsapp"], ProfileName=NAME)
    assert send_sms(stack, whatsapp).status == 200


def _email(stack) -> None:
    mail = (f"From: {NAME} <{EMAIL}>\r\nTo: support@shop.example\r\nSubject: Teapot\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\n\r\n{TEXTS['email']}\r\n").encode()
    assert stack.post("/_local/email?wait=1", data=mail, headers={"Content-Type": "message/rfc822"}).status == 202


def _meta(stack, channel: str) -> None:
    obj, sender = {"messenger": ("page", PSID), "instagram": ("instagram", IGSID)}[channel]
    payload = {"object": obj, "entry": [{"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "1234567890"}, "timestamp": int(time.time() * 1000),
         "message": {"mid": f"m_{uuid.uuid4().hex}", "text": TEXTS[channel]}}]}]}
    raw = json.dumps(payload).encode()
    answer = stack.post(f"/webhooks/{channel}", data=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)})
    assert answer.status == 200, answer.text


def _telegram(stack) -> None:
    update = {"update_id": 7391000 + int(time.time()) % 1000, "message": {
        "message_id": 7, "date": int(time.time()), "text": TEXTS["telegram"],
        "from": {"id": CHAT, "first_name": "Griselda", "last_name": "Oosterhuis"},
        "chat": {"id": CHAT, "type": "private", "first_name": "Griselda", "last_name": "Oosterhuis"}}}
    _json(stack, "/webhooks/telegram", update, {"X-Telegram-Bot-Api-Secret-Token": FAKE_TELEGRAM_SECRET})


def _webchat(stack) -> None:
    now = stack.get("/_local/clock").json()["now"]
    exp = int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) + 600
    token = webchat.sign_visitor_token({"visitor_id": VISITOR, "name": NAME, "email": EMAIL, "exp": exp},
                                       FAKE_VISITOR_SECRET)
    session = stack.post("/widget/sessions", json={"visitor_token": token}, headers={"Origin": WIDGET_ORIGIN})
    assert session.status == 201, session.text
    visitor = {"Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {session.json()['session']}"}
    sent = stack.post("/widget/messages", json={"client_message_id": "c1", "text": TEXTS["webchat"]}, headers=visitor)
    assert sent.status == 201, sent.text
    # a code asked for another address of theirs (its rate bucket is the address's), never confirmed
    asked = stack.post("/widget/email-verification", json={"email": TYPED}, headers=visitor)
    assert asked.status == 202, asked.text
    # and a file uploaded and never sent
    upload = stack.post("/widget/attachments", json={"filename": "teapot.png", "content_type": "image/png",
                                                     "size": len(PNG)}, headers=visitor)
    assert upload.status == 201, upload.text
    post_file(upload.json(), "teapot.png", "image/png", PNG)
    # the widget's socket opens once the visitor has written: its rate bucket is named after the visitor
    started = session.json()
    with connect(f"{started['live_url']}?session={urllib.parse.quote(started['session'])}", origin=WIDGET_ORIGIN,
                 open_timeout=30):
        pass


def post_file(upload: dict, name: str, content_type: str, data: bytes) -> None:
    """The file to S3 with the presigned form an upload answered, as the browser does."""
    form, boundary_type = encode_multipart_formdata({**upload["fields"], "file": (name, data, content_type)})
    request = urllib.request.Request(upload["url"], data=form, method="POST", headers={"Content-Type": boundary_type})
    with urllib.request.urlopen(request, timeout=30) as posted:   # the stack's S3
        assert posted.status in (200, 201, 204)


def write_through_every_channel(stack) -> None:
    """All at once: each channel is its own function (the first call of each is a cold start)."""
    writers = [_phone, _email, _telegram, _webchat, lambda s: _meta(s, "messenger"), lambda s: _meta(s, "instagram")]
    with ThreadPoolExecutor(max_workers=len(writers)) as pool:
        for done in [pool.submit(writer, stack) for writer in writers]:
            done.result()


def customers_of(stack, token: str) -> dict[str, str]:
    """(kind, address) -> customer id, for the seven identities."""
    wanted = {("phone", PHONE), ("email", EMAIL), ("messenger", PSID), ("instagram", IGSID),
              ("telegram", str(CHAT)), ("webchat", VISITOR)}
    found = {}
    for conv in stack.get("/agent/conversations?view=all&limit=100", token=token).json()["items"]:
        for identity in conv["customer"]["identities"]:
            key = (identity["kind"], identity["address"])
            if key in wanted:
                found[key] = conv["customer"]["id"]
    return found if len(found) == len(wanted) else {}


def traces(text: str) -> list[str]:
    """The customer's data found in ``text``. A number (a chat id, a phone's digits) is found as a number, not as
    digits inside a longer one: a log line's epoch milliseconds (1796637391003) hold the chat id 7391003 by chance."""
    return [t for t in (NAME, "Griselda", "Oosterhuis", PHONE, PHONE[1:], EMAIL, TYPED, WORD, "blue teapot", PSID,
                        IGSID, str(CHAT), VISITOR)
            if (re.search(rf"(?<!\d){t}(?!\d)", text) if t.isdigit() else t in text)]


def everything_in_aws(stack) -> str:
    where = stack.get("/_local/aws").json()
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=where["region"])
    dynamodb = session.client("dynamodb", endpoint_url=where["endpoint"])
    s3 = session.client("s3", endpoint_url=where["endpoint"])
    found = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            # binary attributes (the knowledge base's vectors) are read as text too: nothing hides in them
            found.append(json.dumps(page["Items"], ensure_ascii=False,
                                    default=lambda value: value.decode("utf-8", errors="replace")
                                    if isinstance(value, bytes) else str(value)))
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                found.append(obj["Key"] + "\n" + body.decode("utf-8", errors="replace"))
    return "\n".join(found)


def test_a_customer_erased_after_writing_through_every_channel_is_nowhere(stack):
    alice, admin = stack.token("alice"), stack.token("alice")          # alice is an admin of the demo shop
    write_through_every_channel(stack)
    identities = stack.wait_for(lambda: customers_of(stack, alice), timeout=20)
    primary = identities[("phone", PHONE)]
    # the search box finds them by their name (the channels that give one: e-mail, Telegram, web chat)
    stack.wait_for(lambda: stack.get("/agent/search?q=griselda%20oost", token=alice).json()["customers"], timeout=20)
    for other in set(identities.values()) - {primary}:
        merged = stack.post(f"/agent/customers/{primary}/merge", json={"other_id": other, "reason": "same person"},
                            token=alice)
        assert merged.status == 200, merged.text
    conversations = stack.get(f"/agent/customers/{primary}?limit=100", token=alice).json()["conversations"]
    # an agent uploads a file for a reply they never send
    drafted = stack.post("/agent/attachments", json={"filename": "draft.png", "content_type": "image/png",
                                                     "size": len(PNG), "conversation_id": conversations[0]["id"]},
                         token=alice)
    assert drafted.status == 201, drafted.text
    post_file(drafted.json(), "draft.png", "image/png", PNG)
    for conv in conversations:
        detail = stack.get(f"/agent/conversations/{conv['id']}", token=alice).json()
        if detail["assignee"]:
            holder = stack.token(detail["assignee"])
            assert stack.post(f"/agent/conversations/{conv['id']}/replies", json={"text": "Your teapot ships today"},
                              token=holder).status == 202
    # Before: everything is there, and the search index finds the word
    stack.wait_for(lambda: stack.get(f"/agent/search?q={WORD}", token=alice).json()["conversations"], timeout=20)
    assert set(traces(everything_in_aws(stack))) >= {NAME, PHONE, EMAIL, TYPED, WORD}

    # When an admin erases the customer
    started = stack.post(f"/admin/customers/{primary}/erase", token=admin)
    assert started.status == 202, started.text
    job = started.json()["job_id"]

    def finished():
        answer = stack.get(f"/admin/privacy/jobs/{job}", token=admin).json()
        return answer if answer["status"] != "running" else None

    done = stack.wait_for(finished, timeout=30)
    assert done["status"] == "done" and done["counts"]["conversations"] == len(conversations)

    # and its last look at the uploads has come, ten minutes on (an upload link issued before the erase lasts five:
    # until then the job keeps the web-chat visitor's id, whose folder it looks at again, and no more)
    stack.advance(UPLOADS_SECONDS + 60)
    stack.run_schedule("SlaSweepFunction")

    # Then: nothing in any table or bucket, nothing the search index finds, nothing in the logs
    stack.wait_for(lambda: not stack.get(f"/agent/search?q={WORD}", token=alice).json()["conversations"], timeout=20)
    stack.wait_for(lambda: stack.get("/agent/search?q=griselda", token=alice).json()
                   == {"conversations": [], "customers": []}, timeout=20)
    stack.wait_for(lambda: not traces(everything_in_aws(stack)), timeout=20, interval=1)
    logs = stack.logs()
    assert traces(logs) == [], [line[:300] for line in logs.splitlines() if traces(line)][:5]
    # and the audit trail records the erase without the data
    records = stack.get(f"/admin/audit?customer_id={primary}", token=admin).json()["items"]
    assert {"customer.erase", "customer.erase.done"} <= {r["action"] for r in records}
    assert traces(json.dumps(records)) == []


def test_the_local_aws_endpoint_is_where_the_stack_keeps_its_resources(stack):
    where = stack.get("/_local/aws").json()
    assert where["endpoint"].startswith("http://127.0.0.1:") and where["region"] == "us-east-1"
    tables = boto3.client("dynamodb", endpoint_url=where["endpoint"], region_name=where["region"],
                          aws_access_key_id="local", aws_secret_access_key="local").list_tables()["TableNames"]
    assert any(t.startswith("shopdesk-") for t in tables)
