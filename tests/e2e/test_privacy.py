"""The right to be forgotten on the local stack: one customer writes through every channel (SMS, WhatsApp,
email, Messenger, Instagram, Telegram, web chat), reacts to a message, asks a code for an address of theirs they never
confirm, uploads a file they never send (and an agent one for a reply never sent), agents merge the seven into one
customer, answer (a reply with an Idempotency-Key), note and mention, email the transcript, the shop sends an order of
theirs and a data request, they rate the help with a comment, an admin exports them, then erases them; and then none
of their name, phone, email or words is anywhere: not in any table item (a Scan through ``GET /_local/aws``), not in
any S3 object or its key (archives, gzip and Parquet read whole), not in the search index (its words, its names), not
in the stack's logs; and no table item names their ids but those kept by design (``IDS_KEPT``)."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import boto3
import duckdb
import pytest
from tests.commerce_support import commerce_sample
from tests.e2e.test_channels import FAKE_META_SECRET, FAKE_TELEGRAM_SECRET, FAKE_VISITOR_SECRET, WIDGET_ORIGIN
from tests.e2e.test_core_loop import send_sms
from tests.e2e.test_search import text_in
from tests.support import twilio_form
from urllib3 import encode_multipart_formdata
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from local.commerce import SHOP_DOMAIN
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
    mid = f"m_{uuid.uuid4().hex}"
    _meta_event(stack, channel, {"message": {"mid": mid, "text": TEXTS[channel]}})
    if channel == "messenger":
        # and the customer reacts to what they wrote: a timeline event, whose marker's id names them (Meta's
        # reaction has no id of its own: ``reaction:<message>:<sender>:...``)
        _meta_event(stack, channel, {"reaction": {"mid": mid, "action": "react", "emoji": "\u2764"}})
    else:
        # and a message of theirs Meta sent that cannot be stored (its id is no id): kept as a record for 90 days
        _meta_event(stack, channel, {"message": {"mid": ["not", "an", "id"], "text": f"{WORD} unreadable"}})


def _meta_event(stack, channel: str, event: dict) -> None:
    obj, sender = {"messenger": ("page", PSID), "instagram": ("instagram", IGSID)}[channel]
    payload = {"object": obj, "entry": [{"id": "1234567890", "time": 1, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "1234567890"}, "timestamp": int(time.time() * 1000),
         **event}]}]}
    raw = json.dumps(payload).encode()
    answer = stack.post(f"/webhooks/{channel}", data=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw, FAKE_META_SECRET)})
    assert answer.status == 200, answer.text


def _telegram(stack) -> None:
    update_id = 7391000 + int(time.time()) % 1000
    for update in ({"update_id": update_id, "message": {
            "message_id": 7, "date": int(time.time()), "text": TEXTS["telegram"],
            "from": {"id": CHAT, "first_name": "Griselda", "last_name": "Oosterhuis"},
            "chat": {"id": CHAT, "type": "private", "first_name": "Griselda", "last_name": "Oosterhuis"}}},
            # and they edit it (the message changes, an entry says so, its marker keeps the update's id)
            {"update_id": update_id + 1, "edited_message": {
                "message_id": 7, "date": int(time.time()), "edit_date": int(time.time()) + 1,
                "text": TEXTS["telegram"] + ", edited",
                "from": {"id": CHAT, "first_name": "Griselda", "last_name": "Oosterhuis"},
                "chat": {"id": CHAT, "type": "private", "first_name": "Griselda", "last_name": "Oosterhuis"}}}):
        _json(stack, "/webhooks/telegram", update, {"X-Telegram-Bot-Api-Secret-Token": FAKE_TELEGRAM_SECRET})


def _webchat(stack) -> str:
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
    # someone else's chat types their address for a code (a typo, or a guess), never confirmed
    other = webchat.sign_visitor_token({"visitor_id": "visitor-elsewhere", "exp": exp}, FAKE_VISITOR_SECRET)
    elsewhere = stack.post("/widget/sessions", json={"visitor_token": other}, headers={"Origin": WIDGET_ORIGIN})
    assert elsewhere.status == 201, elsewhere.text
    typed = stack.post("/widget/email-verification", json={"email": EMAIL}, headers={
        "Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {elsewhere.json()['session']}"})
    assert typed.status == 202, typed.text
    # and a file uploaded and never sent
    upload = stack.post("/widget/attachments", json={"filename": "teapot.png", "content_type": "image/png",
                                                     "size": len(PNG)}, headers=visitor)
    assert upload.status == 201, upload.text
    post_file(upload.json(), "teapot.png", "image/png", PNG)
    # the widget's socket opens once the visitor has written (its rate bucket is named after the visitor): where
    started = session.json()
    return f"{started['live_url']}?session={urllib.parse.quote(started['session'])}"


def post_file(upload: dict, name: str, content_type: str, data: bytes) -> None:
    """The file to S3 with the presigned form an upload answered, as the browser does."""
    form, boundary_type = encode_multipart_formdata({**upload["fields"], "file": (name, data, content_type)})
    request = urllib.request.Request(upload["url"], data=form, method="POST", headers={"Content-Type": boundary_type})
    with urllib.request.urlopen(request, timeout=30) as posted:   # the stack's S3
        assert posted.status in (200, 201, 204)


def write_through_every_channel(stack) -> str:
    """All at once: each channel is its own function (the first call of each is a cold start). Where the web-chat
    visitor's socket opens."""
    writers = [_webchat, _phone, _email, _telegram, lambda s: _meta(s, "messenger"), lambda s: _meta(s, "instagram")]
    with ThreadPoolExecutor(max_workers=len(writers)) as pool:
        [socket_url, *_] = [done.result() for done in [pool.submit(writer, stack) for writer in writers]]
    return socket_url


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
            if (re.search(rf"(?<!\d){t}(?!\d)", text) if t.isdigit() else t.lower() in text.lower())]


def _clients(stack) -> tuple:
    where = stack.get("/_local/aws").json()
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=where["region"])
    return (session.client("dynamodb", endpoint_url=where["endpoint"]),
            session.client("s3", endpoint_url=where["endpoint"]))


def readable(key: str, body: bytes) -> str:
    """An object's key and what it holds as text: an archive's files (an export's zip), gzip unpacked, a Parquet
    file's rows (the lake on AWS), each read as it is written, so nothing hides in compressed bytes."""
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return key + "\n" + "\n".join(readable(name, archive.read(name)) for name in archive.namelist())
    if body.startswith(b"\x1f\x8b"):
        return readable(key, gzip.decompress(body))
    if body.startswith(b"PAR1"):
        with tempfile.NamedTemporaryFile(suffix=".parquet") as file:
            file.write(body)
            file.flush()
            rows = duckdb.sql("SELECT * FROM read_parquet(?)", params=[file.name]).fetchall()
        return key + "\n" + json.dumps(rows, default=str, ensure_ascii=False)
    return key + "\n" + body.decode("utf-8", errors="replace")


def closed(socket, within: float) -> bool:
    """Whether the socket is closed by the other end within ``within`` seconds (frames heard before are skipped)."""
    end = time.monotonic() + within
    try:
        while (left := end - time.monotonic()) > 0:
            socket.recv(timeout=left)
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False
    return False


def stores_naming_them(stack) -> dict[str, list[str]]:
    """Where anything of the customer is, and what: each kind of table item (its ``type``, else its key's prefix) and
    each bucket's folder (its key's first part) holding any of ``traces``. A Scan of every table and every object of
    every bucket, read whole (``readable``)."""
    dynamodb, s3 = _clients(stack)
    found: dict[str, set[str]] = {}
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                # binary attributes (the knowledge base's vectors) are read as text too: nothing hides in them
                seen = traces(json.dumps(item, ensure_ascii=False, default=lambda value: value.decode(
                    "utf-8", errors="replace") if isinstance(value, bytes) else str(value)))
                if seen:
                    kind = item.get("type", {}).get("S") or item["PK"]["S"].split("#")[0]
                    found.setdefault(kind, set()).update(seen)
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                seen = traces(readable(obj["Key"], body))
                if seen:
                    found.setdefault(f"s3://{bucket['Name']}/{obj['Key'].split('/')[0]}/", set()).update(seen)
    return {store: sorted(seen) for store, seen in sorted(found.items())}


KEPT_DEAD = "shopdesk-dev-ingest-retry-dlq.fifo"


def keep_in_dead_letters(stack, text: str) -> None:
    """An SMS of theirs as the ingest-retry queue keeps one the table could not take (``logic.webhooks.KeptRequest``),
    in its dead-letter queue, where it goes when its replays fail for good."""
    where = stack.get("/_local/aws").json()
    sqs = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local",
                        region_name=where["region"]).client("sqs", endpoint_url=where["endpoint"])
    sid = "SM" + uuid.uuid4().hex
    kept = {"provider": "twilio", "route": "message", "url": stack.url + "/webhooks/twilio",
            "body": twilio_form(MessageSid=sid, From=PHONE, To="+14155550100", Body=text),
            "received_at": stack.get("/_local/clock").json()["now"], "masked": []}
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=KEPT_DEAD)["QueueUrl"], MessageBody=json.dumps(kept),
                     MessageGroupId=f"twilio#{PHONE}", MessageDeduplicationId=sid)


def queues_naming_them(stack) -> dict[str, list[str]]:
    """Where anything of the customer is among the messages waiting in the stack's queues, the dead-letter queues
    among them, and what: each queue's name holding any of ``traces`` in a message's body or attributes. Each message
    is read without being taken: received with a visibility timeout, every one of a queue, then made visible again at
    once (its receive count goes up by one: a look at the end of a test). A FIFO queue gives no more of a group while
    one of it is held: a group's messages past the first receive's ten are not read (the stack's queues hold few)."""
    where = stack.get("/_local/aws").json()
    sqs = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local",
                        region_name=where["region"]).client("sqs", endpoint_url=where["endpoint"])
    found: dict[str, set[str]] = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        held: list[str] = []
        try:
            while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                             AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages"):
                held += [message["ReceiptHandle"] for message in got]
                for message in got:
                    seen = traces(json.dumps({k: v for k, v in message.items() if k != "ReceiptHandle"}))
                    if seen:
                        found.setdefault(url.rsplit("/", 1)[-1], set()).update(seen)
        finally:
            for start in range(0, len(held), 10):
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                    {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for n, handle in enumerate(held[start:start + 10])])
    return {queue: sorted(seen) for queue, seen in sorted(found.items())}


IDS_KEPT = {"audit", "changes", "erased", "erased_customer", "privacy_job", "privacy_request", "sla_event"}


def kinds_naming(stack, ids: list[str]) -> dict[str, int]:
    """The kinds of table item (as ``stores_naming_them``) that name any of these ids (customers, conversations):
    how many items of each."""
    dynamodb, _ = _clients(stack)
    found: dict[str, int] = {}
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if any(i in json.dumps(item, default=str) for i in ids):
                    kind = item.get("type", {}).get("S") or item["PK"]["S"].split("#")[0]
                    found[kind] = found.get(kind, 0) + 1
    return found


def desk_writes_about_them(stack, token: str, customer: str) -> None:
    """What the desk and the shop write about the customer beside their messages: a note naming them that mentions
    bob, a keyed reply (its Idempotency-Key's item), the transcript emailed, the shop's order of theirs and its data
    request naming them (its own export), the orders panel, a survey they answer with a rating and a comment, and an
    export an admin holds the link of."""
    [conv] = [c["id"] for c in stack.get(f"/agent/customers/{customer}?limit=100", token=token).json()["conversations"]
              if c["status"] == "open"]
    noted = stack.post(f"/agent/conversations/{conv}/notes", json={"text": f"@bob {NAME} ({PHONE}) asked twice"},
                       token=token)
    assert noted.status == 201, noted.text
    keyed = stack.post(f"/agent/conversations/{conv}/replies", json={"text": f"Thank you, {NAME}"}, token=token,
                       headers={"Idempotency-Key": f"erasecheck-{uuid.uuid4().hex}"})
    assert keyed.status == 202, keyed.text
    assert stack.put("/admin/labels/e2e-erasecheck", json={"name": "Erasecheck", "color": "#2F80ED"},
                     token=token).status == 200
    labelled = stack.post(f"/agent/conversations/{conv}/labels", json={"add": ["e2e-erasecheck"], "remove": []},
                          token=token)
    assert labelled.status == 200, labelled.text
    mailed = stack.post(f"/agent/conversations/{conv}/transcript", token=token)
    assert mailed.status in (200, 202) and mailed.json()["to"] == EMAIL, mailed.text
    # the shop: an order of theirs (the order cache, its pointers, the evidence it gives), a data request naming them
    order = json.loads(commerce_sample("shopify", "orders_create")[0])
    order.update({"id": 5550000000001, "admin_graphql_api_id": "gid://shopify/Order/5550000000001", "email": EMAIL,
                  "contact_email": EMAIL, "phone": PHONE, "name": "#5501", "order_number": 5501, "number": 4501,
                  "note": f"{WORD}: gift wrap the blue teapot"})
    order["customer"].update({"id": 5550000000002, "email": EMAIL, "phone": PHONE, "first_name": "Griselda",
                              "last_name": "Oosterhuis", "admin_graphql_api_id": "gid://shopify/Customer/5550000000002"})
    for address in ("billing_address", "shipping_address"):
        order[address].update({"first_name": "Griselda", "last_name": "Oosterhuis", "name": NAME, "phone": PHONE})
    for topic, payload in (("orders/create", order), ("customers/data_request", {
            "shop_id": 954889, "shop_domain": SHOP_DOMAIN, "orders_requested": [5550000000001],
            "customer": {"id": 5550000000002, "email": EMAIL, "phone": PHONE}, "data_request": {"id": 5503}})):
        delivered = stack.post("/_local/commerce/webhooks", json={"platform": "shopify", "topic": topic,
                                                                  "payload": payload})
        assert delivered.status == 200 and delivered.json()["status"] == 200, (topic, delivered.text)
    panel = stack.get(f"/agent/conversations/{conv}/orders", token=token)
    assert panel.status == 200 and "#5501" in [o["name"] for o in panel.json()["items"]], panel.text
    # the survey: asked on the channel they wrote on last (SMS), answered there with a rating and a comment
    assert stack.put("/admin/csat", json={"enabled": True, "when": "always"}, token=token).status == 200
    try:
        text_in(stack, PHONE, f"{WORD} and the lid of the blue teapot too", "SM" + uuid.uuid4().hex)
        stack.wait_for(lambda: WORD + " and the lid" in json.dumps(
            stack.get(f"/agent/conversations/{conv}", token=token).json()["messages"]), timeout=20)
        resolved = stack.post(f"/agent/conversations/{conv}/status", json={"status": "resolved"}, token=token)
        assert resolved.status == 200, resolved.text

        def kinds() -> set[str]:
            return {m["kind"] for m in stack.get(f"/agent/conversations/{conv}", token=token).json()["messages"]}
        stack.wait_for(lambda: "csat_survey" in kinds(), timeout=30)
        text_in(stack, PHONE, f"4, {WORD} the blue teapot came fast", "SM" + uuid.uuid4().hex)
        stack.wait_for(lambda: "csat_answer" in kinds(), timeout=30)
    finally:
        stack.put("/admin/csat", json={"enabled": False}, token=token)
    exported = stack.post(f"/admin/customers/{customer}/export", token=token)
    assert exported.status == 202, exported.text
    stack.wait_for(lambda: stack.get(f"/admin/privacy/jobs/{exported.json()['job_id']}", token=token).json()[
        "status"] == "done", timeout=30)


def test_a_customer_erased_after_writing_through_every_channel_is_nowhere(stack, request):
    alice, admin = stack.token("alice"), stack.token("alice")          # alice is an admin of the demo shop
    socket_url = write_through_every_channel(stack)
    # the visitor's page stays open through the erase: its socket too
    sockets = contextlib.ExitStack()
    request.addfinalizer(sockets.close)
    visitor_socket = sockets.enter_context(connect(socket_url, origin=WIDGET_ORIGIN, open_timeout=30))
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
    desk_writes_about_them(stack, alice, primary)
    conversations = stack.get(f"/agent/customers/{primary}?limit=100", token=alice).json()["conversations"]
    # Before: everything is there (the lake's events written out too), and the search index finds the word
    stack.wait_for(lambda: stack.get(f"/agent/search?q={WORD}", token=alice).json()["conversations"], timeout=20)
    assert stack.post("/_local/analytics/flush").status == 200
    stores = stores_naming_them(stack)
    ids = [primary, *identities.values(), *[c["id"] for c in conversations]]
    assert {"event_marker", "mention", "csat", "order", "order_ref", "unsupported"} <= set(stores), stores
    assert {EMAIL, TYPED} <= set(stores["otp"]), stores       # the code another chat asked for their address too
    naming = kinds_naming(stack, ids)
    assert {"reply_key", "grant", "label", "export", "privacy_request", "connection"} <= set(naming), naming
    assert naming["event_marker"] >= 2, naming          # the reaction's and the edit's
    assert {t for seen in stores.values() for t in seen} >= {NAME, PHONE, EMAIL, TYPED, WORD}
    # and a message of theirs is among the queues' messages: an SMS the table could not take, kept for its replay, whose
    # replays failed for good (as a storm leaves one: test_faults), in the ingest-retry queue's dead-letter queue;
    # nothing else of theirs waits in a queue (their work and replies are queued as ids)
    keep_in_dead_letters(stack, f"{WORD}, is the blue teapot in stock?")
    queued = queues_naming_them(stack)
    assert set(queued) == {KEPT_DEAD} and {PHONE[1:], WORD} <= set(queued[KEPT_DEAD]), queued

    # When an admin, having looked them up by their email and phone and seen whom those and their name find
    for query in (f"email={urllib.parse.quote(EMAIL)}", f"phone={urllib.parse.quote(PHONE)}"):
        found = stack.get(f"/admin/customers?{query}", token=admin)
        assert found.status == 200 and [c["id"] for c in found.json()["items"]] == [primary], found.text
    preview = stack.post("/admin/privacy/erasures/preview", json={"customers": [EMAIL, PHONE, NAME]}, token=admin)
    assert preview.status == 200, preview.text
    assert [r["outcome"] for r in preview.json()["items"]] == ["found", "same_customer", "unrecognised"], preview.text
    # erases the customer
    started = stack.post(f"/admin/customers/{primary}/erase", token=admin)
    assert started.status == 202, started.text
    job = started.json()["job_id"]

    def finished():
        answer = stack.get(f"/admin/privacy/jobs/{job}", token=admin).json()
        return answer if answer["status"] != "running" else None

    done = stack.wait_for(finished, timeout=30)
    assert done["status"] == "done" and done["counts"]["conversations"] == len(conversations)
    # the visitor's page left open hears its socket closed by the erase (what it heard before, a bare "changed")
    assert closed(visitor_socket, within=10)

    # and its last look at the uploads has come, ten minutes on (an upload link issued before the erase lasts five:
    # until then the job keeps the web-chat visitor's id, whose folder it looks at again, and no more)
    stack.advance(UPLOADS_SECONDS + 60)
    stack.run_schedule("SlaSweepFunction")

    # Then: nothing in any table or bucket (the lake's events of the erase written out too), nothing the search
    # index finds, nothing in the logs
    assert stack.post("/_local/analytics/flush").status == 200
    stack.wait_for(lambda: not stack.get(f"/agent/search?q={WORD}", token=alice).json()["conversations"], timeout=20)
    stack.wait_for(lambda: stack.get("/agent/search?q=griselda", token=alice).json()
                   == {"conversations": [], "customers": []}, timeout=20)
    with contextlib.suppress(AssertionError):       # said below: what is left, and where
        stack.wait_for(lambda: not stores_naming_them(stack), timeout=20, interval=1)
    assert stores_naming_them(stack) == {}
    # and nothing in any queue or dead-letter queue but that kept SMS: an erase takes no message out of a queue (SQS
    # deletes one only once it is received); redriven, its replay is dropped by the mark of their number, and its
    # retention (14 days) ends it: security.md, "Known limits". The stack's SES outbox is not looked at: it stands for
    # the mail delivered to the customer (the transcript), the provider's and the customer's side; shopdesk keeps no
    # copy of the mail it sends (the reply's record is in the table, an inbound mail's raw copy in S3: both scanned)
    assert queues_naming_them(stack) == queued
    # and of the table's items that name their ids, only those that keep ids by design: the trail, the live
    # notices of the changes (a day), the deletion list and the erase's record, the privacy jobs, and the shop's
    # request beside its stripped body (the customers it covered and their jobs)
    assert set(kinds_naming(stack, ids)) <= IDS_KEPT, kinds_naming(stack, ids)
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
