"""`make redrive`: a dead-letter queue's messages go back to their source queue (moto has no
StartMessageMoveTask, so the script's own move runs here), groups kept, and the router then handles them."""

from __future__ import annotations

import json

from scripts.redrive import redrive

from tests.integration.helpers import customer_writes, online


def test_messages_in_the_work_dead_letter_queue_go_back_and_are_routed(desk):
    sqs = desk.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=desk.work_queue_url, AttributeNames=["RedrivePolicy"])
    dlq_arn = json.loads(attributes["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
    dlq_name = dlq_arn.rsplit(":", 1)[1]
    # Given a conversation whose routing message ended in the dead-letter queue (the router was broken)
    conv = customer_writes(desk, "+31655507001", "Hello?", "SMredrive1")
    [message] = sqs.receive_message(QueueUrl=desk.work_queue_url, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody=message["Body"], MessageGroupId=conv,
                     MessageDeduplicationId="dead-1")
    sqs.delete_message(QueueUrl=desk.work_queue_url, ReceiptHandle=message["ReceiptHandle"])
    online(desk, "alice")
    assert desk.item(f"CONV#{conv}").get("assignee") is None
    # When an operator redrives it (twice: the second finds nothing)
    assert redrive(sqs, dlq_name) == {"queue": dlq_url, "moved": 1}
    assert redrive(sqs, dlq_url)["moved"] == 0
    # Then the router handles it as if nothing had happened
    desk.drain_queue(desk.work_queue_url, "router")
    assert desk.item(f"CONV#{conv}")["assignee"] == "alice"
