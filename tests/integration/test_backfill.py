"""scripts/backfill.py: conversations from before the Access index get their AccessPK, once; erases from before
the lake's deletion list get their ``erased/`` object."""

from __future__ import annotations

import json

from scripts import backfill

from tests.integration.helpers import agent, customer_writes, route_records


def _all_view(desk) -> set[str]:
    status, body = agent(desk, "GET", "/agent/conversations", "bob", query="view=all&status=open&limit=100")
    assert status == 200
    return {c["id"] for c in body["items"]}


def test_old_conversations_reappear_in_the_all_view_once_backfilled(desk, capsys):
    old = customer_writes(desk, "+31611200001", "hello from before", "SMold1")
    new = customer_writes(desk, "+31611200002", "hello from now", "SMnew1")
    route_records(desk)              # a conversation is its team's once routed
    desk.client("dynamodb").update_item(TableName=desk.table_name, Key={"PK": {"S": f"CONV#{old}"},
                                                                         "SK": {"S": "META"}},
                                        UpdateExpression="REMOVE AccessPK")
    assert old not in _all_view(desk) and new in _all_view(desk)

    args = ["access", "--table", desk.table_name, "--endpoint-url", desk.endpoint, "--region", "us-east-1"]
    assert backfill.main([*args, "--dry-run"]) == 0
    assert "would write 1" in capsys.readouterr().out
    assert old not in _all_view(desk)
    assert backfill.main(args) == 0
    assert "wrote 1" in capsys.readouterr().out
    assert {old, new} <= _all_view(desk)
    assert desk.item(f"CONV#{old}")["AccessPK"] == "TEAM#default"
    assert backfill.main(args) == 0                       # again: nothing left to write
    assert "wrote 0" in capsys.readouterr().out


def test_a_conversation_not_routed_yet_is_left_to_the_routing(desk, capsys):
    # Given a new conversation the router has not routed yet (ingest writes it without an AccessPK)
    desk.routes_before_agents = False
    conv = customer_writes(desk, "+31611200003", "hello from before", "SMold3")
    assert "AccessPK" not in desk.item(f"CONV#{conv}")
    # When the backfill runs
    args = ["access", "--table", desk.table_name, "--endpoint-url", desk.endpoint, "--region", "us-east-1"]
    assert backfill.main(args) == 0
    # Then it writes nothing: it is no team's, so the agents of its placeholder team do not list it
    assert "wrote 0" in capsys.readouterr().out
    assert "AccessPK" not in desk.item(f"CONV#{conv}")
    assert conv not in _all_view(desk)
    # until the router routes it
    route_records(desk)
    assert desk.item(f"CONV#{conv}")["AccessPK"] == "TEAM#default" and conv in _all_view(desk)


def test_erases_from_before_the_lake_s_deletion_list_get_their_object(desk, capsys):
    from shopdesk.dal.privacy import SubjectData
    from shopdesk.dal.table import Table

    # Given an erase recorded only in the table (the ERASED item an older version wrote)
    SubjectData(Table(desk.table_name)).record_erased("u_before", ["c_before1", "c_before2"], "j_before", None)
    s3, bucket = desk.client("s3"), desk.env["EVENTS_BUCKET"]
    args = ["erased", "--table", desk.table_name, "--bucket", bucket, "--endpoint-url", desk.endpoint,
            "--region", "us-east-1"]
    assert backfill.main([*args, "--dry-run"]) == 0
    assert "would write 1" in capsys.readouterr().out
    assert s3.list_objects_v2(Bucket=bucket, Prefix="erased/").get("KeyCount") == 0
    # When the backfill runs (twice: the same object)
    assert backfill.main(args) == 0 and backfill.main(args) == 0
    # Then the lake's deletion list names the customer and both conversations
    body = s3.get_object(Bucket=bucket, Key="erased/j_before.json")["Body"].read().decode()
    assert [json.loads(line)["id"] for line in body.splitlines()] == ["u_before", "c_before1", "c_before2"]


def test_customers_named_before_search_found_names_are_indexed_once_backfilled(desk, capsys, tmp_path, monkeypatch):
    from shopdesk.search.sqlite import SqliteIndex

    # Given a customer with a name and one without, written while no indexer followed customers' records
    named = customer_writes(desk, "+31611200003", "hello", "SMname1")
    customer_writes(desk, "+31611200004", "hello too", "SMname2")
    customer = desk.item(f"CONV#{named}")["customer"]["id"]
    desk.client("dynamodb").update_item(TableName=desk.table_name, Key={"PK": {"S": f"CUSTOMER#{customer}"},
                                                                         "SK": {"S": "META"}},
                                        UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
                                        ExpressionAttributeValues={":n": {"S": "Wilhelmina Zwart"}})
    path = tmp_path / "search.sqlite3"
    monkeypatch.setenv("SEARCH_ENGINE", "sqlite")
    monkeypatch.setenv("SEARCH_INDEX_PATH", str(path))
    assert SqliteIndex(path).query_customers("wilhelmina") == []

    args = ["names", "--table", desk.table_name, "--endpoint-url", desk.endpoint, "--region", "us-east-1"]
    assert backfill.main([*args, "--dry-run"]) == 0
    assert "2 customers read, would index 1 names" in capsys.readouterr().out
    assert SqliteIndex(path).query_customers("wilhelmina") == []
    assert backfill.main(args) == 0
    assert "indexed 1 names" in capsys.readouterr().out
    assert SqliteIndex(path).query_customers("wil zw") == [customer]
    assert backfill.main(args) == 0                       # again: the same one document
    assert SqliteIndex(path).query_customers("zwart") == [customer]
