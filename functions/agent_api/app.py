"""Agent API: the inbox over HTTP. Routes parse and validate; shopdesk.logic.inbox does the work."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import phone
from shopdesk.api import admission, openapi, opened, problems
from shopdesk.api.agent import (
    AgentList,
    AgentOut,
    AssignmentIn,
    ConversationList,
    ConversationOut,
    MentionOut,
    MessageOut,
    NoteIn,
    PresenceIn,
    PreviewIn,
    PreviewOut,
    ReplyIn,
    RoutingIn,
    StatusIn,
    TeamList,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TranscriptOut,
    ViewCounts,
    caller,
)
from shopdesk.api.attachments import UploadIn, UploadOut, install_attachment_errors, with_attachment_problems
from shopdesk.api.bodies import KnownFields
from shopdesk.api.canned import CannedList, CannedOut, documented, install_render_errors
from shopdesk.api.changes import ChangeList
from shopdesk.api.commerce import ActionOut, CancelIn, OrderPanelOut, RefundIn, install_action_errors
from shopdesk.api.customers import CustomerOut, DuplicateList, MergeIn, MergeOut, UnmergeIn
from shopdesk.api.kb import AssistAnswer, AssistOut, AssistRequest
from shopdesk.api.macros import ApplyOut, LabelList, MacroList, MacroOut, install_refusals
from shopdesk.api.opened import OpenedConversationOut
from shopdesk.api.search import SearchOut
from shopdesk.bot.assist import Assistant
from shopdesk.channels.ses import html_mailer
from shopdesk.commerce.actions import CancelRequest, OrderActions, RefundRequest
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.platform import commerce_for, store_for
from shopdesk.config import AgentApiSettings, CommerceSettings, SearchSettings
from shopdesk.csat.survey import SurveyDesk
from shopdesk.dal.agents import Agents
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.counts import Counts
from shopdesk.dal.csat import Surveys
from shopdesk.dal.customers import Customers
from shopdesk.dal.kb import KnowledgeBase
from shopdesk.dal.labels import Labels
from shopdesk.dal.live import ChangeLog
from shopdesk.dal.macros import Macros
from shopdesk.dal.media import UPLOAD_SECONDS, MediaStore
from shopdesk.dal.mentions import Mentions
from shopdesk.dal.queues import Queue
from shopdesk.dal.search import SearchReads
from shopdesk.dal.table import Table
from shopdesk.errors import ProviderError
from shopdesk.kb.embedder import embedder_for
from shopdesk.kb.loader import IndexCache
from shopdesk.logic.access import Access, Caller
from shopdesk.logic.attachments import Attachments
from shopdesk.logic.canned import CannedLibrary
from shopdesk.logic.changes import ChangeFeed
from shopdesk.logic.compose import Composer
from shopdesk.logic.customers import CustomerDesk
from shopdesk.logic.fold import Folder
from shopdesk.logic.inbox import Inbox, QueueUnavailable, Sort, View
from shopdesk.logic.labels import LabelDesk
from shopdesk.logic.macros import MacroDesk
from shopdesk.logic.mentions import MentionDesk
from shopdesk.logic.overview import Overview
from shopdesk.logic.personalise import Personaliser
from shopdesk.logic.reroute import Rerouter, RoutingChange
from shopdesk.logic.search import Search, cached_orders
from shopdesk.logic.sla_engine import book_for
from shopdesk.logic.snooze import Snoozer
from shopdesk.logic.transcript import Transcripts
from shopdesk.logs import logger_for
from shopdesk.models import Conversation, ConversationStatus
from shopdesk.models.canned import CannedContent
from shopdesk.models.labels import LabelChange, LabelId
from shopdesk.models.macros import ApplyRequest, MacroContent
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.settings import PrivacyPolicies
from shopdesk.search import SearchUnavailable, search_for

settings = AgentApiSettings.from_env()
logger = logger_for()
table = Table(settings.table_name, answering=True)     # bounded: a table that hangs is a 503 in time
conversations, agents = Conversations(table, settings.due_shards), Agents(table)
# queues sent to while a request waits: the bounded SQS client (dal.aws), so one that hangs is a refusal in time
work, outbound = Queue(settings.work_queue_url, answering=True), Queue(settings.outbound_queue_url, answering=True)
book = book_for(conversations, settings.first_response_targets)    # policies and routing, cached a minute
inbox = Inbox(conversations=conversations, agents=agents, work=work, outbound=outbound,
              first_response_targets=settings.first_response_targets,
              default_capacity=settings.agent_default_capacity, templates=settings.whatsapp_templates,
              email_from=settings.ses_from_address, book=book, customers=Customers(table))
mention_desk = MentionDesk(Mentions(table), conversations, agents)
inbox.mentions = mention_desk                         # @name in notes notifies that agent
overview = Overview(Counts(table), agents, mention_desk.mentions)
transcripts = Transcripts(conversations, Customers(table), Access(agents),
                          html_mailer(settings.ses_from_address)
                          if settings.ses_from_address else None, book.routing, settings.shop_name)
surveys = SurveyDesk(Surveys(conversations), ConfigStore(table), inbox.outbound, settings.whatsapp_templates,
                     default_language=lambda: book.routing().default_language)


def after_resolve(conversation_id: str) -> None:
    """A person resolved a conversation: the automatic transcript and the satisfaction survey, when turned on
    (each never raises: the resolve happened)."""
    transcripts.on_resolve(conversation_id)
    surveys.on_resolve(conversation_id)


snoozer = Snoozer(conversations, inbox.set_status, book, on_resolved=after_resolve,
                  wants_resolved=lambda: book.routing().transcript_on_resolve or surveys.settings().enabled)
rerouter = Rerouter(conversations, agents, ConfigStore(table), work, book)
media = MediaStore(settings.media_bucket) if settings.media_bucket else None
presign = media.presign if media else None
inbox.files = Attachments(media) if media else None
feed = ChangeFeed(ChangeLog(table), agents)

commerce_settings = CommerceSettings.from_env()
phone.use_shop_region(commerce_settings.default_phone_region)    # national numbers on the platform's orders
commerce = commerce_for(commerce_settings)          # the shop platform's adapter, chosen once per cold start
order_lookup = OrderLookup(store_for(commerce_settings, answering=True), commerce)
# a customer's page shows the orders of all their emails and phones, through the same port as the order panel
customer_desk = CustomerDesk(Customers(table), Access(agents),
                             orders_of=lambda addresses: order_lookup.find(addresses).orders,
                             folder=Folder(conversations, lambda: book, work))
order_actions = OrderActions(order_lookup, commerce, commerce_settings.action_groups, conversations.add_message)
canned = CannedLibrary(CannedResponses(table), inbox.files, Macros(table))
inbox.personaliser = Personaliser(conversations, book.routing, settings.shop_name, canned, order_lookup)

config_store = ConfigStore(table)
composer = Composer(conversations, agents, config_store, work, book, slot_holders=inbox.slot_holders,
                    note_message=inbox.note_message, on_resolved=surveys.on_resolve)
labels = LabelDesk(Labels(table), composer)
macros = MacroDesk(Macros(table), canned, Labels(table), agents, config_store, book, composer, inbox)

search = Search(SearchReads(table), agents, search_for(SearchSettings.from_env()),
                cached_orders(store_for(commerce_settings, answering=True))
                if commerce_settings.platform != "none" else None,
                phone_region=commerce_settings.default_phone_region)

assistant = Assistant(IndexCache(KnowledgeBase(table), embedder_for(settings.kb_embedder),
                                 refresh_seconds=settings.kb_refresh_seconds),
                      ConfigStore(table), lambda: book.routing().default_language)

trail = AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table)))
inbox.privacy = trail.policies      # retention of what agents write, masking of notes
rerouter.privacy = customer_desk.privacy = macros.privacy = trail.policies   # masking of what else agents write
app = problems.resolver()
openapi.publish(app, "/agent", title="shopdesk agent API",
                description="The inbox over HTTP. Every refusal is an RFC 9457 problem (application/problem+json).",
                security_schemes={openapi.AGENT_JWT: openapi.AGENT_JWT_SCHEME}, security=[{openapi.AGENT_JWT: []}])
admission.install(app, agents, openapi.documents("/agent"))     # a deactivated agent: 403 before any route

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
CustomerId = Annotated[str, Path(min_length=1, max_length=64)]
# What a change to a conversation can answer besides its success: not the caller's to change (403), no such
# conversation (404), its state forbids it or it changed meanwhile (409), a body that is not JSON (415).
WRITE = (403, 404, 409, 415)


@app.get("/agent/conversations",
         summary="List conversations: mine, waiting (unassigned), all, granted, or where the caller was mentioned",
         responses=problems.responses(200, 400, 403, 404))
def list_conversations(
    view: Annotated[View, Query()] = "mine",
    status: Annotated[ConversationStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    team: Annotated[str | None, Query(min_length=1, max_length=64, description="unassigned: this team's queue "
                                                                            "(default: the caller's teams)")] = None,
    label: Annotated[LabelId | None, Query(description="only conversations with this label (any view)")] = None,
    sort: Annotated[Sort, Query(description="breach_risk: the waiting conversations most likely to miss their "
                                            "target first (view=unassigned)")] = "default",
    counts: Annotated[bool, Query(description="also each view's badge (what GET /agent/conversations/counts "
                                              "answers)")] = False,
) -> ConversationList:
    who = caller(app.current_event)
    if view == "mentions" and label is None:      # newest mention first, each with its unread state
        page, next_cursor = mention_desk.list(who, limit, cursor)
        listed = ConversationList(items=[ConversationOut.of(c).model_copy(update={"mention": MentionOut(
            by=m.by, message_id=m.message_id, at=m.last_at, count=m.count, unread=m.unread)})
            for m, c in page if status is None or c.status is status], next_cursor=next_cursor)
    else:
        items, next_cursor = inbox.list(who, view, status, limit, cursor, team, label, sort)
        listed = ConversationList.of(items, next_cursor)
    if counts:
        listed.counts = overview.view_counts(who)
    # the page's customers (names, addresses, last words): one record, again when the page shows others
    filters = {"status": status.value if status else None, "team": team, "label": label,
               "sort": None if sort == "default" else sort, "page": "next" if cursor else None}
    audit.listed([c.customer.id for c in listed.items], repeat=True, view=view, conversations=len(listed.items),
                 **{k: v for k, v in filters.items() if v})
    return listed


@app.get("/agent/conversations/counts", summary="How many conversations each view holds (the inbox's badges)",
         responses=problems.responses(200, 403))
def view_counts() -> ViewCounts:
    return ViewCounts(views=overview.view_counts(caller(app.current_event)))


@app.get("/agent/agents", summary="Every agent with presence, capacity and load (whom to transfer to)",
         responses=problems.responses(200))
def list_agents() -> AgentList:
    return AgentList(items=[AgentOut.of(a) for a in overview.colleagues()])


@app.get("/agent/teams",
         summary="Every team a conversation can be sent to, by name: id and name only (a team's description is the "
                 "admins', GET /admin/teams); a team only the routing settings name has its id as its name",
         responses=problems.responses(200))
def list_teams() -> TeamList:
    return TeamList.of(book.named_teams())      # cached with the routing settings: a new team shows within a minute


Include = Annotated[str | None, Query(max_length=64, description=(
    "side panels to answer in the same request, comma-separated: " + ", ".join(opened.PARTS) + " (a part that "
    "cannot be answered is left out; read it through its own route)"))]


@app.get("/agent/conversations/<conversation_id>", summary="A conversation with its messages, oldest first",
         responses=problems.responses(200, 400, 403, 404))
def get_conversation(conversation_id: ConversationId, include: Include = None) -> OpenedConversationOut:
    who = caller(app.current_event)
    wanted = opened.parts(include)
    conv = mention_desk.opened(who, inbox.get(who, conversation_id))          # mentions read
    return OpenedConversationOut.of(conv, presign).model_copy(update={"included": opener.include(who, conv, wanted)})


@app.post("/agent/conversations/<conversation_id>/mentions/read",
          summary="Mark the caller's mentions in the conversation read (opening it does the same)",
          status_code=204, responses=documented(204, None, "Read", 403, 404))
def read_mentions(conversation_id: ConversationId) -> Response[None]:
    mention_desk.read(caller(app.current_event), conversation_id)
    return Response(204)


IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=255, pattern=r"^[!-~]+$", description=(
    "one key per reply or template the client composes, or per failed reply it sends again (a UUID), sent again with "
    "every retry of that request: it is sent once. A repeat answers the first request's answer (202, the same message) "
    "and sends nothing again (a message the first stored but never queued, it queues); the key with another body is a "
    "422 (code idempotency_key_reused); a repeat while the first is still being handled, a 409 (code "
    "reply_key_in_flight). Kept 24 hours, for the caller in this conversation (one set of keys for its replies, "
    "templates and sends again)"))]


@app.post("/agent/conversations/<conversation_id>/replies",
          summary="Reply to the customer (sent in order): text or a canned response, and/or uploaded files",
          status_code=202, responses=with_attachment_problems(
              problems.responses(202, *WRITE, 400, 503, description="Queued to send")))
def reply(conversation_id: ConversationId, body: KnownFields[ReplyIn],
          idempotency_key: IdempotencyKey = None) -> Response[MessageOut]:
    message = inbox.reply(caller(app.current_event), conversation_id, body.text, body.channel,
                          body.canned_response_id, [f.ref() for f in body.attachments], key=idempotency_key)
    return Response(202, content_types.APPLICATION_JSON, MessageOut.of(message, presign))


MessageId = Annotated[str, Path(min_length=1, max_length=64)]


@app.post("/agent/conversations/<conversation_id>/replies/<message_id>/retry",
          summary="Send a failed reply, or one stuck in the queue, again (text, files or template), as a new reply; "
                  "parts already sent are not repeated",
          status_code=202, responses=with_attachment_problems(
              problems.responses(202, 403, 404, 409, 503, description="Queued to send")))
def retry_reply(conversation_id: ConversationId, message_id: MessageId,
                idempotency_key: IdempotencyKey = None) -> Response[MessageOut]:
    message = inbox.retry(caller(app.current_event), conversation_id, message_id, key=idempotency_key)
    return Response(202, content_types.APPLICATION_JSON, MessageOut.of(message, presign))


@app.post("/agent/attachments",
          summary="Upload a file for a reply (with conversation_id) or a canned response: a presigned S3 POST",
          status_code=201, responses=with_attachment_problems(
              problems.responses(201, 400, 403, 404, 415, description="Post the file to url with fields")))
def upload_attachment(body: KnownFields[UploadIn]) -> Response[UploadOut]:
    upload = inbox.upload(caller(app.current_event), body.conversation_id, body.filename, body.content_type,
                          body.size, body.channel)
    return Response(201, content_types.APPLICATION_JSON, UploadOut.model_validate({**upload,
                                                                                  "expires_in": UPLOAD_SECONDS}))


@app.get("/agent/templates", summary="Approved WhatsApp templates (for a closed 24-hour window)",
         responses=problems.responses(200))
def list_templates() -> TemplateList:
    return TemplateList(items=[TemplateOut.model_validate(t.model_dump()) for t in settings.whatsapp_templates])


@app.post("/agent/conversations/<conversation_id>/templates", summary="Send an approved WhatsApp template",
          status_code=202, responses=problems.responses(202, *WRITE, 400, 503, description="Queued to send"))
def send_template(conversation_id: ConversationId, body: KnownFields[TemplateIn],
                  idempotency_key: IdempotencyKey = None) -> Response[MessageOut]:
    message = inbox.send_template(caller(app.current_event), conversation_id, body.name, body.language,
                                  body.parameters, body.channel, key=idempotency_key)
    return Response(202, content_types.APPLICATION_JSON, MessageOut.of(message))


@app.post("/agent/conversations/<conversation_id>/notes",
          summary="Add an internal note (never sent); @name notifies that agent (400: a name several agents share)",
          status_code=201, responses=problems.responses(201, *WRITE, 400, description="Added"))
def note(conversation_id: ConversationId, body: KnownFields[NoteIn]) -> Response[MessageOut]:
    message = inbox.note(caller(app.current_event), conversation_id, body.text)
    return Response(201, content_types.APPLICATION_JSON, MessageOut.of(message))


@app.post("/agent/conversations/<conversation_id>/assignment", summary="Assign or transfer to an agent",
          responses=problems.responses(200, *WRITE))
def assign(conversation_id: ConversationId, body: KnownFields[AssignmentIn]) -> ConversationOut:
    return ConversationOut.of(inbox.assign(caller(app.current_event), conversation_id, body.agent_id, body.note))


@app.post("/agent/conversations/<conversation_id>/status",
          summary="Open, pend, snooze (optionally until a time or a preset), resolve or reopen",
          responses=problems.responses(200, *WRITE, 400))
def set_status(conversation_id: ConversationId, body: KnownFields[StatusIn]) -> ConversationOut:
    return ConversationOut.of(snoozer.set_status(caller(app.current_event), conversation_id, body.status,
                                                 body.until, body.preset))


@app.post("/agent/conversations/<conversation_id>/transcript",
          summary="Email the conversation to the customer (messages, no notes; in their language)",
          status_code=202, responses=problems.responses(202, 403, 404, 409, 503, description="Sent to SES"))
def send_transcript(conversation_id: ConversationId) -> Response[TranscriptOut]:
    sent = transcripts.send(caller(app.current_event), conversation_id)
    return Response(202, content_types.APPLICATION_JSON, TranscriptOut(to=sent.to, language=sent.language,
                                                                       messages=sent.messages))


@app.put("/agent/conversations/<conversation_id>/routing",
         summary="Change priority, team or skills (the assignee; supervisors and admins)",
         responses=problems.responses(200, *WRITE))
def set_routing(conversation_id: ConversationId, body: KnownFields[RoutingIn]) -> ConversationOut:
    change = RoutingChange(priority=body.priority, team=body.team, skills=body.skills, note=body.note)
    return ConversationOut.of(rerouter.change(conversation_id, change, caller(app.current_event)))


@app.get("/agent/me", summary="The calling agent: presence, capacity, load",
         responses=problems.responses(200, 403))
def me() -> AgentOut:
    who = caller(app.current_event)
    return AgentOut.of(inbox.me(who.id, who.name, who.email))


@app.put("/agent/me/presence", summary="Go online, away or offline",
         responses=problems.responses(200, 403, 409, 415))
def set_presence(body: KnownFields[PresenceIn]) -> AgentOut:
    who = caller(app.current_event)
    return AgentOut.of(inbox.set_presence(who.id, who.name, body.presence, who.email))


@app.get("/agent/customers/<customer_id>",
         summary="A customer: identities, attributes, tier, conversations on every channel (paged), orders, timeline",
         responses=problems.responses(200, 400, 403, 404))
def get_customer(customer_id: CustomerId, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                 cursor: Annotated[str | None, Query(max_length=4096)] = None) -> CustomerOut:
    return CustomerOut.of(customer_desk.get(caller(app.current_event), customer_id, limit, cursor))


@app.get("/agent/customers/<customer_id>/duplicates", summary="Customers who are likely the same person, with evidence",
         responses=problems.responses(200, 403, 404))
def customer_duplicates(customer_id: CustomerId) -> DuplicateList:
    return _duplicates(caller(app.current_event), customer_id)


def _customer(who: Caller, customer_id: str) -> CustomerOut:
    return CustomerOut.of(customer_desk.get(who, customer_id))


def _duplicates(who: Caller, customer_id: str) -> DuplicateList:
    return DuplicateList.of(customer_desk.duplicates(who, customer_id))


# A merge or an unmerge: a customer with themselves (400), not the caller's (403), no such customer or merge
# or one the caller may not see (404), the customers changed meanwhile or the merge is undone already (409).
@app.post("/agent/customers/<customer_id>/merge",
          summary="Merge another customer into this one (identities, conversations, open conversation)",
          responses=problems.responses(200, 400, 403, 404, 409, 415, description="Merged"))
def merge_customer(customer_id: CustomerId, body: KnownFields[MergeIn]) -> MergeOut:
    return MergeOut.of(customer_desk.merge(caller(app.current_event), customer_id, body.other_id, body.reason))


@app.post("/agent/customers/<customer_id>/unmerge", summary="Undo a merge: both customers as they were",
          responses=problems.responses(200, 403, 404, 409, 415, description="Unmerged"))
def unmerge_customer(customer_id: CustomerId, body: KnownFields[UnmergeIn]) -> MergeOut:
    return MergeOut.of(customer_desk.unmerge(caller(app.current_event), customer_id, body.merge_id, body.reason))


@app.get("/agent/changes", summary="What changed since a cursor: the catch-up after a dropped WebSocket",
         responses=problems.responses(200, 400, 403))
def changes(
    since: Annotated[str | None, Query(min_length=1, max_length=512,
                                       description="a cursor from a frame or an earlier answer; "
                                                   "none: no items and the current cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ChangeList:
    who = caller(app.current_event)
    return ChangeList.of(feed.page(who.id, who.roles, since, limit))


# ---------------------------------------------------------------- commerce: the order panel and order actions

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]


@app.post("/agent/assist/answer",
          summary="What the bot would do with this message, sending nothing: language, sentiment, urgency, intent, "
                  "the reason it would hand over, or the article it would answer with; plus the best articles",
          responses=problems.responses(200, 403, 404, 415))
def assist_answer(body: KnownFields[AssistRequest]) -> AssistAnswer:
    return AssistAnswer.of(assistant.answer(caller(app.current_event), body.text, with_article=body.with_article))


@app.get("/agent/conversations/<conversation_id>/assist",
         summary="The best knowledge-base articles for the customer's latest messages, to insert into a reply",
         responses=problems.responses(200, 403, 404))
def assist_conversation(conversation_id: ConversationId) -> AssistOut:
    who = caller(app.current_event)
    return _assist(who, inbox.get(who, conversation_id))


def _assist(who: Caller, conv: Conversation) -> AssistOut:
    decision = assistant.for_conversation(who, conv)
    return AssistOut(suggestion=AssistAnswer.of(decision) if decision else None)


@app.get("/agent/conversations/<conversation_id>/orders",
         summary="The customer's recent orders and those named in the messages (cache first, then the platform)",
         responses=problems.responses(200, 403, 404, 503))
def list_orders(conversation_id: ConversationId) -> OrderPanelOut:
    who = caller(app.current_event)
    return _orders(who, inbox.get(who, conversation_id))


def _orders(who: Caller, conv: Conversation, cached_only: bool = False) -> OrderPanelOut:
    return OrderPanelOut.of(order_lookup.panel(conv, cached_only=cached_only), order_actions.allowed(who))


# the opening's orders come from the cache alone: a conversation never waits for the shop to show (its panel asks)
opener = opened.Opener(customer=_customer, duplicates=_duplicates, assist=_assist,
                       orders=lambda who, conv: _orders(who, conv, cached_only=True))


@app.post("/agent/conversations/<conversation_id>/orders/<order_id>/cancel",
          summary="Cancel an unfulfilled order: without confirm, a 409 with the preview; with confirm, done",
          responses=problems.responses(200, *WRITE, 503))
def cancel_order(conversation_id: ConversationId, order_id: OrderId, body: KnownFields[CancelIn]) -> ActionOut:
    who = caller(app.current_event)
    request = CancelRequest(reason=body.reason, restock=body.restock, notify_customer=body.notify_customer,
                            staff_note=body.staff_note, confirm=body.confirm)
    return ActionOut.of(order_actions.cancel(inbox.get(who, conversation_id), order_id, who, request))


@app.post("/agent/conversations/<conversation_id>/orders/<order_id>/refund",
          summary="Refund all (no line_items) or chosen line items: without confirm, a 409 with the preview",
          responses=problems.responses(200, *WRITE, 503))
def refund_order(conversation_id: ConversationId, order_id: OrderId, body: KnownFields[RefundIn]) -> ActionOut:
    who = caller(app.current_event)
    request = RefundRequest(line_items=body.line_items, note=body.note, notify_customer=body.notify_customer,
                            confirm=body.confirm)
    return ActionOut.of(order_actions.refund(inbox.get(who, conversation_id), order_id, who, request))


install_action_errors(app)


# ---------------------------------------------------------------- search

@app.get("/agent/search", summary="Find conversations and customers by phone, email, handle, order number, id or words",
         responses=documented(200, SearchOut, "Exact matches first, then the best full-text matches", 400, 503))
def search_route(
    q: Annotated[str, Query(min_length=1, max_length=200,
                            description="a phone, an email, a handle, an order number, a conversation id or words; "
                                        "status:<status> narrows")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchOut:
    return SearchOut.of(search.search(caller(app.current_event), q, limit))


# ---------------------------------------------------------------- personalised replies and canned responses

CannedResponseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Version = Annotated[int | None, Query(ge=0, le=2**31, description="save only over this version (0: only a new one)")]


@app.post("/agent/conversations/<conversation_id>/preview",
          summary="The reply as the customer would get it: variables filled in (422 names any with no value)",
          responses=documented(200, PreviewOut, "The rendered text; nothing sent", 403, 404, 415, renders=True))
def preview(conversation_id: ConversationId, body: KnownFields[PreviewIn]) -> PreviewOut:
    return PreviewOut(text=inbox.preview(caller(app.current_event), conversation_id, body.text,
                                         body.canned_response_id))


@app.get("/agent/canned-responses",
         summary="Find canned responses (shared and the caller's own) by shortcode, then title, then body; with "
                 "?conversation_id= each says the language of the body a reply there uses",
         responses=documented(200, CannedList, "At most 20, best match first", 403, 404))
def search_canned(q: Annotated[str | None, Query(max_length=100)] = None,
                  conversation_id: Annotated[str | None, Query(min_length=1, max_length=64, description=(
                      "a conversation the caller may see: each response's `language` is the body a reply in it "
                      "uses (the customer's language, else the shop's default, else English, else the first)"))]
                  = None) -> CannedList:
    who = caller(app.current_event)
    found = canned.search(who, q)
    return CannedList.of(found, inbox.reply_languages(who, conversation_id) if conversation_id else None)


@app.put("/agent/canned-responses/<response_id>", summary="Create or change one of the caller's own canned responses "
                                                          "(?version=N: only over version N; 0: only a new one)",
         responses=with_attachment_problems(documented(200, CannedOut, "Saved", 400, 403, 409, 415, renders=True)))
def put_personal_canned(response_id: CannedResponseId, body: KnownFields[CannedContent],
                        version: Version = None) -> CannedOut:
    return CannedOut.of(canned.put_personal(caller(app.current_event), response_id, body, version))


@app.delete("/agent/canned-responses/<response_id>", summary="Delete one of the caller's own canned responses (409 "
                                                             "while one of their macros replies with it)",
            responses=documented(204, None, "Deleted", 403, 404, 409))
def delete_personal_canned(response_id: CannedResponseId) -> Response[None]:
    canned.delete_personal(caller(app.current_event), response_id)
    return Response(204)


install_render_errors(app)
install_attachment_errors(app)


# ---------------------------------------------------------------- labels and macros

MacroId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@app.get("/agent/labels", summary="The shop's labels with their names and colours (retired ones marked)",
         responses=problems.responses(200, 403))
def list_labels() -> LabelList:
    return LabelList.of(labels.list(caller(app.current_event)))


@app.post("/agent/conversations/<conversation_id>/labels",
          summary="Add and remove labels (422 names any unknown or retired label to add)",
          responses=problems.responses(200, *WRITE))
def change_labels(conversation_id: ConversationId, body: KnownFields[LabelChange]) -> ConversationOut:
    return ConversationOut.of(labels.change(caller(app.current_event), conversation_id, body))


@app.get("/agent/macros", summary="The caller's own macros, then the shared ones", responses=problems.responses(200))
def list_macros() -> MacroList:
    return MacroList.of(macros.usable(caller(app.current_event)), macros.known_labels())


@app.put("/agent/macros/<macro_id>",
         summary="Create or change one of the caller's own macros (422 names anything its actions name that "
                 "does not exist; ?version=N: only over version N, 0: only a new one)",
         responses=problems.responses(200, 403, 409, 415))
def put_personal_macro(macro_id: MacroId, body: KnownFields[MacroContent], version: Version = None) -> MacroOut:
    return MacroOut.of(macros.put_personal(caller(app.current_event), macro_id, body, version))


@app.delete("/agent/macros/<macro_id>", summary="Delete one of the caller's own macros",
            responses=problems.responses(204, 403, 404, description="Deleted", ok_content={}))
def delete_personal_macro(macro_id: MacroId) -> Response[None]:
    macros.delete_personal(caller(app.current_event), macro_id)
    return Response(204)


ApplyKey = Annotated[str | None, Header(min_length=1, max_length=255, pattern=r"^[!-~]+$", description=(
    "one key per apply the client composes (a UUID), sent again with every retry of that request: a macro's reply is "
    "sent once. One key for the whole request, taken in each conversation it names before any is applied: a repeat "
    "answers each conversation from its own record (the reply, or the macro's change, its first request made; one "
    "it did not apply, refused or out of time, is applied now) and sends nothing again (a reply the first stored but "
    "never queued, it queues); the key with another macro or another selection is a 422 (code "
    "idempotency_key_reused), a repeat while the first is still being handled a 409 (code reply_key_in_flight), and "
    "nothing is applied. Kept 24 hours, for the caller in each conversation (the same set of keys as its replies'"
    ")"))]


@app.post("/agent/macros/<macro_id>/apply",
          summary="Apply a macro (the caller's own or a shared one) to conversations: per conversation applied, "
                  "or refused with the problem (all or nothing per conversation)",
          responses=problems.responses(200, 403, 404, 409, 415))
def apply_macro(macro_id: MacroId, body: KnownFields[ApplyRequest],
                idempotency_key: ApplyKey = None) -> ApplyOut:
    context = app.lambda_context
    return ApplyOut.of(*macros.apply(caller(app.current_event), macro_id, body.conversation_ids,
                                     time_left=lambda: context.get_remaining_time_in_millis() / 1000,
                                     key=idempotency_key))


install_refusals(app)
problems.install(app, {QueueUnavailable: 503, SearchUnavailable: 503, ProviderError: 503},   # SES refused a transcript
                 answering=True)       # the bounded table: any route may answer 503 not_answered
# every change, and the reads that reveal a customer: one audit record each (shopdesk.privacy.audit; what the inbox
# reads again on its own after a notice, the open conversation and the list: once per actor and window)
audit.install(app, lambda: trail, caller, {
    ("GET", "/agent/customers/<customer_id>"): "customer.read",
    ("GET", "/agent/customers/<customer_id>/duplicates"): "customer.duplicates",
    ("GET", "/agent/search"): "search",
    ("GET", "/agent/conversations/<conversation_id>/orders"): "orders.read",
    ("POST", "/agent/conversations/<conversation_id>/preview"): "reply.previewed",   # the customer's order in it
}, revealing={("GET", "/agent/conversations/<conversation_id>"): "conversation.opened",
              ("GET", "/agent/conversations"): "conversations.listed",
              # only when the caller's sign-in changed the work email on their record (audit.changed)
              ("GET", "/agent/me"): "agent.email_changed"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
