"""A reply that went again after an interruption nobody could confirm tells the agent the customer may have it
twice (docs/architecture.md, "Sending exactly once, or saying so")."""

from __future__ import annotations

import boto3
import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import axe_violations, send_sms, set_presence
from tests.e2e.browser.test_inbox_browser import conversation_item, conversation_of, timeline

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def _flag_as_the_dispatcher_does(stack, conversation_id: str, message_id: str) -> None:
    """What the dispatcher writes on a part it sent again unconfirmed (#250), through the stack's AWS endpoint."""
    where = stack.get("/_local/aws").json()
    ddb = boto3.client("dynamodb", endpoint_url=where["endpoint"], region_name=where["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")
    [table] = [t for t in ddb.list_tables()["TableNames"] if t.startswith("shopdesk-")]
    [item] = ddb.query(TableName=table, KeyConditionExpression="PK = :pk", FilterExpression="id = :id",
                       ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation_id}"}, ":id": {"S": message_id}},
                       ConsistentRead=True)["Items"]
    ddb.update_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET possibly_duplicate = :yes",
                    ExpressionAttributeValues={":yes": {"BOOL": True}})


def test_a_reply_that_may_have_reached_the_customer_twice_says_so(stack, open_inbox):
    # Given alice answered a customer and the reply was delivered
    set_presence(stack, "bob", "away")
    page = open_inbox("alice")
    send_sms(stack, "+14155550277", "Is my refund through?")
    conversation_item(page, "+14155550277").get_by_role("button").click()
    page.get_by_role("textbox", name="Reply", exact=True).fill("Your refund left today.")
    page.get_by_role("button", name="Send", exact=True).click()
    reply = timeline(page).get_by_role("listitem").filter(has_text="Your refund left today.")
    expect(reply).to_contain_text("Delivered")
    expect(reply.get_by_role("note")).to_have_count(0)
    # When the dispatcher had to send it again without knowing whether the first try arrived
    conv = conversation_of(stack, "alice", "+14155550277")
    [sent] = [m for m in conv["messages"] if m["text"] == "Your refund left today."]
    _flag_as_the_dispatcher_does(stack, conv["id"], sent["id"])
    page.reload()
    conversation_item(page, "+14155550277").get_by_role("button").click()
    # Then the reply says the customer may have received it twice, and the page stays accessible
    reply = timeline(page).get_by_role("listitem").filter(has_text="Your refund left today.")
    expect(reply.get_by_role("note")).to_have_text(
        "Sent again after an interruption: the customer may have received it twice")
    assert axe_violations(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
