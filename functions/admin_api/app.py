"""Admin API: admins set up agents, teams, calendars, SLA policies, routing and customers' tiers; supervisors
read them (roles from Cognito groups, checked by shopdesk.logic.admin)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.api import openapi, problems
from shopdesk.api.admin import (
    AgentList,
    CalendarList,
    CalendarOut,
    CustomerList,
    RoutingOut,
    SlaPolicyList,
    SlaPolicyOut,
    TeamList,
    TeamOut,
)
from shopdesk.api.agent import caller, caller_roles
from shopdesk.api.attachments import install_attachment_errors, with_attachment_problems
from shopdesk.api.canned import CannedList, CannedOut, documented, install_render_errors
from shopdesk.api.commerce import PrivacyRequestList
from shopdesk.api.kb import IMPORT_TYPES, ArticleList, BotOut, ImportOut, install_import_errors
from shopdesk.bot import BotSettings
from shopdesk.commerce.platform import store_for
from shopdesk.config import AdminApiSettings, CommerceSettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.customers import Customers
from shopdesk.dal.kb import KnowledgeBase
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.errors import BadRequest
from shopdesk.kb import Article, ArticleContent
from shopdesk.kb.articles import ArticleLibrary
from shopdesk.kb.embedder import embedder_for
from shopdesk.logic.admin import ADMIN, Admin, require
from shopdesk.logic.attachments import Attachments
from shopdesk.logic.canned import CannedLibrary
from shopdesk.logic.sla_engine import book_for
from shopdesk.models import Agent
from shopdesk.models.admin import AgentSettings, RoutingSettings, Team, TierChange
from shopdesk.models.canned import CannedContent
from shopdesk.models.customer import Customer
from shopdesk.models.sla import BusinessHours, SlaPolicy

settings = AdminApiSettings.from_env()
logger = Logger()
table = Table(settings.table_name)
conversations = Conversations(table, settings.due_shards)
admin = Admin(ConfigStore(table), Agents(table), Queue(settings.work_queue_url), Customers(table), conversations,
              book_for(conversations, settings.first_response_targets))
privacy_store = store_for(CommerceSettings.from_env(), "shopify")   # privacy requests are one partition
canned = CannedLibrary(CannedResponses(table))
articles = ArticleLibrary(KnowledgeBase(table), lambda: embedder_for(settings.kb_embedder))
canned = CannedLibrary(CannedResponses(table),
                       Attachments(MediaStore(settings.media_bucket)) if settings.media_bucket else None)
app = APIGatewayHttpResolver(enable_validation=True)
openapi.publish(app, "/admin", title="shopdesk admin API",
                description="Agents, teams, calendars, SLA policies, routing settings and customers' tiers, for "
                            "supervisors and admins (403 for other agents). Every refusal is an RFC 9457 problem "
                            "(application/problem+json).",
                security_schemes={openapi.AGENT_JWT: openapi.AGENT_JWT_SCHEME}, security=[{openapi.AGENT_JWT: []}])

Id = Annotated[str, Path(min_length=1, max_length=128)]
Version = Annotated[int | None, Query(ge=0, le=2**31)]
Address = Annotated[str | None, Query(min_length=1, max_length=320)]
# What the routes answer besides their success: a reader without the role (403); a change also: no such item
# (404), changed meanwhile or the path and body disagree (409), a body that is not JSON (415).
READ = problems.responses(200, 403)
WRITE = (403, 404, 409, 415)


def _caller_roles() -> set[str]:
    return caller_roles(app.current_event)


@app.get("/admin/agents", summary="Every agent with settings, presence and load", responses=READ)
def list_agents() -> AgentList:
    return {"items": admin.list_agents(_caller_roles())}


@app.put("/admin/agents/<agent_id>", summary="Set an agent's capacity, team, skills and languages",
         responses=problems.responses(200, *WRITE))
def set_agent(agent_id: Id, body: AgentSettings) -> Agent:
    return admin.set_agent(_caller_roles(), agent_id, body)


@app.get("/admin/teams", summary="Teams", responses=READ)
def list_teams() -> TeamList:
    return {"items": admin.list_teams(_caller_roles())}


@app.put("/admin/teams/<team_id>", summary="Create or change a team (?version=N guards concurrent edits)",
         responses=problems.responses(200, *WRITE))
def put_team(team_id: Id, body: Team, version: Version = None) -> TeamOut:
    return admin.put_team(_caller_roles(), team_id, body, version)


@app.get("/admin/calendars", summary="Business-hours calendars", responses=READ)
def list_calendars() -> CalendarList:
    return {"items": admin.list_calendars(_caller_roles())}


@app.put("/admin/calendars/<calendar_id>", summary="Create or change a calendar (time zone, windows, holidays)",
         responses=problems.responses(200, *WRITE))
def put_calendar(calendar_id: Id, body: BusinessHours, version: Version = None) -> CalendarOut:
    return admin.put_calendar(_caller_roles(), calendar_id, body, version)


@app.get("/admin/sla-policies", summary="SLA policies", responses=READ)
def list_policies() -> SlaPolicyList:
    return {"items": admin.list_policies(_caller_roles())}


@app.put("/admin/sla-policies/<policy_id>", summary="Create or change an SLA policy (targets per priority)",
         responses=problems.responses(200, *WRITE))
def put_policy(policy_id: Id, body: SlaPolicy, version: Version = None) -> SlaPolicyOut:
    return admin.put_policy(_caller_roles(), policy_id, body, version)


@app.get("/admin/routing", summary="Routing settings", responses=READ)
def get_routing() -> RoutingOut:
    return admin.routing(_caller_roles())


@app.put("/admin/routing", summary="Change routing settings (admins; ?version=N guards concurrent edits)",
         responses=problems.responses(200, 400, 403, 409, 415))     # 400: templates the router could not use
def put_routing(body: RoutingSettings, version: Version = None) -> RoutingOut:
    return admin.put_routing(_caller_roles(), body, version)


@app.get("/admin/customers", summary="Find a customer by an identity (?phone=+31612345678 or ?email=...)",
         responses=problems.responses(200, 400, 403))
def find_customers(phone: Address = None, email: Address = None) -> CustomerList:
    return {"items": admin.find_customers(_caller_roles(), phone, email)}


@app.get("/admin/customers/<customer_id>", summary="A customer with their identities and tier",
         responses=problems.responses(200, 403, 404))
def get_customer(customer_id: Id) -> Customer:
    return admin.customer(_caller_roles(), customer_id)


@app.put("/admin/customers/<customer_id>", summary="Set a customer's tier ({\"tier\": \"vip\"}, or null for none)",
         responses=problems.responses(200, *WRITE))
def set_customer_tier(customer_id: Id, body: TierChange) -> Customer:
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
    return PrivacyRequestList(items=items, next_cursor=next_cursor)


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
         summary="Create or change a shared canned response (admins): title, shortcode, a body per language",
         responses=with_attachment_problems(documented(200, CannedOut, "Saved", 400, 403, 415, renders=True)))
def put_canned(response_id: CannedResponseId, body: CannedContent) -> CannedOut:
    return CannedOut.of(canned.put_shared(caller(app.current_event), response_id, body))


@app.delete("/admin/canned-responses/<response_id>", summary="Delete a shared canned response (admins)",
            responses=documented(204, None, "Deleted", 403, 404))
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
         summary="Create or change an article (a new version; published): title, body, language, tags, url, "
                 "translation_of (the original it translates)",
         responses=documented(200, Article, "Saved, with its new version", 400, 403, 409, 415))
def put_article(article_id: ArticleId, body: ArticleContent) -> Article:
    return articles.put(caller(app.current_event), article_id, body)


@app.get("/admin/kb/articles/<article_id>/versions", summary="Every version of an article, oldest first",
         responses=documented(200, ArticleList, "Its versions (supervisors, admins)", 403, 404))
def article_versions(article_id: ArticleId) -> ArticleList:
    return ArticleList(items=articles.history(caller(app.current_event), article_id))


@app.delete("/admin/kb/articles/<article_id>",
            summary="Retire an article: the bot and agent assist no longer use it; it stays listed with its history",
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
    return ImportOut.of(articles.import_text(caller(event), event.decoded_body or "", content_type))


@app.get("/admin/bot", summary="The bot's settings", responses=READ)
def get_bot() -> BotOut:
    return admin.bot(_caller_roles())


@app.put("/admin/bot", summary="Turn the bot on or off and set where, when and how sure it answers (admins; "
                               "?version=N guards concurrent edits)",
         responses=problems.responses(200, 403, 409, 415))
def put_bot(body: BotSettings, version: Version = None) -> BotOut:
    return admin.put_bot(_caller_roles(), body, version)


class UnsupportedImport(Exception):
    pass


@app.exception_handler(UnsupportedImport)
def _unsupported_import(exc: UnsupportedImport) -> Response:
    return problems.answer(problems.UNSUPPORTED_MEDIA_TYPE, str(exc))


install_import_errors(app)
install_render_errors(app)
install_attachment_errors(app)
problems.install(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
