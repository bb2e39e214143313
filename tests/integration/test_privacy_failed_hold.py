"""An erase that failed for good, whose release of its hold the table refused too: the customer's identities and
conversations keep ``erasing``, naming a job that holds no more (``dal.erased.holds``). The customer's messages, and
the retention walk's timer of the customer, follow the one rule: such a mark is let go, and what it refused goes
through; a mark whose erase still runs refuses, as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.helpers import agent, customer_writes, online, post_twilio
from tests.integration.test_privacy import _privacy_messages, admin, run_jobs, scan
from tests.integration.test_privacy_retry import _erase_held_not_queued, _refused
from tests.support import twilio_form


def _failed_keeping_its_hold(desk: Any, monkeypatch: Any, customer: str) -> str:
    """The customer's erase, failed on its last attempt while the table refused the release of its hold: the job
    reads failed, and the customer's identities and conversations still say ``erasing`` (the job). Its id."""
    from shopdesk.dal.privacy import SubjectData
    from shopdesk.privacy.erase import Eraser

    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202, started
    with monkeypatch.context() as broken:
        broken.setattr(Eraser, "erase", _refused)
        broken.setattr(SubjectData, "release", _refused)
        assert len(desk.invoke("privacy", _privacy_messages(desk, 5))["batchItemFailures"]) == 1
    sqs, queue = desk.client("sqs"), desk.env["PRIVACY_QUEUE_URL"]
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])    # on to the dead-letter queue
    job = started["job_id"]
    assert admin(desk, "GET", f"/admin/privacy/jobs/{job}")[1]["status"] == "failed"
    return job


def _kept_requests(desk: Any) -> int:
    sqs = desk.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=desk.env["INGEST_RETRY_QUEUE_URL"],
                                          AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_customer_whose_failed_erase_kept_its_hold_writes_again_and_the_message_is_stored(desk, monkeypatch):
    # Given a customer whose erase failed for good, its hold on their identity and conversation kept by a table
    # that refused to let it go
    phone = "+31655501901"
    conv = customer_writes(desk, phone, "Please forget me", "SMkept1")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    job = _failed_keeping_its_hold(desk, monkeypatch, customer)
    assert desk.item(f"IDENTITY#phone#{phone}")["erasing"] == job
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    # When the customer writes again through the real webhook
    answer = post_twilio(desk, twilio_form(MessageSid="SMkept2", From=phone, To="+14155550100",
                                           Body="Are you still there?"))
    # Then the message is stored in their conversation at once (not kept for replays the hold refuses until the
    # provider's request goes to the dead-letter queue)
    assert answer["statusCode"] == 200, answer
    assert _kept_requests(desk) == 0
    assert desk.item("EXTMSG#twilio#SMkept2")["conversation_id"] == conv
    # and the hold is let go where the message met it
    assert "erasing" not in desk.item(f"IDENTITY#phone#{phone}")
    assert "erasing" not in desk.item(f"CONV#{conv}")


def test_a_new_erase_holds_what_a_failed_one_left_marked_and_a_message_in_its_window_is_refused(desk, monkeypatch):
    from shopdesk.privacy.erase import Eraser

    # Given a customer whose erase failed for good, its hold on their identity and conversation kept
    phone = "+31655501902"
    conv = customer_writes(desk, phone, "Please forget me", "SMkept3")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    failed = _failed_keeping_its_hold(desk, monkeypatch, customer)
    # When an erase asked again runs, and the customer writes after its last read, before it deletes anything
    erase = Eraser.erase
    met: list[dict[str, Any]] = []

    def written_meanwhile(eraser: Any, subject: Any, job_id: str, *args: Any) -> Any:
        met.append({"job": job_id, "identity": desk.item(f"IDENTITY#phone#{phone}")["erasing"],
                    "answer": post_twilio(desk, twilio_form(MessageSid="SMkept4", From=phone, To="+14155550100",
                                                            Body="Wait, do not forget me"))["statusCode"]})
        return erase(eraser, subject, job_id, *args)

    monkeypatch.setattr(Eraser, "erase", written_meanwhile)
    status, started = admin(desk, "POST", f"/admin/customers/{customer}/erase")
    assert status == 202 and started["job_id"] != failed, started
    run_jobs(desk)
    # Then the new erase held the identity itself (the failed one's mark taken over), so the message is refused as
    # while any erase runs: kept for its provider's replay, nothing of it stored
    [seen] = met
    assert seen["identity"] == seen["job"] == started["job_id"], seen
    assert seen["answer"] == 200 and _kept_requests(desk) == 1
    assert desk.item("EXTMSG#twilio#SMkept4") is None
    # and the erase is done, nothing of the customer left
    assert admin(desk, "GET", f"/admin/privacy/jobs/{started['job_id']}")[1]["status"] == "done"
    assert not [i for i in scan(desk) if "do not forget" in json.dumps(i, default=str) or i.get("erasing")]


@pytest.mark.parametrize("job_is", ["read_failed", "gone"])
def test_the_retention_walk_sets_the_inactive_timer_of_a_customer_whose_record_a_failed_erase_kept(
        desk, monkeypatch, job_is):
    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.privacy import reapply
    from shopdesk.privacy.settings import Retention

    # Given a customer whose conversation alice resolved while inactive customers were kept (no timer)
    conv = customer_writes(desk, "+31655501903", "Where is my order?", "SMkept5")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice")
    desk.drain_queue(desk.work_queue_url, "router")
    assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    # and their erase never queued, its hold on their record kept by a table that refused to let it go, and its
    # job read failed an hour on (or gone, its 30 days over)
    stuck = _erase_held_not_queued(desk, monkeypatch, customer)
    clock.set_offset(61 * 60)
    if job_is == "gone":
        desk.client("dynamodb").delete_item(TableName=desk.table_name,
                                            Key={"PK": {"S": f"PRIVACYJOB#{stuck}"}, "SK": {"S": "META"}})
    else:
        assert admin(desk, "GET", f"/admin/privacy/jobs/{stuck}")[1]["status"] == "failed"
    # When the walk of a retention saved since (inactive customers erased after 30 days) runs
    walk = Conversations(Table(desk.table_name), 16)
    counts, more = reapply.reapply_step(walk, Retention(inactive_customers_days=30))
    # Then the customer gets their timer (the hold let go), as a customer no erase ever held
    assert more is None and counts["inactive_timers"] == 1
    assert desk.item(f"CUSTOMER#{customer}", "DEADLINE#inactive_customer") is not None
    assert "erasing" not in desk.item(f"CUSTOMER#{customer}")


def _marked_part_way(desk: Any, monkeypatch: Any) -> tuple[str, str, str]:
    """A customer with two numbers (the second merged into the first), their conversations resolved by alice, whose
    erase failed for good and whose release was refused part way: their first number and conversations let go, the
    second number still saying ``erasing``. (the customer, the first conversation, the failed job)"""
    from tests.integration.test_privacy_merged import ONE, TWO, _two_merged

    keep, _gone, keep_conv, gone_conv, _merge = _two_merged(desk, "hold")
    for conv in (keep_conv, gone_conv):
        if desk.item(f"CONV#{conv}")["status"] != "resolved":
            assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200
    job = _failed_keeping_its_hold(desk, monkeypatch, keep)
    assert desk.item(f"IDENTITY#phone#{TWO}")["erasing"] == job
    client = desk.client("dynamodb")
    for pk in (f"IDENTITY#phone#{ONE}", f"CONV#{keep_conv}", f"CONV#{gone_conv}"):
        client.update_item(TableName=desk.table_name, Key={"PK": {"S": pk}, "SK": {"S": "META"}},
                           UpdateExpression="REMOVE erasing", ConditionExpression="attribute_exists(PK)")
    return keep, keep_conv, job


def test_a_mark_left_on_a_sibling_alone_is_let_go_by_a_message_that_opens_a_new_conversation(desk, monkeypatch):
    from tests.integration.test_privacy_merged import ONE, TWO

    # Given a customer whose failed erase's release was refused part way: their other number still says erasing
    customer, resolved, _job = _marked_part_way(desk, monkeypatch)
    # When they write from the number let go, starting a new conversation (the one before was resolved by a person)
    answer = post_twilio(desk, twilio_form(MessageSid="SMhold9", From=ONE, To="+14155550100",
                                           Body="A new question about my teapot"))
    # Then the message is stored at once in a new conversation of theirs, not refused until a redrive
    assert answer["statusCode"] == 200, answer
    assert _kept_requests(desk) == 0
    stored = desk.item("EXTMSG#twilio#SMhold9")
    assert stored is not None and stored["conversation_id"] != resolved
    assert desk.item(f"CONV#{stored['conversation_id']}")["customer"]["id"] == customer
    # and the sibling's mark, the one the new conversation met, is let go: both numbers hold the new conversation
    for phone in (ONE, TWO):
        identity = desk.item(f"IDENTITY#phone#{phone}")
        assert "erasing" not in identity and identity["open_conversation_id"] == stored["conversation_id"]


def test_a_sibling_s_mark_whose_erase_still_runs_refuses_the_new_conversation(desk, monkeypatch):
    from tests.integration.test_privacy_merged import ONE, TWO

    # Given the same customer, but the job their other number names reads running (a new erase's)
    _customer, _resolved, job = _marked_part_way(desk, monkeypatch)
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    # When they write from the number let go
    answer = post_twilio(desk, twilio_form(MessageSid="SMhold8", From=ONE, To="+14155550100",
                                           Body="A new question about my teapot"))
    # Then nothing is stored (kept for the provider's replay, as while any erase runs) and the mark stays
    assert answer["statusCode"] == 200 and _kept_requests(desk) == 1
    assert desk.item("EXTMSG#twilio#SMhold8") is None
    assert desk.item(f"IDENTITY#phone#{TWO}")["erasing"] == job


def test_a_mark_left_on_the_open_conversation_alone_is_let_go_and_the_message_joins_it(desk, monkeypatch):
    # Given a customer whose failed erase's release was refused part way: their number let go, the conversation they
    # have open still saying erasing
    phone = "+31655501904"
    conv = customer_writes(desk, phone, "Where is my teapot?", "SMhold5")
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    job = _failed_keeping_its_hold(desk, monkeypatch, customer)
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE erasing")
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    # When they write again
    answer = post_twilio(desk, twilio_form(MessageSid="SMhold6", From=phone, To="+14155550100",
                                           Body="Still waiting for it"))
    # Then the message joins the conversation they have open (not a new one beside it), its mark let go
    assert answer["statusCode"] == 200 and _kept_requests(desk) == 0
    assert desk.item("EXTMSG#twilio#SMhold6")["conversation_id"] == conv
    assert "erasing" not in desk.item(f"CONV#{conv}")
    assert desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"] == conv


def _requests_of(desk: Any, monkeypatch: Any, post: Any) -> list[str]:
    """The AWS requests a webhook call makes, in order."""
    from botocore.client import BaseClient
    made: list[str] = []
    call = BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        made.append(operation)
        return call(self, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counted)
        post()
    return made


def test_a_message_no_mark_refuses_costs_what_it_did(desk, monkeypatch):
    from tests.integration.test_privacy_merged import ONE, TWO, _two_merged

    # Given a customer with two numbers and no erase, their conversations resolved
    _keep, _gone, keep_conv, gone_conv, _merge = _two_merged(desk, "cost")
    for conv in (keep_conv, gone_conv):
        if desk.item(f"CONV#{conv}")["status"] != "resolved":
            assert agent(desk, "POST", f"/agent/conversations/{conv}/status", "alice", {"status": "resolved"})[0] == 200

    def write(sid: str) -> Any:
        return lambda: post_twilio(desk, twilio_form(MessageSid=sid, From=ONE, To="+14155550100",
                                                     Body="A new question about my teapot"))

    # When they write a message that opens a new conversation (both numbers' slots taken), then one that joins it
    opening = _requests_of(desk, monkeypatch, write("SMcostA"))
    joining = _requests_of(desk, monkeypatch, write("SMcostB"))
    # Then each costs the requests it did before marks were let go where met: none read a job, none more written
    assert desk.item(f"IDENTITY#phone#{TWO}")["open_conversation_id"] == desk.item("EXTMSG#twilio#SMcostA")[
        "conversation_id"] == desk.item("EXTMSG#twilio#SMcostB")["conversation_id"]
    assert opening == ["GetItem", "TransactWriteItems", "SendMessage"], opening
    assert joining == ["GetItem", "TransactWriteItems", "SendMessage"], joining


def _conversation_marked_alone(desk: Any, monkeypatch: Any, phone: str, sid: str) -> tuple[str, str]:
    """alice's conversation with a customer whose failed erase's release was refused part way: their number let go,
    the conversation still saying ``erasing`` (the failed job). (the conversation, the job)"""
    conv = customer_writes(desk, phone, "Where is my teapot?", sid)
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    online(desk, "alice", "bob")
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
    job = _failed_keeping_its_hold(desk, monkeypatch, customer)
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE erasing")
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    return conv, job


DESK_WRITES = {
    "a_reply": ("replies", {"text": "Your teapot ships today"}),
    "a_note": ("notes", {"text": "Teapot: check the warehouse"}),
    "a_note_naming_an_agent": ("notes", {"text": "@bob teapot: check the warehouse"}),
}


@pytest.mark.parametrize("write", sorted(DESK_WRITES))
def test_a_desk_write_on_a_conversation_a_failed_erase_left_marked_lets_the_mark_go_and_is_made(
        desk, monkeypatch, write):
    # Given alice's conversation, still marked by a failed erase whose release was refused there
    conv, _job = _conversation_marked_alone(desk, monkeypatch, "+31655501905", f"SMdesk{len(write)}")
    route, body = DESK_WRITES[write]
    # When alice writes on it
    status, written = agent(desk, "POST", f"/agent/conversations/{conv}/{route}", "alice", body)
    # Then the write is made (not refused as if an erase ran, for good), and the mark is let go
    assert status in (201, 202), (status, written)
    texts = [m["text"] for m in agent(desk, "GET", f"/agent/conversations/{conv}", "alice")[1]["messages"]]
    assert body["text"] in texts
    assert "erasing" not in desk.item(f"CONV#{conv}")


@pytest.mark.parametrize("write", sorted(DESK_WRITES))
def test_a_desk_write_on_a_conversation_whose_erase_still_runs_is_refused_as_before(desk, monkeypatch, write):
    # Given alice's conversation marked by an erase whose job reads running
    conv, job = _conversation_marked_alone(desk, monkeypatch, "+31655501906", f"SMrun{len(write)}")
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    route, body = DESK_WRITES[write]
    # When alice writes on it
    status, _ = agent(desk, "POST", f"/agent/conversations/{conv}/{route}", "alice", body)
    # Then it is refused as while any erase runs (the conversation is going), nothing written, the mark kept
    assert status == 404
    assert body["text"] not in json.dumps(scan(desk), default=str)
    assert desk.item(f"CONV#{conv}")["erasing"] == job


def _acknowledgement(conversations: Any, conv: str, text: str) -> tuple[Any, Any]:
    """The router's acknowledgement of the conversation's customer, as it writes it (``logic.acknowledge``)."""
    from shopdesk import clock
    from shopdesk.ids import new_id
    from shopdesk.models import Direction, Message

    meta = conversations.get_meta(conv)
    return meta, Message(id=new_id("m_"), conversation_id=conv, direction=Direction.OUTBOUND,
                         channel=meta.route.channel, text=text, status="queued", created_at=clock.now(), author=None,
                         to=meta.route.to, sender=meta.route.sender, provider=meta.route.provider,
                         kind="acknowledgement")


def test_the_router_s_acknowledgement_on_a_conversation_a_failed_erase_left_marked_lets_the_mark_go(
        desk, monkeypatch):
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table

    # Given a conversation still marked by a failed erase whose release was refused there
    conv, _job = _conversation_marked_alone(desk, monkeypatch, "+31655501907", "SMack1")
    conversations = Conversations(Table(desk.table_name), 16)
    # When the router acknowledges the customer's message there
    written = conversations.add_acknowledgement(*_acknowledgement(conversations, conv, "We got your teapot question"))
    # Then it is written (not dropped as if an erase ran), and the mark is let go
    assert written is True
    assert "We got your teapot question" in json.dumps(scan(desk), default=str)
    assert "erasing" not in desk.item(f"CONV#{conv}")


def test_the_router_s_acknowledgement_where_the_erase_still_runs_is_refused_and_costs_one_request_unmarked(
        desk, monkeypatch):
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table

    # Given a conversation marked by an erase whose job reads running
    conv, job = _conversation_marked_alone(desk, monkeypatch, "+31655501908", "SMack2")
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    conversations = Conversations(Table(desk.table_name), 16)
    # When the router acknowledges there: then nothing is written, the mark kept
    assert conversations.add_acknowledgement(*_acknowledgement(conversations, conv, "Held teapot answer")) is False
    assert "Held teapot answer" not in json.dumps(scan(desk), default=str)
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    # And on a conversation no mark holds, the acknowledgement costs what it did: one TransactWriteItems
    other = customer_writes(desk, "+31655501909", "Where is my kettle?", "SMack3")
    meta, message = _acknowledgement(conversations, other, "We got your kettle question")
    made: list[bool] = []
    assert _requests_of(desk, monkeypatch, lambda: made.append(conversations.add_acknowledgement(meta, message))) == [
        "TransactWriteItems"]
    assert made == [True]


def _bot_answer(desk: Any, conv: str, text: str) -> tuple[Any, ...]:
    """The bot's answer to the customer's last message on the conversation, as ``bot.converse`` writes it."""
    from shopdesk import clock
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.ids import new_id
    from shopdesk.models import Direction, Message
    from shopdesk.models.conversation import ConversationBot

    meta = Conversations(Table(desk.table_name), 16).get_meta(conv)
    asked = desk.item(f"CONV#{conv}").get("last_inbound_at") or clock.now_iso()
    reply = Message(id=new_id("m_"), conversation_id=conv, direction=Direction.OUTBOUND, channel=meta.route.channel,
                    text=text, status="queued", created_at=clock.now(), author="bot", to=meta.route.to,
                    sender=meta.route.sender, provider=meta.route.provider)
    return meta, reply, ConversationBot(state="answering", at=clock.now_iso()), "m_asked", asked


def _open_conversation_marked_alone(desk: Any, monkeypatch: Any, phone: str, sid: str) -> tuple[str, str]:
    """A conversation nobody has (open, in its queue) whose customer's failed erase left it marked alone."""
    conv = customer_writes(desk, phone, "Do you ship teapots abroad?", sid)
    customer = desk.item(f"CONV#{conv}")["customer"]["id"]
    job = _failed_keeping_its_hold(desk, monkeypatch, customer)
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE erasing")
    item = desk.item(f"CONV#{conv}")
    assert item["erasing"] == job and item["status"] == "open" and "assignee" not in item
    return conv, job


def test_the_bot_s_answer_on_a_conversation_a_failed_erase_left_marked_lets_the_mark_go(desk, monkeypatch):
    from shopdesk.dal.bot import BotStore
    from shopdesk.dal.table import Table

    # Given an open conversation nobody has, still marked by a failed erase whose release was refused there
    conv, _job = _open_conversation_marked_alone(desk, monkeypatch, "+31655501910", "SMbot1")
    # When the bot answers the customer there: then the answer is written, the mark let go
    BotStore(Table(desk.table_name)).answer(*_bot_answer(desk, conv, "Yes, teapots ship to 40 countries"))
    assert "Yes, teapots ship to 40 countries" in json.dumps(scan(desk), default=str)
    item = desk.item(f"CONV#{conv}")
    assert "erasing" not in item and item["bot"]["state"] == "answering"


def test_the_bot_s_answer_where_the_erase_still_runs_is_refused_and_costs_one_request_unmarked(desk, monkeypatch):
    from shopdesk.dal.bot import BotRefused, BotStore
    from shopdesk.dal.table import Table

    # Given an open conversation marked by an erase whose job reads running
    conv, job = _open_conversation_marked_alone(desk, monkeypatch, "+31655501911", "SMbot2")
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    store = BotStore(Table(desk.table_name))
    # When the bot answers there: then it is refused, nothing written, the mark kept
    with pytest.raises(BotRefused):
        store.answer(*_bot_answer(desk, conv, "Held teapot shipping answer"))
    assert "Held teapot shipping answer" not in json.dumps(scan(desk), default=str)
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    # And on a conversation no mark holds, the answer costs what it did: one TransactWriteItems
    other = customer_writes(desk, "+31655501912", "Do you ship kettles abroad?", "SMbot3")
    answer = _bot_answer(desk, other, "Yes, kettles ship to 40 countries")
    assert _requests_of(desk, monkeypatch, lambda: store.answer(*answer)) == ["TransactWriteItems"]
    assert desk.item(f"CONV#{other}")["bot"]["state"] == "answering"


def _bot_answered(desk: Any, phone: str, sid: str) -> tuple[Any, Any, str]:
    """An open conversation the bot answered (pending, the bot answering there). (its store, its meta, its id)"""
    from shopdesk.dal.bot import BotStore
    from shopdesk.dal.table import Table

    conv = customer_writes(desk, phone, "Do you ship teacups abroad?", sid)
    store = BotStore(Table(desk.table_name))
    meta, *answer = _bot_answer(desk, conv, "Yes, teacups ship to 40 countries")
    store.answer(meta, *answer)
    return store, meta, conv


def _bot_answered_then_marked(desk: Any, monkeypatch: Any, phone: str, sid: str) -> tuple[Any, Any, str, str]:
    """The bot's answered conversation, then marked alone by a failed erase whose release was refused there. (its
    store, its meta, its id, the failed job)"""
    store, meta, conv = _bot_answered(desk, phone, sid)
    job = _failed_keeping_its_hold(desk, monkeypatch, desk.item(f"CONV#{conv}")["customer"]["id"])
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE erasing")
    assert desk.item(f"CONV#{conv}")["erasing"] == job
    return store, meta, conv, job


def _bot_closes(store: Any, meta: Any, write: str, text: str) -> None:
    """The bot's thanks for the customer's confirmation, or its hand-back of the conversation to a person."""
    from shopdesk import clock
    from shopdesk.ids import new_id
    from shopdesk.models import Direction, Message

    note = Message(id=new_id("m_"), conversation_id=meta.id, direction=Direction.OUTBOUND, channel=meta.route.channel,
                   text=text, status="queued", created_at=clock.now(), author="bot", to=meta.route.to,
                   sender=meta.route.sender, provider=meta.route.provider)
    if write == "thank":
        store.thank(meta, note, "m_confirmed", clock.now_iso())
    else:
        store.hand_back(meta, "not_solved", note, clock.now_iso())


@pytest.mark.parametrize("write", ["thank", "hand_back"])
def test_the_bot_s_thanks_or_hand_back_on_a_conversation_a_failed_erase_left_marked_lets_the_mark_go(
        desk, monkeypatch, write):
    # Given an open conversation the bot answered, then marked by a failed erase whose release was refused there
    store, meta, conv, _job = _bot_answered_then_marked(desk, monkeypatch, "+3165550192" + str(len(write)),
                                                        f"SMbot{write}")
    text = f"The bot's {write} about teacups"
    # When the bot thanks the customer there, or hands the conversation back to a person
    _bot_closes(store, meta, write, text)
    # Then it is written (the bot does not stand back as if an erase ran), and the mark is let go
    assert text in json.dumps(scan(desk), default=str)
    assert "erasing" not in desk.item(f"CONV#{conv}")


@pytest.mark.parametrize("write", ["thank", "hand_back"])
def test_the_bot_s_thanks_or_hand_back_where_the_erase_still_runs_is_refused_and_costs_one_request_unmarked(
        desk, monkeypatch, write):
    from shopdesk.dal.bot import BotRefused

    # Given an open conversation the bot answered, marked by an erase whose job reads running
    store, meta, conv, job = _bot_answered_then_marked(desk, monkeypatch, "+3165550194" + str(len(write)),
                                                       f"SMbotrun{write}")
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    # When the bot thanks the customer there, or hands the conversation back: then it is refused, nothing written,
    # the conversation as the bot's answer left it and the mark kept
    with pytest.raises(BotRefused):
        _bot_closes(store, meta, write, f"Held teacup {write}")
    assert f"Held teacup {write}" not in json.dumps(scan(desk), default=str)
    item = desk.item(f"CONV#{conv}")
    assert item["erasing"] == job and item["status"] == "pending" and item["bot"]["state"] == "answering"
    assert "closing" not in item["bot"]
    # And on a conversation no mark holds, it costs what it did: one TransactWriteItems, the write made
    store, meta, other = _bot_answered(desk, "+3165550195" + str(len(write)), f"SMbotfree{write}")
    assert _requests_of(desk, monkeypatch, lambda: _bot_closes(store, meta, write, f"Free teacup {write}")) == [
        "TransactWriteItems"]
    assert f"Free teacup {write}" in json.dumps(scan(desk), default=str)
    item = desk.item(f"CONV#{other}")
    if write == "thank":
        assert item["bot"]["closing"] is True and item["bot"]["replied_to"] == "m_confirmed"
    else:
        assert item["status"] == "open" and item["bot"]["state"] == "handed_off"
