"""Two admin saves naming the same team at the same instant: both move the team's named_version in their own
transactions, and DynamoDB cancels one of them with TransactionConflict (moto never does, so it is injected here).
The save is made again after a short pause; when it still conflicts the answer is a 503 problem the inbox can show
(code ``busy``), never a 500, and nothing was written."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from shopdesk.dal import aws
from shopdesk.dal.table import CONFLICT_ATTEMPTS
from tests.integration.helpers import agent, teams
from tests.integration.test_team_calendar_delete import POLICY, admin_call


@pytest.fixture
def conflicts(desk, monkeypatch):
    """``conflicts(n)``: the next ``n`` TransactWriteItems are cancelled as DynamoDB cancels a transaction that met
    another one on the same item (every part's reason ``None`` but the team's, ``TransactionConflict``); the calls
    seen are counted in the list it returns."""
    client = aws.client("dynamodb", answering=True)         # the admin API's (dal.aws: bounded)
    real = client.transact_write_items

    def inject(times: int) -> list[int]:
        calls: list[int] = []

        def transact_write_items(**kwargs):
            calls.append(len(kwargs["TransactItems"]))
            if len(calls) > times:
                return real(**kwargs)
            reasons = [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1) + [
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                         "Message": "Transaction cancelled, please refer cancellation reasons "
                                                    "for specific reasons [None, TransactionConflict]"},
                               "CancellationReasons": reasons}, "TransactWriteItems")

        monkeypatch.setattr(client, "transact_write_items", transact_write_items)
        return calls
    return inject


def test_a_save_naming_a_team_that_met_another_save_s_transaction_is_made_again(desk, conflicts):
    teams(desk, "default", "returns")
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200
    # Given another save naming the team holds it twice while an admin puts an agent in it
    calls = conflicts(2)
    status, body = admin_call(desk, "PUT", "/admin/agents/alice", body={"teams": ["default", "returns"]})
    # Then the save is made again and goes through
    assert status == 200 and body["teams"] == ["default", "returns"], body
    assert len(calls) == 3
    # And so do the routing, the bot's and the survey's settings and an SLA policy naming it
    for path, save in (("/admin/routing", {"team_by_channel": {"sms": "returns"}}),
                       ("/admin/bot", {"teams": ["returns"]}),
                       ("/admin/csat", {"enabled": True, "when": "teams", "teams": ["returns"]}),
                       ("/admin/sla-policies/returns-sla", {**POLICY, "applies_to": {"teams": ["returns"]}})):
        calls = conflicts(1)
        status, body = admin_call(desk, "PUT", path, body=save)
        assert status == 200 and len(calls) == 2, (path, status, body)


def test_a_save_that_keeps_meeting_other_transactions_is_a_503_and_writes_nothing(desk, conflicts):
    teams(desk, "default", "returns")
    assert agent(desk, "GET", "/agent/me", "alice")[0] == 200
    # Given the team held by other saves for longer than the save tries
    calls = conflicts(100)
    for path, save in (("/admin/agents/alice", {"teams": ["default", "returns"]}),
                       ("/admin/routing", {"team_by_channel": {"sms": "returns"}}),
                       ("/admin/sla-policies/returns-sla", {**POLICY, "applies_to": {"teams": ["returns"]}})):
        status, problem = admin_call(desk, "PUT", path, body=save)
        # Then the admin is told to try again, in words the inbox shows, and nothing was saved
        assert status == 503, (path, status, problem)
        assert problem["code"] == "busy" and problem["type"] == "/problems/unavailable", problem
        assert "nothing was saved" in problem["detail"], problem
    assert len(calls) == 3 * CONFLICT_ATTEMPTS, len(calls)          # each tried that often, then given up
    calls = conflicts(0)
    [alice] = [a for a in admin_call(desk, "GET", "/admin/agents")[1]["items"] if a["id"] == "alice"]
    assert alice["teams"] == ["default"], alice
    assert admin_call(desk, "GET", "/admin/routing")[1]["team_by_channel"] == {}
    assert admin_call(desk, "GET", "/admin/sla-policies")[1]["items"] == []
    assert calls == []
