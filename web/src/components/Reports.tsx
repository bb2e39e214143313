import { useEffect, useMemo, useState } from "preact/hooks";
import type { ReportGroup, ReportSummary } from "../api";
import { isAdmin, useApp } from "../context";
import { channelName } from "../channels";
import { agentName, formatDuration, formatFull, formatTime, teamName } from "../format";
import type { MessageKey } from "../i18n";
import { useStore } from "../store";
import { ConversationLink } from "./ConversationLink";
import { ForecastAndStaffing } from "./Forecast";
import {
  bars,
  dayKey,
  PERIODS,
  csvFileName,
  periodDays,
  periodOf,
  reportTeamChoices,
  stars,
  topicName,
  timeBasis,
  topicsOf,
  whoseFigures,
  type CsatComment,
  type MetricRow,
  type PeriodChoice,
  type TopicRow,
} from "../reports";

const METRICS = ["conversations", "replies", "handled", "first_response", "resolution", "reopen_rate", "csat"] as const;
const SHARES = new Set(["reopen_rate", "csat"]);
const GROUPS: ReportGroup[] = ["agent", "team", "channel", "language", "day", "week", "hour"];
// figures no agent is credited with: the reports answer them by agent with a 400 (docs/metrics.md), so no such choice
const NO_AGENT = new Set<string>(["conversations"]);
const DURATIONS = new Set(["first_response", "resolution"]);

/** A period's figures from the event lake (this week until another is picked), and one metric by group as bars (supervisors, admins). */
export function Reports() {
  const { store, t, locale, timeZone, who } = useApp();
  const { labels } = useStore(store); // the shop's labels, which the inbox loaded: a label's topic by its name
  const [choice, setChoice] = useState<PeriodChoice>("this_week");
  const [custom, setCustom] = useState({ first: "", last: "" });
  const [team, setTeam] = useState(""); // one team's figures; "": the caller's teams (an admin's whole desk)
  const [mine, setMine] = useState<string[] | null>(null); // a supervisor's teams, as the unnarrowed summary says
  // the days picked (null while a day of one's own choice is missing), the same object until the pick changes
  const period = useMemo(() => {
    const days = periodOf(choice, new Date(), custom);
    return days && { ...days, tz: timeZone, team: team || undefined };
  }, [choice, custom.first, custom.last, timeZone, team]);
  const [summary, setSummary] = useState<ReportSummary | null>(null);
  const [metric, setMetric] = useState<(typeof METRICS)[number]>("first_response");
  const [group, setGroup] = useState<ReportGroup>("agent");
  const [rows, setRows] = useState<MetricRow[]>([]);
  const [topicRows, setTopicRows] = useState<TopicRow[]>([]);
  const [comments, setComments] = useState<CsatComment[]>([]);
  const { teams, agents, now } = useStore(store);

  // a period's figures, and only its own: those of the period before go as it changes (or while days are missing),
  // never shown under another period's line
  // (an answer that comes back after the pick changed again is dropped: `current`)
  useEffect(() => {
    let current = true;
    setSummary(null);
    setComments([]);
    setTopicRows([]);
    if (!period) return;
    void store.run(async () => {
      const answer = await store.api.reportSummary(period);
      if (!current) return;
      setSummary(answer);
      if (!period.team && answer) setMine(answer.teams);
    });
    void store.run(async () => {
      const { items } = await store.api.csatComments(period);
      if (current) setComments(items);
    });
    void store.run(async () => {
      const { items } = await store.api.reportTopics(period);
      if (current) setTopicRows(items);
    });
    return () => {
      current = false;
    };
  }, [period]);
  useEffect(() => {
    let current = true;
    setRows([]);
    if (!period) return;
    void store.run(async () => {
      const { items } = await store.api.reportMetric({ ...period, metric, group_by: group });
      if (current) setRows(items);
    });
    return () => {
      current = false;
    };
  }, [period, metric, group]);
  const choices = reportTeamChoices(isAdmin(who), teams, mine);
  // the rows shown, as the CSV file the API writes, named by what it holds (as the API's Content-Disposition is)
  const downloadCsv = () =>
    period &&
    void store.run(async () => {
      const text = await store.api.reportCsv({ ...period, metric, group_by: group });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
      link.download = csvFileName(metric, group, period);
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });

  const topics = topicsOf(topicRows);
  // an agent and a team by name and a channel in the agent's words; the other groups as the lake keys them. By agent,
  // the row of no agent (an SLA target of an unassigned conversation, a reopen by the customer) says so, not "—"
  const named = (key: string | null) =>
    key === null ? (group === "agent" ? t("reports.noAgent") : key)
      : group === "agent" ? agentName(agents, key, t("unnamedAgent")) : group === "team" ? teamName(teams, key)
      : group === "channel" ? channelName(key, t)
      : dayKey(key, group, locale, (day) => t("reports.weekOf", { day }));
  const duration = (s: number | null | undefined) => (s == null ? "—" : formatDuration(s * 1000));
  const share = (r: number | null | undefined) => (r == null ? "—" : `${Math.round(r * 100)} %`);
  const shown = (value: number) =>
    DURATIONS.has(metric) ? duration(value) : SHARES.has(metric) ? share(value) : String(value);
  // a duration's medians in business time where the rows have it (as the summary's "Business time"), calendar time
  // in brackets; said above the bars, so that nobody reads one for the other
  const basis = DURATIONS.has(metric) ? timeBasis(rows) : null;
  return (
    <section class="board reports" aria-labelledby="reports-title">
      <h1 id="reports-title">{t("reports")}</h1>
      <div class="report-period">
        <label class="field">
          <span>{t("reports.periodPick")}</span>
          <select value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value as PeriodChoice)}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t(`reports.periods.${p}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        {choice === "custom" &&
          (["first", "last"] as const).map((end) => (
            <label class="field" key={end}>
              <span>{t(end === "first" ? "reports.firstDay" : "reports.lastDay")}</span>
              <input
                type="date"
                value={custom[end]}
                onInput={(e) => setCustom({ ...custom, [end]: (e.target as HTMLInputElement).value })}
              />
            </label>
          ))}
      </div>
      <p class="muted">
        {period ? t("reports.period", { ...periodDays(period, locale), tz: period.tz }) : t("reports.pickDays")}
      </p>
      {summary && !(isAdmin(who) && choices.length > 0) && ( // an admin's team picker says it already
        <p class="muted reports-whose">{whoseFigures(summary.teams, teams, t, team || undefined)}</p>
      )}
      {choices.length > 0 && (
        <label class="field inline">
          <span>{t("reports.team")}</span>
          <select value={team} onChange={(e) => setTeam((e.target as HTMLSelectElement).value)}>
            <option value="">{isAdmin(who) ? t("reports.wholeDesk") : t("reports.allMyTeams")}</option>
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {summary && (
        <div class="board-grid">
          <div class="card">
            <h2 class="card-heading">{t("reports.volume")}</h2>
            <dl class="figures">
              <dt>{t("reports.conversations")}</dt>
              <dd>{summary.conversations}</dd>
              <dt>{t("reports.resolved")}</dt>
              <dd>{summary.resolution.resolved}</dd>
              <dt>{t("reports.reopenRate")}</dt>
              <dd>{share(summary.resolution.reopen_rate)}</dd>
            </dl>
          </div>
          <div class="card">
            <h2 class="card-heading">{t("reports.times")}</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("reports.median")}</th>
                  <th scope="col">{t("reports.calendar")}</th>
                  <th scope="col">{t("reports.business")}</th>
                </tr>
              </thead>
              <tbody>
                {(["first_response", "next_response", "resolution"] as const).map((name) => (
                  <tr key={name}>
                    <th scope="row">{t(`metric.${name}` as MessageKey)}</th>
                    <td>{duration(summary[name].median_s)}</td>
                    <td>{duration(summary[name].business_median_s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="card">
            <h2 class="card-heading">{t("reports.sla")}</h2>
            {!Object.keys(summary.sla.compliance_by_target).length && <p class="muted">{t("none")}</p>}
            <ul class="bars" aria-label={t("reports.sla")}>
              {Object.entries(summary.sla.compliance_by_target).map(([target, value]) => (
                <li key={target}>
                  <span class="bar-label">{t(`metric.${target}` as MessageKey)}</span>
                  <span class="bar" style={{ width: `${Math.round((value ?? 0) * 100)}%` }} aria-hidden="true" />
                  <span class="bar-value">{share(value)}</span>
                </li>
              ))}
            </ul>
          </div>
          <div class="card">
            <h2 class="card-heading">{t("reports.csatBot")}</h2>
            <dl class="figures">
              <dt>{t("reports.csat")}</dt>
              <dd>{share(summary.csat.score)} ({summary.csat.responses})</dd>
              <dt>{t("reports.csatResponseRate")}</dt>
              <dd>{share(summary.csat.response_rate)}</dd>
              <dt>{t("reports.containment")}</dt>
              <dd>{share(summary.bot.containment_rate)}</dd>
            </dl>
          </div>
        </div>
      )}
      <div class="card">
        <h2 class="card-heading" id="topics-title">{t("reports.topics")}</h2>
        {topics.top.length === 0 ? (
          <p class="muted">{t("none")}</p>
        ) : (
          <table aria-labelledby="topics-title">
            <thead>
              <tr>
                <th scope="col">{t("reports.topic")}</th>
                <th scope="col">{t("reports.topicConversations")}</th>
                <th scope="col">{t("reports.topicChange")}</th>
              </tr>
            </thead>
            <tbody>
              {topics.top.map((row) => (
                <tr key={row.topic}>
                  <th scope="row">{topicName(row.topic, t, labels)}</th>
                  <td>{row.conversations}</td>
                  <td>{row.change > 0 ? `+${row.change}` : String(row.change)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {topics.rising.length > 0 && (
          <>
            <h4 id="rising-title">{t("reports.rising")}</h4>
            <ul aria-labelledby="rising-title">
              {topics.rising.map((row) => (
                <li key={row.topic}>
                  {t("reports.risingItem", { topic: topicName(row.topic, t, labels), count: row.conversations, change: row.change })}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      <ForecastAndStaffing
        team={team || undefined}
        policyTeam={team || (!isAdmin(who) && mine?.length === 1 ? mine[0] : undefined)}
      />
      <div class="card">
        <h2 class="card-heading">{t("reports.byGroup")}</h2>
        <div class="row">
          <label class="field inline">
            <span>{t("reports.metric")}</span>
            <select
              value={metric}
              onChange={(e) => {
                const picked = (e.target as HTMLSelectElement).value as typeof metric;
                setMetric(picked);
                if (NO_AGENT.has(picked) && group === "agent") setGroup("team");
              }}
            >
              {METRICS.map((m) => (
                <option key={m} value={m}>
                  {t(`metric.${m}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <label class="field inline">
            <span>{t("reports.groupBy")}</span>
            <select value={group} onChange={(e) => setGroup((e.target as HTMLSelectElement).value as ReportGroup)}>
              {GROUPS.filter((g) => g !== "agent" || !NO_AGENT.has(metric)).map((g) => (
                <option key={g} value={g}>
                  {t(`group.${g}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="btn" onClick={downloadCsv} disabled={!period}>
            {t("reports.downloadCsv")}
          </button>
        </div>
        {basis && rows.length > 0 && (
          <p class="muted small" id="by-group-times">
            {t(basis === "business" ? "reports.timesBusiness" : "reports.timesCalendar")}
          </p>
        )}
        <ul
          class="bars"
          aria-label={`${t(`metric.${metric}` as MessageKey)} · ${t(`group.${group}` as MessageKey)}`}
          aria-describedby={basis && rows.length > 0 ? "by-group-times" : undefined}
        >
          {bars(rows.map((row) => ({ ...row, key: named(row.key) })), basis ?? undefined).map((bar) => (
            <li key={bar.label}>
              <span class="bar-label">{bar.label}</span>
              <span class="bar" style={{ width: `${Math.round(bar.share * 100)}%` }} aria-hidden="true" />
              <span class="bar-value">
                {shown(bar.value)}
                {bar.other != null && <span class="muted"> ({duration(bar.other)})</span>}
              </span>
            </li>
          ))}
          {rows.length === 0 && <li class="muted">{t("none")}</li>}
        </ul>
      </div>
      <div class="card">
        <h2 class="card-heading" id="csat-comments-title">{t("reports.csatComments")}</h2>
        {comments.length === 0 ? (
          <p class="muted">{t("none")}</p>
        ) : (
          <table aria-labelledby="csat-comments-title">
            <thead>
              <tr>
                <th scope="col">{t("reports.rating")}</th>
                <th scope="col">{t("reports.comment")}</th>
                <th scope="col">{t("group.agent")}</th>
                <th scope="col">{t("group.channel")}</th>
                <th scope="col">{t("reports.when")}</th>
              </tr>
            </thead>
            <tbody>
              {comments.map((c) => (
                <tr key={`${c.conversation_id}-${c.at}`}>
                  <td>
                    <span aria-hidden="true">{stars(c.rating)}</span>
                    <span class="visually-hidden">{t("reports.ratingOf", { rating: String(c.rating ?? "—") })}</span>
                  </td>
                  <td>
                    <ConversationLink id={c.conversation_id}>{c.comment}</ConversationLink>
                  </td>
                  <td>{c.agent_id ? agentName(agents, c.agent_id, t("unnamedAgent")) : "—"}</td>
                  <td>{c.channel ? channelName(c.channel, t) : "—"}</td>
                  <td>
                    <time dateTime={c.at} title={formatFull(c.at, locale, timeZone)}>
                      {formatTime(c.at, locale, new Date(now), timeZone)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
