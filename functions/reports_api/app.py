"""Reports API: the desk's figures from the event lake (docs/metrics.md): an admin's of the whole desk, a
supervisor's of their teams' conversations (shopdesk.logic.access, ``figures_of``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk import clock
from shopdesk.analytics import LakeUnavailable, lake_for
from shopdesk.analytics.reports import METRICS, Reports, as_csv, period, staffing_plan, usually_online, volume_forecast
from shopdesk.analytics.sql import Scope
from shopdesk.api import admission, openapi, problems
from shopdesk.api.agent import caller
from shopdesk.api.reports import Forecast, MetricList, MetricRows, Staffing, Summary
from shopdesk.config import ReportsSettings
from shopdesk.dal.agents import Agents
from shopdesk.dal.audit import AuditLog
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.csat import SurveyRecords
from shopdesk.dal.table import Table
from shopdesk.forecast.staffing import StaffingInputs
from shopdesk.logic.access import ADMIN, SUPERVISOR, Access, require
from shopdesk.logs import logger_for
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.settings import PrivacyPolicies

settings = ReportsSettings.from_env()
logger = logger_for()
table = Table(settings.table_name)
agents = Agents(table)
reports = Reports(lake_for(settings), Access(agents), SurveyRecords(table))
trail = AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table)))
app = problems.resolver()
openapi.publish(app, "/reports", title="shopdesk reports API",
                description="The desk's figures from the event lake, defined in docs/metrics.md, for supervisors "
                            "and admins (403 for other agents): an admin reads the whole desk's, a supervisor those "
                            "of their teams' conversations; `team` narrows to one team (a supervisor's own: 403 "
                            "for another). Periods are [from, to): a date is midnight in `tz`. "
                            "Every refusal is an RFC 9457 problem (application/problem+json).",
                security_schemes={openapi.AGENT_JWT: openapi.AGENT_JWT_SCHEME}, security=[{openapi.AGENT_JWT: []}])
admission.install(app, agents, openapi.documents("/reports"))     # a deactivated caller: 403 before any route

From = Annotated[str, Query(alias="from", min_length=10, max_length=40, description="2026-11-30 or an ISO time")]
To = Annotated[str, Query(min_length=10, max_length=40, description="exclusive: 2026-12-07 ends with the 6th")]
Tz = Annotated[str, Query(min_length=1, max_length=64, description="IANA time zone of dates, days and hours")]
Group = Annotated[Literal["agent", "team", "channel", "language", "day", "week", "hour"] | None, Query()]
Metric = Annotated[str, Query(min_length=1, max_length=40, description="GET /reports/metrics/catalog lists them")]
TeamId = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description=(
    "only this team's conversations (a supervisor's own team; any for an admin). Default: the caller's teams "
    "(an admin's: the whole desk)"))]
READ = problems.responses(200, 400, 403, 503)


def _scope(team: str | None, *, members: bool = False) -> Scope:
    """Whose figures the caller reads (403 for anyone but supervisors and admins, and for another team)."""
    return reports.scope(caller(app.current_event), team, members=members)


@app.get("/reports/summary", summary="The period's figures: volume, response and resolution times, SLA, CSAT, bot",
         responses=READ)
def summary(from_: From, to: To, tz: Tz = "UTC", team: TeamId = None) -> Summary:
    scope = _scope(team)
    return Summary.model_validate(reports.summary(period(from_, to, tz), scope))


@app.get("/reports/metrics", summary="One metric by agent, team, channel, language, day or hour (JSON or CSV)",
         responses=problems.responses(200, 400, 403, 503, ok_content={
             "application/json": {"model": MetricRows}, "text/csv": {"schema": {"type": "string"}}}))
def metrics(metric: Metric, from_: From, to: To, tz: Tz = "UTC", group_by: Group = None,
            format: Annotated[Literal["json", "csv"], Query()] = "json", team: TeamId = None
            ) -> Response[MetricRows | str]:
    """Two media types, so the answer is built here (the document lists both, from ``ok_content``)."""
    scope = _scope(team)
    span = period(from_, to, tz)
    rows = reports.metric(metric, span, group_by, scope)
    audit.note(format=format)          # in the record of a report that reveals customers' words (csat_comments)
    if format == "csv":     # a file named by what it holds: the metric, its groups, the days and the team
        name = "-".join(["shopdesk", metric, *(["by", group_by] if group_by else []), from_[:10], "to", to[:10],
                         *([team] if team else [])])
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        return Response(200, "text/csv; charset=utf-8", as_csv(rows),
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    body = MetricRows.model_validate({"metric": metric, "group_by": group_by, "from": span.start.isoformat(),
                                      "to": span.end.isoformat(), "tz": tz, "items": rows,
                                      "teams": None if scope.teams is None else list(scope.teams)})
    return Response(200, "application/json", body)


@app.get("/reports/forecast", summary="Conversations expected per hour for the next days (hour-of-week model on the "
         "lake's last six weeks; docs/forecast.md)", responses=problems.responses(200, 400, 403, 409, 503))
def volume(channel: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
           days: Annotated[int, Query(ge=1, le=14)] = 14, tz: Tz = "UTC", team: TeamId = None) -> Forecast:
    scope = _scope(team)
    return Forecast.model_validate(volume_forecast(reports.lake, clock.now(), channel, days, tz, scope=scope))


@app.get("/reports/staffing", summary="Agents needed per hour for the next days: the forecast with Erlang C over "
         "agents' concurrent slots, beside the agents usually online then (docs/forecast.md)",
         responses=problems.responses(200, 400, 403, 409, 422, 503))
def staffing(channel: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
             days: Annotated[int, Query(ge=1, le=14)] = 7, tz: Tz = "UTC",
             handle_seconds: Annotated[int, Query(ge=30, le=86400, description=(
                 "how long a conversation holds an agent's slot, assignment to resolve (the routing "
                 "settings' average handling time is 600)"))] = 600,
             target_seconds: Annotated[int, Query(ge=60, le=7 * 86400, description="the first-response target")] = 3600,
             reply_seconds: Annotated[int, Query(ge=0, le=86400, description=(
                 "an agent's first reply after assignment, taken off the target"))] = 120,
             effort_seconds: Annotated[int, Query(ge=10, le=86400, description=(
                 "the agent's own working time per conversation"))] = 300,
             concurrency: Annotated[int, Query(ge=1, le=50, description="conversations an agent holds at once")] = 3,
             goal: Annotated[float, Query(gt=0, lt=1, description="share to answer within the target")] = 0.8,
             team: TeamId = None) -> Staffing:
    scope = _scope(team, members=True)          # the agents usually online: the members of the teams
    inputs = StaffingInputs(slot_seconds=handle_seconds, first_response_target_seconds=target_seconds,
                            reply_after_assignment_seconds=reply_seconds, effort_seconds=effort_seconds,
                            concurrency=concurrency, goal=goal)
    now = clock.now()
    volume_ = volume_forecast(reports.lake, now, channel, days, tz, scope=scope)
    online_ = usually_online(reports.lake, now, tz, volume_["history_weeks"], len(volume_["items"]), scope)
    return Staffing.model_validate(staffing_plan(volume_, inputs, online_))


@app.get("/reports/metrics/catalog", summary="The metrics /reports/metrics answers", responses=problems.responses(
    200, 403))
def catalog() -> MetricList:
    require(caller(app.current_event).roles, SUPERVISOR, ADMIN)
    return MetricList.model_validate({"items": [{"name": k, "description": v} for k, v in METRICS.items()]})


problems.install(app, extra={LakeUnavailable: 503})
# the reports read figures, no customer, except the CSAT comments (customers' words): a record of each such read
# (Reports.metric says so), and of the refused attempts (a role, another team's)
audit.install(app, lambda: trail, caller, {}, revealing={("GET", "/reports/metrics"): "csat_comments.read"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
