"""Admin API: admins set up agents, teams, calendars, SLA policies, routing and customers' tiers; supervisors
read them (roles from Cognito groups, checked by shopdesk.logic.admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import phone
from shopdesk.api import admission, openapi, problems
from shopdesk.api.admin import (
    AgentList,
    CalendarList,
    CalendarOut,
    CsatOut,
    CustomerList,
    RoutingOut,
    SlaPolicyList,
    SlaPolicyOut,
    TeamList,
    TeamOut,
)
from shopdesk.api.agent import caller, caller_roles
from shopdesk.api.attachments import install_attachment_errors, with_attachment_problems
from shopdesk.api.board import SlaEventList
from shopdesk.api.bodies import KnownFields
from shopdesk.api.canned import CannedList, CannedOut, documented, install_render_errors
from shopdesk.api.commerce import PrivacyRequestList
from shopdesk.api.kb import IMPORT_TYPES, ArticleList, BotOut, ImportOut, install_import_errors
from shopdesk.api.macros import LabelList, LabelOut, MacroList, MacroOut, install_refusals
from shopdesk.api.privacy import AuditList, EraseRows, EraseSeveral, JobOut, JobStarted, PrivacySettingsOut
from shopdesk.bot import BotSettings
from shopdesk.clock import AwareInstant
from shopdesk.commerce.platform import store_for
from shopdesk.config import AdminApiSettings, CommerceSettings
from shopdesk.csat import CsatSettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.counts import Counts
from shopdesk.dal.customers import Customers
from shopdesk.dal.kb import KnowledgeBase
from shopdesk.dal.labels import Labels
from shopdesk.dal.lake import LakeBucket
from shopdesk.dal.live import ConnectionPoster, Connections
from shopdesk.dal.macros import Macros
from shopdesk.dal.media import MediaStore
from shopdesk.dal.privacy import Files, PrivacyJobStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.sla_events import SlaEvents
from shopdesk.dal.table import Table
from shopdesk.errors import BadRequest, NotFound
from shopdesk.kb import Article, ArticleContent
from shopdesk.kb.articles import ArticleLibrary
from shopdesk.kb.embedder import embedder_for
from shopdesk.logic.access import Access
from shopdesk.logic.admin import ADMIN, Admin, require
from shopdesk.logic.attachments import Attachments
from shopdesk.logic.board import Board
from shopdesk.logic.canned import CannedLibrary
from shopdesk.logic.customers import CustomerDesk
from shopdesk.logic.fold import Folder
from shopdesk.logic.labels import LabelDesk
from shopdesk.logic.live import LiveConnections
from shopdesk.logic.macros import MacroDesk
from shopdesk.logic.sla_engine import book_for
from shopdesk.logs import logger_for
from shopdesk.models import Agent
from shopdesk.models.admin import AgentMaxRole, AgentSettings, RoutingSettings, Team, TierChange
from shopdesk.models.canned import CannedContent
from shopdesk.models.customer import Customer
from shopdesk.models.labels import LabelContent
from shopdesk.models.macros import MacroContent
from shopdesk.models.sla import BusinessHours, SlaPolicy
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.desk import PrivacyDesk
from shopdesk.privacy.jobs import JobNotQueued, PrivacyJobs, WalkNotQueued
from shopdesk.privacy.settings import PrivacyPolicies, PrivacySettings

settings = AdminApiSettings.from_env()
logger = logger_for()
table = Table(settings.table_name, answering=True)     # bounded: a table that hangs is a 503 in time
conversations = Conversations(table, settings.due_shards)
sockets = LiveConnections(Connections(table), Agents(table), ConnectionPoster(settings.connections_endpoint))
# queues sent to while a request waits: the bounded SQS client (dal.aws), so one that hangs is a refusal in time
work = Queue(settings.work_queue_url, answering=True)
admin = Admin(ConfigStore(table), Agents(table), work, Customers(table), conversations,
              book_for(conversations, settings.first_response_targets), Counts(table), Macros(table),
              close_sockets=sockets.close)
commerce_settings = CommerceSettings.from_env()
phone.use_shop_region(commerce_settings.default_phone_region)    # a customer found by a national number
privacy_store = store_for(commerce_settings, "shopify", answering=True)   # privacy requests are one partition
articles = ArticleLibrary(KnowledgeBase(table), lambda: embedder_for(settings.kb_embedder))
canned = CannedLibrary(CannedResponses(table),
                       Attachments(MediaStore(settings.media_bucket)) if settings.media_bucket else None, Macros(table))
board = Board(SlaEvents(table), Access(Agents(table)))
customer_desk = CustomerDesk(Customers(table), Access(Agents(table)),
                             folder=Folder(conversations, lambda: admin.book, admin.work))
labels = LabelDesk(Labels(table), macros=Macros(table), agents=Agents(table))
macros = MacroDesk(Macros(table), canned, Labels(table), Agents(table), admin.config, admin.book)
policies = PrivacyPolicies(ConfigStore(table))
customer_desk.privacy = macros.privacy = admin.privacy = labels.privacy = policies   # masking of what people write,
# as the settings saved here say
trail = AuditTrail(AuditLog(table), policies)
privacy_queue = Queue(settings.privacy_queue_url, answering=True)
privacy = PrivacyDesk(trail, policies, PrivacyJobs(PrivacyJobStore(table), privacy_queue,
                                                   Customers(table), Files(), settings.export_bucket,
                                                   timers=conversations),
                      LakeBucket(settings.events_bucket, settings.events_prefix) if settings.events_bucket else None,
                      MediaStore(settings.media_bucket) if settings.media_bucket else None,
                      settings.media_retention_days)
app = problems.resolver()
openapi.publish(app, "/admin", title="shopdesk admin API",
                description="Agents, teams, calendars, SLA policies, routing settings and customers' tiers, for "
                            "supervisors and admins (403 for other agents); the audit trail, privacy settings, "
                            "customers' export and erase, for admins. Every refusal is an RFC 9457 problem "
                            "(application/problem+json).",
                security_schemes={openapi.AGENT_JWT: openapi.AGENT_JWT_SCHEME}, security=[{openapi.AGENT_JWT: []}])
admission.install(app, admin.agents, openapi.documents("/admin"))     # a deactivated caller: 403 before any route

Id = Annotated[str, Path(min_length=1, max_length=128)]
Version = Annotated[int | None, Query(ge=0, le=2**31)]
Address = Annotated[str | None, Query(min_length=1, max_length=320)]
# What the routes answer besides their success: a reader without the role (403); a change also: no such item
# (404), changed meanwhile or the path and body disagree (409), a body that is not JSON (415).
READ = problems.responses(200, 403)
WRITE = (403, 404, 409, 415)
# A save naming a team (an agent put in it, the routing, the bot's or the survey's settings, an SLA policy) that other
# saves naming it held for longer than it tries again: 503, code busy (nothing saved, send it again).
BUSY = 503


def _caller_roles() -> set[str]:
    return caller_roles(app.current_event)


@app.get("/admin/agents", summary="Every agent with settings, presence and load", responses=READ)
def list_agents() -> AgentList:
    return {"items": admin.list_agents(_caller_roles())}


@app.put("/admin/agents/<agent_id>", summary="Set an agent's capacity, team, skills and languages; ?version=N "
                                              "saves only over version N of the settings (settings_version)",
         responses=problems.responses(200, *WRITE, BUSY))
def set_agent(agent_id: Id, body: KnownFields[AgentSettings], version: Version = None) -> Agent:
    return admin.set_agent(_caller_roles(), agent_id, body, version)


@app.post("/admin/agents/<agent_id>/deactivate", summary="Take an agent off the desk: every request of theirs refused "
          "(403 deactivated) and their open sockets closed at once, offline, never assigned or transferred to; what "
          "they hold goes back to the queue at the sweep's next run (409 deactivating_self: not the caller)",
          responses=problems.responses(200, 403, 404, 409))
def deactivate_agent(agent_id: Id) -> Agent:
    return admin.deactivate_agent(_caller_roles(), agent_id, caller(app.current_event).id)


@app.put("/admin/agents/<agent_id>/max-role", summary="Set the highest role an agent may use (agent, supervisor, "
         "admin), whatever the Cognito groups of the token they hold: a role taken away is refused from their next "
         "request and their open sockets are closed; it never raises what their token gives (409 demoting_self: "
         "not the caller's own; 409 last_admin: the caller's own was lowered meanwhile, nothing changed)",
         responses=problems.responses(200, *WRITE, BUSY))
def set_max_role(agent_id: Id, body: KnownFields[AgentMaxRole]) -> Agent:
    return admin.set_max_role(_caller_roles(), agent_id, body.max_role, caller(app.current_event).id)


@app.post("/admin/agents/<agent_id>/reactivate", summary="Put a deactivated agent back on the desk: let in again, "
          "offline until they go online", responses=problems.responses(200, 403, 404, 409))
def reactivate_agent(agent_id: Id) -> Agent:
    return admin.reactivate_agent(_caller_roles(), agent_id)


@app.get("/admin/sla-events", summary="SLA warnings and breaches of the last hours, newest first (the board: an "
         "admin's of the whole desk, a supervisor's of their teams' conversations)",
         responses=READ)
def list_sla_events(hours: Annotated[int, Query(ge=1, le=48)] = 24,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                    team: Annotated[str | None, Query(min_length=1, max_length=64, description=(
                        "only this team's (a supervisor's own team; any for an admin). Default: the caller's "
                        "teams (an admin's: the whole desk)"))] = None) -> SlaEventList:
    return SlaEventList.of(*board.sla_events(caller(app.current_event), hours, limit, team))


@app.get("/admin/teams", summary="Teams", responses=READ)
def list_teams() -> TeamList:
    return {"items": admin.list_teams(_caller_roles())}


@app.put("/admin/teams/<team_id>", summary="Create or change a team (?version=N guards concurrent edits)",
         responses=problems.responses(200, *WRITE))
def put_team(team_id: Id, body: KnownFields[Team], version: Version = None) -> TeamOut:
    return admin.put_team(_caller_roles(), team_id, body, version)


@app.delete("/admin/teams/<team_id>",
            summary="Delete a team (?version=N deletes only that version); 409 while anything uses it, with a code "
                    "naming what: the routing settings' default team (team_is_default) or a channel's or label's "
                    "(team_routed_by_channel, team_routed_by_label), agents in it (team_has_members), conversations "
                    "not resolved (team_has_conversations), SLA policies (team_in_policies), the bot's or the "
                    "survey's settings (team_in_bot, team_in_csat) or macros (team_in_macros) naming it",
            responses=problems.responses(204, 403, 404, 409, description="Deleted", ok_content={}))
def delete_team(team_id: Id, version: Version = None) -> Response[None]:
    admin.delete_team(_caller_roles(), team_id, version)
    return Response(204)


@app.get("/admin/calendars", summary="Business-hours calendars", responses=READ)
def list_calendars() -> CalendarList:
    return {"items": admin.list_calendars(_caller_roles())}


@app.put("/admin/calendars/<calendar_id>", summary="Create or change a calendar (time zone, windows, holidays)",
         responses=problems.responses(200, *WRITE))
def put_calendar(calendar_id: Id, body: KnownFields[BusinessHours], version: Version = None) -> CalendarOut:
    return admin.put_calendar(_caller_roles(), calendar_id, body, version)


@app.delete("/admin/calendars/<calendar_id>",
            summary="Delete a calendar (?version=N deletes only that version); 409 calendar_in_policies while SLA "
                    "policies measure in it (conversations whose clocks run in it keep them)",
            responses=problems.responses(204, 403, 404, 409, description="Deleted", ok_content={}))
def delete_calendar(calendar_id: Id, version: Version = None) -> Response[None]:
    admin.delete_calendar(_caller_roles(), calendar_id, version)
    return Response(204)


@app.get("/admin/sla-policies", summary="SLA policies", responses=READ)
def list_policies() -> SlaPolicyList:
    return {"items": admin.list_policies(_caller_roles())}


@app.put("/admin/sla-policies/<policy_id>", summary="Create or change an SLA policy (targets per priority)",
         responses=problems.responses(200, *WRITE, BUSY))
def put_policy(policy_id: Id, body: KnownFields[SlaPolicy], version: Version = None) -> SlaPolicyOut:
    return admin.put_policy(_caller_roles(), policy_id, body, version)


@app.delete("/admin/sla-policies/<policy_id>", summary="Delete an SLA policy (?version=N deletes only that version)",
            responses=problems.responses(204, 403, 404, 409, description="Deleted", ok_content={}))
def delete_policy(policy_id: Id, version: Version = None) -> Response[None]:
    admin.delete_policy(_caller_roles(), policy_id, version)
    return Response(204)


@app.get("/admin/routing", summary="Routing settings", responses=READ)
def get_routing() -> RoutingOut:
    return admin.routing(_caller_roles())


@app.put("/admin/routing", summary="Change routing settings: the fields given, the others kept (admins; ?version=N "
                                    "guards concurrent edits; teams named must be the desk's, 422 otherwise)",
         responses=problems.responses(200, 400, 403, 409, 415, BUSY))     # 400: templates the router could not use
def put_routing(body: KnownFields[RoutingSettings], version: Version = None) -> RoutingOut:
    return admin.put_routing(_caller_roles(), body, version)


@app.get("/admin/customers", summary="Find a customer by an identity (?phone=+31612345678 or ?email=...)",
         responses=problems.responses(200, 400, 403))
def find_customers(phone: Address = None, email: Address = None) -> CustomerList:
    return {"items": admin.find_customers(_caller_roles(), phone, email, _visible)}


@app.get("/admin/customers/<customer_id>", summary="A customer with their identities and tier",
         responses=problems.responses(200, 403, 404))
def get_customer(customer_id: Id) -> Customer:
    return admin.customer(_caller_roles(), customer_id, _visible)


def _visible(customer_id: str) -> bool:
    """A supervisor sees the customers of their teams' conversations, as on the agent API (logic.customers)."""
    try:
        customer_desk.visible(caller(app.current_event), customer_id)
    except NotFound:
        return False
    return True


@app.put("/admin/customers/<customer_id>", summary="Set a customer's tier ({\"tier\": \"vip\"}, or null for none)",
         responses=problems.responses(200, *WRITE))
def set_customer_tier(customer_id: Id, body: KnownFields[TierChange]) -> Customer:
    return admin.set_tier(_caller_roles(), customer_id, body.tier)


@app.get("/admin/privacy-requests",
         summary="Privacy requests from the shop platform (customers/data_request, customers/redact, shop/redact), "
                 "newest first (admins)", responses=problems.responses(200, 400, 403))
def list_privacy_requests(limit: Annotated[int, Query(ge=1, le=100)] = 50,
                          cursor: Annotated[str | None, Query(max_length=4096)] = None) -> PrivacyRequestList:
    require(_caller_roles(), ADMIN)
    try:
        items, next_cursor = privacy_store.privacy_requests(limit, cursor)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    # the addresses the requests name: the record names the requests and the customers of ours they name
    audit.note(requests=[i.id for i in items], customers=sorted({j.customer_id for i in items for j in i.jobs}))
    # jobs still running on the request: as their own status answers them (a last attempt killed reads failed)
    return PrivacyRequestList(items=[privacy.jobs.as_now(i) for i in items], next_cursor=next_cursor)


# ---------------------------------------------------------------- shared canned responses

CannedResponseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@app.get("/admin/canned-responses", summary="Shared canned responses with their usage, least used first",
         responses=documented(200, CannedList, "Least used first (supervisors, admins)", 403))
def list_canned() -> CannedList:
    return CannedList.of(canned.list_shared(caller(app.current_event)))


@app.get("/admin/canned-responses/<response_id>", summary="A shared canned response",
         responses=documented(200, CannedOut, "The response with its usage (supervisors, admins)", 403, 404))
def get_canned(response_id: CannedResponseId) -> CannedOut:
    return CannedOut.of(canned.get_shared(caller(app.current_event), response_id))


@app.put("/admin/canned-responses/<response_id>",
         summary="Create or change a shared canned response (admins): title, shortcode, a body per language; "
                 "?version=N saves only over version N (0: only a new one)",
         responses=with_attachment_problems(documented(200, CannedOut, "Saved", 400, 403, 409, 415, renders=True)))
def put_canned(response_id: CannedResponseId, body: KnownFields[CannedContent], version: Version = None) -> CannedOut:
    return CannedOut.of(canned.put_shared(caller(app.current_event), response_id, body, version))


@app.delete("/admin/canned-responses/<response_id>", summary="Delete a shared canned response (admins; 409 while a "
                                                             "shared macro replies with it)",
            responses=documented(204, None, "Deleted", 403, 404, 409))
def delete_canned(response_id: CannedResponseId) -> Response[None]:
    canned.delete_shared(caller(app.current_event), response_id)
    return Response(204)


# ---------------------------------------------------------------- the knowledge base and the bot

ArticleId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@app.get("/admin/kb/articles", summary="Every knowledge-base article (current versions), originals each followed "
                                       "by their translations; ?status=published leaves out retired ones",
         responses=documented(200, ArticleList, "The articles (supervisors, admins)", 403))
def list_articles(status: Annotated[str | None, Query(pattern="^(published|retired)$")] = None) -> ArticleList:
    found = articles.list(caller(app.current_event))
    return ArticleList(items=[a for a in found if status is None or a.status == status])


@app.put("/admin/kb/articles/<article_id>",
         summary="Create or change an article (a new version; published, or with ?draft=true a draft the bot does "
                 "not use until it is published; a published article's draft is kept beside its live version, "
                 "which goes on answering): title, body, language, tags, url, translation_of (the original it "
                 "translates); ?version=N saves only over version N (the draft's when it has one; 0: only a new "
                 "article)",
         responses=documented(200, Article, "Saved, with its new version", 400, 403, 409, 415))
def put_article(article_id: ArticleId, body: KnownFields[ArticleContent],
                draft: Annotated[bool, Query(description="save as a draft: kept and versioned, not answered with "
                                                         "until published")] = False,
                version: Version = None) -> Article:
    return articles.put(caller(app.current_event), article_id, body, draft, version)


@app.post("/admin/kb/articles/<article_id>/publish",
          summary="Publish a draft or a retired article, or a published article's draft (it replaces the live "
                  "version): a new version, and the bot and agent assist use it from then on; ?version=N only "
                  "over version N",
          responses=documented(200, Article, "Published (unchanged if it already was, with no draft)", 400, 403,
                               404, 409))
def publish_article(article_id: ArticleId, version: Version = None) -> Article:
    return articles.publish(caller(app.current_event), article_id, version)


@app.delete("/admin/kb/articles/<article_id>/draft",
            summary="Discard a published article's draft: the live version stays (a new version with its "
                    "content; the draft stays in the history); ?version=N only over version N",
            responses=documented(200, Article, "The article without its draft", 403, 404, 409))
def discard_article_draft(article_id: ArticleId, version: Version = None) -> Article:
    return articles.discard_draft(caller(app.current_event), article_id, version)


@app.get("/admin/kb/articles/<article_id>/versions", summary="Every version of an article, oldest first",
         responses=documented(200, ArticleList, "Its versions (supervisors, admins)", 403, 404))
def article_versions(article_id: ArticleId) -> ArticleList:
    return ArticleList(items=articles.history(caller(app.current_event), article_id))


@app.delete("/admin/kb/articles/<article_id>",
            summary="Retire an article: the bot and agent assist no longer use it, nor an original's translations; "
                    "it stays listed with its history (a draft it had is dropped)",
            responses=documented(200, Article, "Retired (a new version)", 403, 404))
def retire_article(article_id: ArticleId) -> Article:
    return articles.retire(caller(app.current_event), article_id)


@app.post("/admin/kb/import",
          summary="Import articles: JSON Lines (application/x-ndjson) of {id, title, body, language, tags?, url?, "
                  "translation_of?}, or Markdown (text/markdown) articles each opened by front matter. Every line "
                  "is checked first; a file with any bad line is refused whole (422 naming each line)",
          responses=documented(200, ImportOut, "Imported: created, updated, unchanged ids", 400, 403, 415))
def import_articles() -> ImportOut:
    event = app.current_event
    require(_caller_roles(), ADMIN)          # a refusal before anything about the body
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in IMPORT_TYPES:
        raise UnsupportedImport(f"send JSON Lines (application/x-ndjson) or Markdown (text/markdown), "
                                f"not {content_type or 'no content type'!r}")
    return ImportOut.of(articles.import_text(caller(event), problems.body_text(event), content_type))


@app.get("/admin/bot", summary="The bot's settings", responses=READ)
def get_bot() -> BotOut:
    return admin.bot(_caller_roles())


@app.put("/admin/bot", summary="Turn the bot on or off and set where, when and how sure it answers (admins; "
                               "the fields given, the others kept; ?version=N guards concurrent edits)",
         responses=problems.responses(200, 403, 409, 415, BUSY))
def put_bot(body: KnownFields[BotSettings], version: Version = None) -> BotOut:
    return admin.put_bot(_caller_roles(), body, version)


@app.get("/admin/csat", summary="The satisfaction survey's settings", responses=READ)
def get_csat() -> CsatOut:
    return admin.csat(_caller_roles())


@app.put("/admin/csat", summary="Turn the satisfaction survey after a resolve on or off, for every conversation, "
                                "some channels or some teams (admins; the fields given, the others kept; "
                                "?version=N guards concurrent edits)",
         responses=problems.responses(200, 403, 409, 415, BUSY))
def put_csat(body: KnownFields[CsatSettings], version: Version = None) -> CsatOut:
    return admin.put_csat(_caller_roles(), body, version)


class UnsupportedImport(Exception):
    pass


@app.exception_handler(UnsupportedImport)
def _unsupported_import(exc: UnsupportedImport) -> Response:
    return problems.answer(problems.UNSUPPORTED_MEDIA_TYPE, str(exc))


install_import_errors(app)
# ---------------------------------------------------------------- privacy: audit trail, settings, export, erase

JobId = Annotated[str, Path(pattern=r"^j_[0-9A-Z]{26}$")]
When = Annotated[AwareInstant | None, Query(description="ISO 8601 time with its zone (Z or an offset)")]


@app.get("/admin/audit", summary="The audit trail, newest first, by actor, customer, time and outcome (admins; "
                                  "outcome=denied: the refused access attempts; outcome=failed: the actions that "
                                  "changed data and then failed)",
         responses=problems.responses(200, 400, 403))
def list_audit(actor: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
               customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
               from_: Annotated[AwareInstant | None, Query(alias="from", description="ISO 8601 time with its zone "
                                                                                "(Z or an offset)")] = None,
               to: When = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
               cursor: Annotated[str | None, Query(max_length=4096)] = None,
               outcome: Annotated[Literal["allowed", "denied", "failed"] | None, Query(description=(
                   "only the refused access attempts (denied), only the other records (allowed, the failed ones "
                   "included), or only the actions that changed data and then failed (failed); a page looks at no "
                   "more than 1,000 records, then comes back short with its cursor"))] = None,
               lists: Annotated[bool, Query(description=(
                   "with customer_id: also the lists that showed the customer (a page of conversations, the SLA "
                   "board, the privacy requests), filed under no one customer; read day by day, so from and to "
                   "may be at most 92 days apart (the last 7 days when from is left out)"))] = False) -> AuditList:
    items, next_cursor = privacy.audit(_caller_roles(), actor=actor, customer_id=customer_id, start=from_, end=to,
                                       limit=limit, cursor=cursor, outcome=outcome, lists=lists)
    return AuditList.model_validate({"items": items, "next_cursor": next_cursor})


@app.get("/admin/privacy/settings", summary="Retention per data class and masking patterns (admins)",
         responses=problems.responses(200, 403))
def get_privacy_settings() -> PrivacySettingsOut:
    return PrivacySettingsOut.model_validate(privacy.settings(_caller_roles()))


SAVED_NOT_APPLIED = {**problems.responses(200, 403, 409, 415, 503)}
SAVED_NOT_APPLIED[503] = {**SAVED_NOT_APPLIED[503], "description": (
    "code walk_not_queued: the settings are saved, but the job applying them to what is already stored could not be "
    "queued (the privacy queue refused it): the job is failed, and params.walks_at says when the sweep walks the "
    "table instead (empty: an operator runs it with scripts.backfill); a save that started both walks and had one "
    "queued names that one's job too (params.retention_job_id or params.masking_job_id)")}


@app.put("/admin/privacy/settings",
         summary="Change retention and masking patterns (admins; ?version=N guards concurrent edits)",
         responses=SAVED_NOT_APPLIED)
def put_privacy_settings(body: KnownFields[PrivacySettings], version: Version = None) -> PrivacySettingsOut:
    return PrivacySettingsOut.model_validate(privacy.put_settings(_caller_roles(), body, version,
                                                                  caller(app.current_event).id))


NOT_QUEUED = {**problems.responses(202, 403, 404, 409, 503, description="Started")}
NOT_QUEUED[503] = {**NOT_QUEUED[503], "description": (
    "code job_not_queued: the privacy queue refused the job (params.job_id, failed: nothing was done, and the "
    "customer is not held by it); ask again, which starts a new job")}


@app.post("/admin/customers/<customer_id>/export",
          summary="Export everything about a customer (a zip: JSON and files), asynchronously (admins; 409 merged: "
                  "the customer was merged into another, whose export holds their data)",
          status_code=202, responses=NOT_QUEUED)
def export_customer(customer_id: Id) -> Response[JobStarted]:
    started = privacy.start(_caller_roles(), "export", customer_id, caller(app.current_event).id)
    return Response(202, content_types.APPLICATION_JSON, JobStarted.model_validate(started))


@app.post("/admin/customers/<customer_id>/erase",
          summary="Erase a customer everywhere (table, files, search index), asynchronously (admins): asked again "
                  "while it runs, the same job; 409 already_erased (the erase that ran), 409 merged (the customer "
                  "was merged into another: erase that one, or unmerge first)",
          status_code=202, responses=NOT_QUEUED)
def erase_customer(customer_id: Id) -> Response[JobStarted]:
    started = privacy.start(_caller_roles(), "erase", customer_id, caller(app.current_event).id)
    return Response(202, content_types.APPLICATION_JSON, JobStarted.model_validate(started))


@app.post("/admin/privacy/erasures/preview",
          summary="Erase several customers, first step: whom the names (ids, emails, phone numbers) find, and nothing "
                  "done (admins)", responses=problems.responses(200, 403, 415))
def preview_erasures(body: KnownFields[EraseSeveral]) -> EraseRows:
    return EraseRows.model_validate({"items": privacy.erase_many(_caller_roles(), body.customers,
                                                                caller(app.current_event).id, start=False)})


@app.post("/admin/privacy/erasures",
          summary="Erase several customers (admins): an erase job for each customer the names find, one row per name "
                  "(POST .../preview first shows whom they find); 202 also when the privacy queue refused some: "
                  "their rows say not_queued (send those again)",
          status_code=202, responses=problems.responses(202, 403, 415, description=(
              "Started: one row per name, each with its outcome (not_queued: the privacy queue refused that erase, "
              "or one before it and too little of the request's time was left to try it; nothing was done for it)")))
def start_erasures(body: KnownFields[EraseSeveral]) -> Response[EraseRows]:
    context = app.lambda_context
    rows = privacy.erase_many(_caller_roles(), body.customers, caller(app.current_event).id, start=True,
                              request_id=app.current_event.request_context.request_id,
                              time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    return Response(202, content_types.APPLICATION_JSON, EraseRows.model_validate({"items": rows}))


@app.get("/admin/privacy/jobs/<job_id>", summary="An export or erase job: running, done (with the export's "
                                                 "download link) or failed (admins)",
         responses=problems.responses(200, 403, 404))
def get_privacy_job(job_id: JobId) -> JobOut:
    return JobOut.model_validate(privacy.job(_caller_roles(), job_id))


# ---------------------------------------------------------------- labels and shared macros

LabelPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
MacroId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@app.get("/admin/labels", summary="Every label by name, retired ones too (supervisors, admins)", responses=READ)
def list_labels() -> LabelList:
    return LabelList.of(labels.list(caller(app.current_event), admin=True))


@app.put("/admin/labels/<label_id>", summary="Create, rename or recolour a label (admins): {name, color}; "
                                              "?version=N saves only over version N (0: only a new one)",
         responses=problems.responses(200, 403, 409, 415))
def put_label(label_id: LabelPath, body: KnownFields[LabelContent], version: Version = None) -> LabelOut:
    return LabelOut.of(labels.put(caller(app.current_event), label_id, body, version))


@app.post("/admin/labels/<label_id>/retire",
          summary="Retire a label (admins): conversations keep it, nobody can add it any more; 409 label_in_macros "
                  "names the macros that add it (they would skip it) unless ?force=true",
          responses=problems.responses(200, 403, 404, 409))
def retire_label(label_id: LabelPath, force: Annotated[bool, Query(
        description="retire it even though macros add it (applied, they skip it)")] = False) -> LabelOut:
    return LabelOut.of(labels.retire(caller(app.current_event), label_id, force=force))


@app.post("/admin/labels/<label_id>/restore", summary="Bring a retired label back (admins)",
          responses=problems.responses(200, 403, 404))
def restore_label(label_id: LabelPath) -> LabelOut:
    return LabelOut.of(labels.retire(caller(app.current_event), label_id, retired=False))


@app.get("/admin/macros", summary="Shared macros by name (supervisors, admins)", responses=READ)
def list_macros() -> MacroList:
    return MacroList.of(macros.list_shared(caller(app.current_event)), macros.known_labels())


@app.get("/admin/macros/<macro_id>", summary="A shared macro", responses=problems.responses(200, 403, 404))
def get_macro(macro_id: MacroId) -> MacroOut:
    return MacroOut.of(macros.get_shared(caller(app.current_event), macro_id), macros.known_labels())


@app.put("/admin/macros/<macro_id>",
         summary="Create or change a shared macro (admins): {name, actions}; 422 names anything its actions name "
                 "that does not exist; ?version=N saves only over version N (0: only a new one)",
         responses=problems.responses(200, 403, 409, 415))
def put_macro(macro_id: MacroId, body: KnownFields[MacroContent], version: Version = None) -> MacroOut:
    return MacroOut.of(macros.put_shared(caller(app.current_event), macro_id, body, version))


@app.delete("/admin/macros/<macro_id>", summary="Delete a shared macro (admins)",
            responses=problems.responses(204, 403, 404, description="Deleted", ok_content={}))
def delete_macro(macro_id: MacroId) -> Response[None]:
    macros.delete_shared(caller(app.current_event), macro_id)
    return Response(204)


install_render_errors(app)
install_refusals(app)
install_attachment_errors(app)
# a settings save whose walk, an export or erase whose job, the privacy queue refused
problems.install(app, {WalkNotQueued: 503, JobNotQueued: 503}, answering=True)   # any route may answer 503 not_answered
audit.install(app, lambda: trail, caller, {
    ("GET", "/admin/customers"): "customer.find",
    ("GET", "/admin/customers/<customer_id>"): "customer.read",
    ("GET", "/admin/audit"): "audit.read",
    ("GET", "/admin/privacy-requests"): "privacy_requests.read",
    ("POST", "/admin/customers/<customer_id>/export"): "customer.export",
    ("POST", "/admin/customers/<customer_id>/erase"): "customer.erase",
    ("POST", "/admin/privacy/erasures/preview"): "customer.find.several",
    ("POST", "/admin/privacy/erasures"): "customer.erase.several",
}, revealing={("GET", "/admin/privacy/jobs/<job_id>"): "customer.export.link",    # when it hands out the link
              ("GET", "/admin/sla-events"): "sla_events.listed"})                 # when it names customers


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
