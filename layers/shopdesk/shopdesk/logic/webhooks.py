"""Provider webhooks, from raw request to stored fact: verify authenticity, parse, then ingest or
apply the receipt. Nothing is stored unless the signature holds."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from shopdesk.channels import twilio
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.queues import Queue
from shopdesk.errors import InvalidSignature
from shopdesk.logic.ingest import IngestResult, ingest
from shopdesk.models import Priority

logger = Logger(child=True)


def public_url(base_url: str, domain: str, path: str, query: str) -> str:
    """The URL the provider called: the configured public base, else the host API Gateway saw."""
    base = base_url.rstrip("/") if base_url else f"https://{domain}"
    return base + path + (f"?{query}" if query else "")


def _verified_params(url: str, body: str, signature: str | None, auth_token: str) -> list[tuple[str, str]]:
    params = twilio.parse_form(body)
    if not twilio.verify_signature(url, params, signature, auth_token) or \
            not twilio.verify_body_hash(url, body.encode()):
        raise InvalidSignature("X-Twilio-Signature does not match")
    return params


def receive_twilio_message(*, url: str, body: str, signature: str | None, auth_token: str,
                           conversations: Conversations, work: Queue,
                           first_response_targets: dict[Priority, int]) -> IngestResult:
    params = _verified_params(url, body, signature, auth_token)
    result = ingest(twilio.parse_inbound(params), conversations, work, first_response_targets)
    logger.info("twilio message", extra={"outcome": result.outcome, "conversation_id": result.conversation_id,
                                         "new_conversation": result.new_conversation})
    return result


def receive_twilio_status(*, url: str, body: str, signature: str | None, auth_token: str,
                          conversations: Conversations) -> str:
    update = twilio.parse_status(_verified_params(url, body, signature, auth_token))
    outcome = conversations.apply_receipt(update.provider, update.provider_id, update.status,
                                          update.error.model_dump() if update.error else None)
    logger.info("twilio status", extra={"status": update.status, "outcome": outcome})
    return outcome
