"""The event lake's bucket (shopdesk.dal.lake): the deletion list an erase writes, read back by the DuckDB lake, and
the lifecycle rules the privacy settings write, over moto's S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest

from shopdesk.analytics.duckdb_lake import S3DuckDbLake
from shopdesk.analytics.events import Event
from shopdesk.analytics.sql import NOT_ERASED
from shopdesk.dal.lake import LakeBucket


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield client


def _event(n: int, customer: str, conversation: str) -> str:
    return Event(event_id=f"e{n}", type="conversation_opened", version=1, occurred_at="2026-12-01T10:00:00.000Z",
                 at_ms=1796119200000, conversation_id=conversation, customer_id=customer,
                 day="2026-12-01").model_dump_json() + "\n"


def test_an_erase_s_deletion_list_hides_the_customer_from_what_the_lake_answers(s3):
    s3.put_object(Bucket="lake", Key="events/2026/12/01/10/batch",
                  Body=(_event(1, "u_gone", "c_gone") + _event(2, "u_kept", "c_kept") + _event(3, "u_gone", "c_old")))
    key = LakeBucket("lake", s3=s3).write_erased("j_1", "u_gone", ["c_gone", "c_old"])
    assert key == "erased/j_1.json"
    # written again by a retried job: the same object, the same rows
    LakeBucket("lake", s3=s3).write_erased("j_1", "u_gone", ["c_gone", "c_old"])
    lake = S3DuckDbLake("lake", "events/", s3=s3)
    assert lake.rows("SELECT count(*) AS n FROM {erased}") == [{"n": 3}]
    kept = lake.rows(f"SELECT customer_id FROM {{events}} WHERE {NOT_ERASED}")  # noqa: S608 (our statement)
    assert kept == [{"customer_id": "u_kept"}]


def test_the_deletion_list_names_the_customers_merged_into_the_one_erased(s3):
    # Given events written under a customer's own id before they were merged into the one erased
    s3.put_object(Bucket="lake", Key="events/2026/12/01/10/batch",
                  Body=_event(1, "u_kept", "c_kept") + _event(2, "u_merged", None) + _event(3, "u_gone", None))
    # When the survivor is erased
    LakeBucket("lake", s3=s3).write_erased("j_1", "u_gone", [], ["u_gone", "u_merged"])
    # Then the lake answers neither's events, and the survivor is listed once
    lake = S3DuckDbLake("lake", "events/", s3=s3)
    assert lake.rows("SELECT count(*) AS n FROM {erased}") == [{"n": 2}]
    kept = lake.rows(f"SELECT customer_id FROM {{events}} WHERE {NOT_ERASED}")  # noqa: S608 (our statement)
    assert kept == [{"customer_id": "u_kept"}]


def test_the_lake_s_rules_follow_the_setting_and_the_bucket_s_other_rules_stay(s3):
    # a rule in the old form (top-level Prefix), as CloudFormation's Prefix writes it
    s3.put_bucket_lifecycle_configuration(Bucket="lake", LifecycleConfiguration={"Rules": [
        {"ID": "query-results", "Status": "Enabled", "Prefix": "athena-results/", "Expiration": {"Days": 7}},
        {"ID": "events", "Status": "Enabled", "Prefix": "events/", "Expiration": {"Days": 400}}]})
    LakeBucket("lake", s3=s3).apply_retention(90)
    rules = {r["ID"]: (r["Filter"]["Prefix"], r["Expiration"]["Days"])
             for r in s3.get_bucket_lifecycle_configuration(Bucket="lake")["Rules"]}
    assert rules == {"query-results": ("athena-results/", 7), "events": ("events/", 90), "errors": ("errors/", 90),
                     "erased": ("erased/", 90)}


def test_a_bucket_without_rules_gets_the_lake_s(s3):
    assert [r["ID"] for r in LakeBucket("lake", s3=s3).apply_retention(30)] == ["events", "errors", "erased"]


def test_a_customer_s_events_are_theirs_and_their_conversations_once_each_without_what_an_erase_listed(s3):
    import sqlglot

    from shopdesk.analytics.sql import customer_events, to_trino
    # Given rows of the customer, of one merged into them, of a conversation of theirs without a customer id, of
    # someone else, one delivered twice, and a conversation of theirs on the deletion list
    s3.put_object(Bucket="lake", Key="events/2026/12/01/10/batch", Body=(
        _event(1, "u_ana", "c_ana") + _event(1, "u_ana", "c_ana") + _event(2, "u_ben", "c_ben")
        + _event(3, None, "c_ana") + _event(4, "u_eve", "c_eve") + _event(5, "u_ana", "c_old")))
    LakeBucket("lake", s3=s3).write_erased("j_1", "u_gone", ["c_old"])
    lake = S3DuckDbLake("lake", "events/", s3=s3)
    # When the export asks for the customers' and their conversations' events, from their first day
    statement = customer_events(["u_ana", "u_ben"], ["c_ana", "c_ben", "c_old"], date(2026, 12, 1))
    # Then each is there once, nobody else's, nothing the deletion list names; and Athena reads the statement
    assert [r["event_id"] for r in lake.rows(statement)] == ["e1", "e2", "e3"]
    sqlglot.parse_one(to_trino(statement.replace("{events}", "events").replace("{erased}", "erased")), read="trino")
    # and an id with a quote is a literal, not SQL
    assert lake.rows(customer_events(["u_'x"], [], None)) == []
