"""HTTP plumbing shared by the provider webhook functions: routes, answers, error mapping.

Each function's app.py stays a few lines: it builds its settings and calls one of these.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from shopdesk.channels import meta
from shopdesk.config import MetaInboundSettings
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.secrets import json_secret
from shopdesk.dal.table import Table
from shopdesk.errors import BadRequest, Conflict, InvalidSignature
from shopdesk.logic.webhooks import WebhookProcessor, raw_body, receive_meta
from shopdesk.models import WebhookItem

if TYPE_CHECKING:
    from shopdesk.privacy.audit import AuditTrail

logger = Logger(child=True)


def map_errors(app: APIGatewayHttpResolver) -> None:
    """Refused (403), malformed (400), busy (503: the provider retries, nothing was half-stored)."""

    @app.exception_handler(InvalidSignature)
    def _forbidden(exc: InvalidSignature) -> Response:
        logger.warning("refused webhook", extra={"reason": str(exc)})
        return Response(403, "application/json", '{"message": "invalid signature"}')

    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response:
        logger.warning("malformed webhook", extra={"reason": str(exc)})
        return Response(400, "application/json", '{"message": "malformed request"}')

    @app.exception_handler(Conflict)
    def _busy(exc: Conflict) -> Response:
        return Response(503, "application/json", '{"message": "busy, retry"}')


def processor_for(settings: Any) -> WebhookProcessor:
    """The webhook processor of an inbound function, with the privacy settings read (cold start); with the media
    bucket when the function has one (the files of a message the customer unsent are deleted there). Its work queue
    sends with the client bounded for the webhooks (``dal.aws``): a send that hangs gives up within their time."""
    bucket = getattr(settings, "media_bucket", "")
    processor = WebhookProcessor(Conversations(Table(settings.table_name), settings.due_shards),
                                 Queue(settings.work_queue_url, webhook=True), settings.first_response_targets,
                                 media=MediaStore(bucket) if bucket else None)
    processor.prime()
    return processor


def meta_webhook(path: str, parse: Callable[[dict[str, Any]], list[WebhookItem]]) -> APIGatewayHttpResolver:
    """GET: Meta's verification handshake. POST: a signed batch of messages, receipts and events."""
    settings = MetaInboundSettings.from_env()
    processor = processor_for(settings)
    app = APIGatewayHttpResolver()

    @app.get(path)
    def handshake() -> Response:
        challenge = meta.verify_handshake(app.current_event.query_string_parameters or {},
                                          json_secret(settings.meta_secret_arn)["verify_token"])
        if challenge is None:
            return Response(403, "application/json", '{"message": "verification failed"}')
        return Response(200, "text/plain", challenge)

    @app.post(path)
    def receive() -> Response:
        outcome = receive_meta(body=raw_body(app.current_event.raw_event), app_secret=json_secret(
            settings.meta_secret_arn)["app_secret"], signature=app.current_event.headers.get("x-hub-signature-256"),
            parse=parse, processor=processor)
        return Response(200, "application/json", json.dumps({"status": "ok", **outcome.counts()}))

    map_errors(app)
    return app


def commerce_webhook(platform: Literal["shopify", "woocommerce"],
                     trail: Callable[[Table], AuditTrail] | None = None) -> APIGatewayHttpResolver:
    """POST /webhooks/<platform>: a signed order, fulfilment, refund, customer or privacy delivery, applied in
    order; an applied record carrying an email and a phone is evidence for agents, never a link (logic/merge.py).
    ``trail``: the audit trail a privacy request's arrival is recorded in (Shopify's function writes it).
    Imported here, not at the top: the channel webhooks that share this module never load the commerce code."""
    from shopdesk import phone
    from shopdesk.api.commerce import install_webhook_errors, webhook_answer
    from shopdesk.commerce.platform import store_for
    from shopdesk.commerce.webhooks import WebhookReceiver
    from shopdesk.config import CommerceSettings
    from shopdesk.dal.customers import Customers
    from shopdesk.logic.merge import Merger

    settings = CommerceSettings.from_env()
    phone.use_shop_region(settings.default_phone_region)     # national numbers on the shop's orders
    merger = Merger(Customers(Table(settings.table_name)))

    def link_contact(email: str | None, phone_number: str | None, order: str | None) -> None:
        merger.link_shop_record(email, phone_number, order=order)      # evidence for agents: no identity changes

    store = store_for(settings, platform)
    store.masking.prime()          # the shop's masking patterns, read at cold start as the channels' functions do
    on_privacy = on_replay = None
    if platform == "shopify" and settings.privacy_queue_url:
        from shopdesk.dal.privacy import PrivacyJobStore
        from shopdesk.privacy.jobs import PrivacyJobs
        table = Table(settings.table_name)
        # the client bounded for the webhooks (dal.aws): a send that hangs is the 503 Shopify retries, within 10 s
        jobs = PrivacyJobs(PrivacyJobStore(table), Queue(settings.privacy_queue_url, webhook=True), Customers(table),
                           shop=store, trail=trail(table) if trail else None)
        on_privacy, on_replay = jobs.from_platform, jobs.replay_refused
    receiver = WebhookReceiver(store, on_contact=link_contact, on_privacy=on_privacy, on_replay=on_replay,
                               shop_domain=settings.shopify_shop_domain if platform == "shopify" else "")
    app = APIGatewayHttpResolver()
    install_webhook_errors(app)

    @app.post(f"/webhooks/{platform}")
    def inbound() -> Response:
        body, headers = raw_body(app.current_event.raw_event), app.current_event.headers
        if platform == "shopify":
            secret = json_secret(settings.shopify_secret_arn)
            secrets = [secret.get("client_secret", ""), secret.get("previous_client_secret", "")]  # while it is set
            return webhook_answer(receiver.shopify(body, headers, [s for s in secrets if s]))
        return webhook_answer(receiver.woocommerce(body, headers,
                                                   json_secret(settings.woocommerce_secret_arn)["webhook_secret"]))

    return app
