"""A masking pattern of digits and the raw mail SES stored: each mail's message names where the mail is (the
inbound-mail bucket, whose name ends in the account's twelve digits, and SES's key), and masking never rewrites that,
at ingest or in the scan; the export and the erase take the bucket from their own setting, so a message that names it
masked (as masking wrote before) still exports and erases its mail."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from typing import Any

from shopdesk.privacy.masking import compile_patterns, mask
from tests.integration.test_email import _deliver, _eml
from tests.integration.test_privacy import _job, admin, run_jobs, scan

DIGITS = {"masking_patterns": [{"name": "BSN", "pattern": r"\d{9}"}]}   # as the settings' 422 suggests writing one


def _account_bucket(desk: Any) -> str:
    """A mail bucket named as the template names it: ``shopdesk-<stage>-inbound-mail-<account id>``."""
    bucket = f"sd-{uuid.uuid4().hex[:8]}-inbound-mail-123456789012"
    desk.client("s3").create_bucket(Bucket=bucket)
    desk.env["MAIL_BUCKET"] = bucket            # before any function is imported: each reads it at import
    return bucket


def _inbound(desk: Any) -> list[dict[str, Any]]:
    return sorted((i for i in scan(desk) if i.get("type") == "message" and i.get("direction") == "inbound"),
                  key=lambda i: i["provider_id"])


def _raw(desk: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in desk.client("s3").list_objects_v2(Bucket=bucket, Prefix="raw/").get("Contents", [])}


def _archive(desk: Any, customer: str) -> zipfile.ZipFile:
    job = _job(desk, "export", customer)
    with urllib.request.urlopen(job["download_url"], timeout=10) as answer:     # moto's presigned URL
        return zipfile.ZipFile(io.BytesIO(answer.read()))


def test_a_digit_pattern_leaves_where_the_mail_is_alone_and_the_customer_exports_and_erases(desk):
    bucket = _account_bucket(desk)
    # Given a shop pattern of nine digits, saved before the mail comes
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", DIGITS)
    assert status == 200, saved
    run_jobs(desk)
    # When a customer who writes no such number mails the shop, and another one who does
    mail = _eml(sender="Lee Jansen <lee@customer.example>", subject="Shipping question",
                body="Do you ship to Belgium?\n", message_id="<s1@customer.example>")
    assert _deliver(desk, mail, "s1") == {"stored": 1, "duplicates": 0}
    other = _eml(sender="Kim <kim@customer.example>", subject="My number", body="It is 123456782, thanks\n",
                 message_id="<s2@customer.example>")
    assert _deliver(desk, other, "s2") == {"stored": 1, "duplicates": 0}
    # Then the message names where the mail is as it is, and lists nothing masked
    lee, kim = _inbound(desk)
    assert lee["payload"]["source"] == {"bucket": bucket, "key": "raw/s1"}
    assert not lee.get("masked") and lee["text"] == "Do you ship to Belgium?"
    # (a number the customer wrote is masked as before, where they wrote it)
    assert kim["payload"]["source"] == {"bucket": bucket, "key": "raw/s2"}
    assert kim["masked"] == ["BSN"] and "123456782" not in json.dumps(kim, default=str)
    # And the customer's export holds their mail, and their erase takes it away
    customer = desk.item(f"CONV#{lee['PK'].removeprefix('CONV#')}")["customer"]["id"]
    archive = _archive(desk, customer)
    assert "files/raw/s1.eml" in archive.namelist() and b"Belgium" in archive.read("files/raw/s1.eml")
    _job(desk, "erase", customer)
    assert _raw(desk, bucket) == {"raw/s2"}
    assert desk.item(f"CUSTOMER#{customer}") is None


def test_the_masking_scan_leaves_where_a_mail_stored_before_is_alone(desk):
    bucket = _account_bucket(desk)
    # Given a mail stored before any pattern
    mail = _eml(sender="Kim Bos <kim@customer.example>", subject="Return", body="Can I return the teapot?\n",
                message_id="<b1@customer.example>")
    assert _deliver(desk, mail, "b1") == {"stored": 1, "duplicates": 0}
    [before] = _inbound(desk)
    # When an admin saves a pattern of nine digits, and the masking job it starts runs
    status, saved = admin(desk, "PUT", "/admin/privacy/settings", DIGITS)
    assert status == 200 and saved["masking_job_id"], saved
    run_jobs(desk)
    assert admin(desk, "GET", f"/admin/privacy/jobs/{saved['masking_job_id']}")[1]["status"] == "done"
    # Then the message is as it was: its mail's place, and nothing said masked
    [after] = _inbound(desk)
    assert after["payload"]["source"] == {"bucket": bucket, "key": "raw/b1"}
    assert not after.get("masked") and after == before
    # And the customer exports and erases with their mail
    customer = desk.item(f"CONV#{after['PK'].removeprefix('CONV#')}")["customer"]["id"]
    assert "files/raw/b1.eml" in _archive(desk, customer).namelist()
    _job(desk, "erase", customer)
    assert _raw(desk, bucket) == set()


def test_a_message_that_names_its_mail_masked_still_exports_and_erases_it(desk):
    bucket = _account_bucket(desk)
    ddb = desk.client("dynamodb")
    # Given a customer's two mails, one stored under a key with nine digits in it, and another customer's mail under a
    # key alike but for its last four
    keys = ("d1", "d2-0123456789ab", "d3-0123499999ab")
    for index, (key, sender) in enumerate(zip(keys, ("Lee", "Lee", "Max"), strict=True)):
        mail = _eml(sender=f"{sender} <{sender.lower()}@customer.example>", subject="Parcel",
                    body=f"Where is parcel {index}?\n", message_id=f"<{key}@customer.example>")
        assert _deliver(desk, mail, key) == {"stored": 1, "duplicates": 0}
    assert _raw(desk, bucket) == {f"raw/{key}" for key in keys}
    # and the damage masking did before: Lee's messages name the bucket, and one of them the key, masked
    patterns = compile_patterns([("BSN", r"\d{9}")])
    damaged = {}
    for message in _inbound(desk)[:2]:
        source = message["payload"]["source"]
        damaged[message["provider_id"]] = {"bucket": mask(source["bucket"], patterns).text,
                                           "key": mask(source["key"], patterns).text}
        ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": message["PK"]}, "SK": {"S": message["SK"]}},
                        UpdateExpression="SET payload.#s = :s, masked = :m", ExpressionAttributeNames={"#s": "source"},
                        ExpressionAttributeValues={":s": {"M": {k: {"S": v} for k, v in damaged[
                            message["provider_id"]].items()}}, ":m": {"L": [{"S": "BSN"}]}})
    assert damaged["d1@customer.example"] == {"bucket": bucket.replace("123456789012", "[BSN •••• 6789]012"),
                                              "key": "raw/d1"}
    assert damaged["d2-0123456789ab@customer.example"]["key"] == "raw/d2-[BSN •••• 5678]9ab"
    customer = desk.item("IDENTITY#email#lee@customer.example")["customer_id"]
    # When an admin exports them, then erases them
    archive = _archive(desk, customer)
    # Then the export holds both mails, and the erase takes both away; the other customer's mail stays
    assert {"files/raw/d1.eml", "files/raw/d2-0123456789ab.eml"} <= set(archive.namelist())
    _job(desk, "erase", customer)
    assert _raw(desk, bucket) == {"raw/d3-0123499999ab"}


def test_a_key_masked_right_after_its_folder_is_not_looked_for_through_the_whole_folder(desk, monkeypatch, caplog):
    from shopdesk.dal.privacy import Files

    bucket = _account_bucket(desk)
    ddb = desk.client("dynamodb")
    # Given a customer's mail stored under a key whose first characters a pattern masked (nothing of the mail's own
    # name is left before the masked stretch, only the folder, raw/), and another customer's mail
    for key, sender in (("0123456789ab", "Lee"), ("n2", "Max")):
        mail = _eml(sender=f"{sender} <{sender.lower()}@customer.example>", subject="Parcel",
                    body="Where is my parcel?\n", message_id=f"<{key}@customer.example>")
        assert _deliver(desk, mail, key) == {"stored": 1, "duplicates": 0}
    [lee] = [m for m in _inbound(desk) if m["provider_id"].startswith("0123")]
    damaged = {"bucket": bucket, "key": mask(lee["payload"]["source"]["key"],
                                             compile_patterns([("BSN", r"\d{9}")])).text}
    assert damaged["key"] == "raw/[BSN •••• 5678]9ab"
    ddb.update_item(TableName=desk.table_name, Key={"PK": {"S": lee["PK"]}, "SK": {"S": lee["SK"]}},
                    UpdateExpression="SET payload.#s = :s", ExpressionAttributeNames={"#s": "source"},
                    ExpressionAttributeValues={":s": {"M": {k: {"S": v} for k, v in damaged.items()}}})
    listed: list[str] = []
    keys = Files.keys
    monkeypatch.setattr(Files, "keys", lambda self, b, prefix: listed.append(prefix) or keys(self, b, prefix))
    customer = desk.item("IDENTITY#email#lee@customer.example")["customer_id"]
    # When an admin erases them
    _job(desk, "erase", customer)
    # Then no listing went through the whole folder of mail (90 days of it, on every read of the erase), the erase
    # finished and said what it left: that mail, to the bucket's expiry; the other customer's mail is there
    assert "raw/" not in listed, listed
    assert desk.item(f"CUSTOMER#{customer}") is None
    assert _raw(desk, bucket) == {"raw/0123456789ab", "raw/n2"}
    assert "a masked file key keeps nothing of its name before the mask" in caplog.text
