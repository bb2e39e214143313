// The reports page's logic: the week a report covers and the bars a metric's rows become.
import { teamNames } from "./format";
import { isMessageKey, type Translate } from "./i18n";

/** Monday to next Monday around `now`, as dates in the browser's zone (the API reads them in `tz`). */
export function weekOf(now: Date): { from: string; to: string } {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const monday = new Date(day);
  monday.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  const next = new Date(monday);
  next.setDate(monday.getDate() + 7);
  return { from: isoDate(monday), to: isoDate(next) };
}

export const PERIODS = ["this_week", "last_week", "last_7", "last_30", "this_month", "last_month", "custom"] as const;
export type PeriodChoice = (typeof PERIODS)[number];

/** The days a choice of the period picker covers, in the agent's own calendar (as ``weekOf``): ``to`` is the day
 * after the last, as the API takes it. "The last 7 days" end with today. ``custom`` takes the first and the last
 * day picked (in either order); null while a day is missing. */
export function periodOf(choice: PeriodChoice, now: Date, custom?: { first: string; last: string }): { from: string; to: string } | null {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const shifted = (d: Date, days: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + days);
  const tomorrow = shifted(today, 1);
  switch (choice) {
    case "this_week":
      return weekOf(now);
    case "last_week":
      return weekOf(shifted(today, -7));
    case "last_7":
      return { from: isoDate(shifted(today, -6)), to: isoDate(tomorrow) };
    case "last_30":
      return { from: isoDate(shifted(today, -29)), to: isoDate(tomorrow) };
    case "this_month":
      return { from: isoDate(new Date(today.getFullYear(), today.getMonth(), 1)),
               to: isoDate(new Date(today.getFullYear(), today.getMonth() + 1, 1)) };
    case "last_month":
      return { from: isoDate(new Date(today.getFullYear(), today.getMonth() - 1, 1)),
               to: isoDate(new Date(today.getFullYear(), today.getMonth(), 1)) };
    case "custom": {
      const days = [custom?.first, custom?.last].filter((d): d is string => !!d && /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
      if (days.length < 2) return null;
      const [y, m, d] = days[1]!.split("-").map(Number) as [number, number, number];
      return { from: days[0]!, to: isoDate(new Date(y, m - 1, d + 1)) };
    }
  }
}

/** A period's first and last day (`to` is the day after it) as the agent's language writes dates ("Nov 30, 2026",
 *  "30 nov 2026"), like the rest of the inbox rather than as the API's ISO dates. */
export function periodDays(period: { from: string; to: string }, locale: string): { from: string; to: string } {
  const day = (iso: string, shift = 0) => {
    const d = new Date(`${iso}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + shift);
    return new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(d);
  };
  return { from: day(period.from), to: day(period.to, -1) };
}

/** A day's or a week's group key (`2026-12-05`, the week's Monday) as the agent's language writes a date; other
 *  keys as they are. */
export function dayKey(key: string, group: string, locale: string, weekOf: (day: string) => string): string {
  if ((group !== "day" && group !== "week") || !/^\d{4}-\d{2}-\d{2}$/.test(key)) return key;
  const day = new Intl.DateTimeFormat(locale, { weekday: group === "day" ? "short" : undefined, day: "numeric",
    month: "short", year: "numeric", timeZone: "UTC" }).format(new Date(`${key}T00:00:00Z`));
  return group === "week" ? weekOf(day) : day;
}

/** Whose figures a report holds, as the page says it: "The whole desk" (an admin's, `teams` null), else the
 *  supervisor's teams by name ("Your teams: Returns, VIP"), or that they are in none (no figures); "Team: VIP"
 *  when one team was `chosen`. */
export function whoseFigures(
  teams: readonly string[] | null,
  named: readonly { id: string; name?: string | null }[],
  t: Translate,
  chosen?: string,
): string {
  if (teams === null) return t("reports.wholeDesk");
  if (teams.length === 0) return t("reports.noTeams");
  if (chosen) return t("reports.oneTeam", { team: teamNames(named, [chosen]) });
  return t("reports.yourTeams", { teams: teamNames(named, teams) });
}

/** The teams a reader may narrow the reports to: every team of the desk for an admin, a supervisor's own (as their
 *  unnarrowed summary named them, `mine`) by name. Fewer than two leave nothing to choose for a supervisor. */
export function reportTeamChoices(
  admin: boolean,
  desk: readonly { id: string; name: string }[],
  mine: readonly string[] | null,
): { id: string; name: string }[] {
  if (admin) return [...desk];
  const own = (mine ?? []).map((id) => ({ id, name: teamNames(desk, [id]) }));
  return own.length > 1 ? own : [];
}

function isoDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export type MetricRow = Record<string, string | number | null> & { key: string | null };

export interface Bar {
  label: string;
  value: number;
  share: number; // of the largest value, 0..1: the bar's length
  /** A duration's median in the other time (calendar time beside business time, docs/metrics.md), if it has one. */
  other?: number | null;
}

/** Which time a duration's medians are drawn in: the business time of the SLA calendars (the hours the desk is
 *  open, as the summary's "Business time"), or calendar time. */
export type TimeBasis = "business" | "calendar";

/** Business time when every row with a median has one in business time too (a desk without calendars has it equal
 *  to calendar time), else calendar time for every row: the bars of one chart are never in two times. */
export function timeBasis(rows: MetricRow[]): TimeBasis {
  const timed = rows.filter((row) => typeof row.median_s === "number");
  return timed.length > 0 && timed.every((row) => typeof row.business_median_s === "number") ? "business" : "calendar";
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** The figure a row shows: a count or ratio (`value`), a duration's median (in business time, or calendar time
 *  with `basis` calendar or for a row that has no business time), or a CSAT score. */
export function figure(row: MetricRow, basis: TimeBasis = "business"): number | null {
  const median = basis === "business" ? (row.business_median_s ?? row.median_s) : row.median_s;
  return num(row.value ?? median ?? row.score);
}

/** One bar per row with a figure, in the rows' order, scaled to the largest; a duration's in `basis` (business
 *  time by default, `timeBasis`), with its median in the other time beside it (`other`). */
export function bars(rows: MetricRow[], basis: TimeBasis = timeBasis(rows)): Bar[] {
  const present = rows
    .map((row) => {
      const timed = row.value == null && typeof row.median_s === "number";
      const other = timed ? num(basis === "business" ? row.median_s : row.business_median_s) : undefined;
      return { label: row.key ?? "—", value: figure(row, basis), ...(timed ? { other } : {}) };
    })
    .filter((b): b is { label: string; value: number; other?: number | null } => b.value !== null);
  const top = Math.max(0, ...present.map((b) => b.value));
  return present.map((b) => ({ ...b, share: top > 0 ? b.value / top : 0 }));
}

/** A row of `metric=topics&group_by=week` (docs/metrics.md, "Topics"). */
export interface TopicRow {
  key: string; // the week's Monday
  topic: string;
  conversations: number;
  rank: number;
  previous: number;
  change: number;
  rising: boolean;
}

/** The latest week's reasons, most frequent first (at most `limit`), and those rising, the largest rise first. */
export function topicsOf(rows: TopicRow[], limit = 5): { week: string | null; top: TopicRow[]; rising: TopicRow[] } {
  const week = rows.reduce<string | null>((last, row) => (last === null || row.key > last ? row.key : last), null);
  const latest = rows
    .filter((row) => row.key === week)
    .sort((a, b) => b.conversations - a.conversations || a.topic.localeCompare(b.topic));
  const rising = latest.filter((row) => row.rising).sort((a, b) => b.change - a.change || a.topic.localeCompare(b.topic));
  return { week, top: latest.slice(0, limit), rising: rising.slice(0, limit) };
}

/** A topic as people read it (docs/metrics.md, "Topics"): a label's by the label's name (the topic is its id,
 *  normalised), one of the router's contact reasons in the agent's words, anything else as it is named
 *  (`returns_policy` is "returns policy"). */
export function topicName(topic: string, t?: Translate, labels: readonly { id: string; name: string }[] = []): string {
  const label = labels.find((l) => normaliseTopic(l.id) === topic);
  if (label) return label.name;
  const key = `topic.${topic}`;
  return t && isMessageKey(key) ? t(key) : topic.replace(/_/g, " ");
}

/** The topic a name stands for, as the back end makes it (layers/shopdesk/shopdesk/logic/topics.py `normalise`):
 *  lower case, accents dropped, every run of other characters one `_`, at most 60 characters. */
export function normaliseTopic(name: string): string {
  const plain = name.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
  return plain.replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60).replace(/_+$/, "");
}

/** A rating with its comment, as `GET /reports/metrics?metric=csat_comments` lists it (newest first). */
export interface CsatComment {
  at: string;
  conversation_id: string;
  agent_id: string | null;
  team: string | null;
  channel: string | null;
  language: string | null;
  rating: number | null;
  comment: string;
}

/** "★★★★☆" for a rating of 4: the stars shown beside a comment (its number is the accessible name). */
export function stars(rating: number | null): string {
  if (rating == null) return "";
  const n = Math.max(0, Math.min(5, Math.round(rating)));
  return "★".repeat(n) + "☆".repeat(5 - n);
}

/** An hour of `GET /reports/forecast`: its start in the asked zone (ISO with offset), conversations expected. */
export interface ForecastHour {
  hour: string;
  expected: number;
}

export interface Forecast {
  channel: string | null;
  tz: string;
  days: number;
  history_weeks: number;
  items: ForecastHour[];
}

/** An hour of `GET /reports/staffing`: the agents it needs beside the agents usually online then. */
export interface StaffingHour extends ForecastHour {
  agents_needed: number;
  service_level: number;
  occupancy: number;
  limited_by: string;
  usually_online: number;
  short: boolean;
}

export interface Staffing extends Omit<Forecast, "items"> {
  inputs: Record<string, number>;
  items: StaffingHour[];
}

/** The staffing inputs the page lets a supervisor change, in the API's units, with the API's defaults. */
export interface StaffingInputs {
  handle_seconds: number;
  target_seconds: number;
  concurrency: number;
  goal: number;
}
export const STAFFING_DEFAULTS: StaffingInputs = { handle_seconds: 600, target_seconds: 3600, concurrency: 3, goal: 0.8 };

/** What the staffing plan's first-response target starts from when the SLA policies can be read: the normal
 *  priority's target of the policy that applies to a conversation of the plan's channel and team (no tier), chosen
 *  as the SLA engine chooses it (the most conditions met, then the lower rank, then the id:
 *  shopdesk.models.sla.choose_policy); null when none applies or it sets no such target. */
export function policyTarget(
  policies: readonly {
    id: string;
    name: string;
    rank?: number;
    targets: Partial<Record<string, { first_response?: number | null } | undefined>>;
    applies_to: { channels?: string[] | null; tiers?: string[] | null; teams?: string[] | null };
  }[],
  scope: { channel?: string | null; team?: string | null },
): { seconds: number; policy: string } | null {
  const allows = (allowed: string[] | null | undefined, value: string | null | undefined) =>
    allowed == null || (!!value && allowed.some((a) => a.toLowerCase() === value.trim().toLowerCase()));
  const conditions = (p: (typeof policies)[number]) =>
    [p.applies_to.channels, p.applies_to.tiers, p.applies_to.teams].filter((c) => c != null).length;
  // as the API chooses for normal priority: a policy listing other priorities only gives way to the next
  const matching = policies.filter((p) => allows(p.applies_to.channels, scope.channel) && allows(p.applies_to.tiers, null) &&
                                          allows(p.applies_to.teams, scope.team));
  const listing = matching.filter((p) => !Object.keys(p.targets).length || p.targets.normal);
  const chosen = (listing.length ? listing : matching)
    .sort((a, b) => conditions(b) - conditions(a) || (a.rank ?? 0) - (b.rank ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
  const seconds = chosen?.targets.normal?.first_response;
  return chosen && seconds ? { seconds, policy: chosen.name || chosen.id } : null;
}

/** The day (`2026-12-07`) and hour (`09`) of a forecast hour as the API told them, in its zone. */
export function dayAndHour(hour: string): { day: string; hour: string } {
  return { day: hour.slice(0, 10), hour: hour.slice(11, 13) };
}

/** Conversations expected per day (in the forecast's zone), as bars scaled to the busiest day. */
export function dailyForecast(items: ForecastHour[]): Bar[] {
  const totals = new Map<string, number>();
  for (const item of items) {
    const { day } = dayAndHour(item.hour);
    totals.set(day, (totals.get(day) ?? 0) + item.expected);
  }
  const top = Math.max(0, ...totals.values());
  return [...totals].map(([label, value]) => ({
    label,
    value: Math.round(value * 10) / 10,
    share: top > 0 ? value / top : 0,
  }));
}

/** The forecast in figures, for its text alternative: total expected, and the busiest day and hour. A forecast
 *  learns per hour of the week, so over 14 days every hour (and whole day) has a twin as busy: the busiest is the
 *  earliest of those as busy, and `busiestDays`/`busiestHours` say how many are (1: it alone). */
export function forecastFacts(items: ForecastHour[]): {
  total: number;
  busiestDay: Bar | null;
  busiestDays: number;
  busiestHour: ForecastHour | null;
  busiestHours: number;
} {
  const days = dailyForecast(items);
  const topDay = Math.max(0, ...days.map((d) => d.value));
  const topHour = Math.max(0, ...items.map((h) => h.expected));
  const tiedDays = topDay > 0 ? days.filter((d) => d.value === topDay) : [];
  const tiedHours = topHour > 0 ? items.filter((h) => h.expected === topHour) : [];
  const total = Math.round(items.reduce((sum, h) => sum + h.expected, 0) * 10) / 10;
  return {
    total,
    busiestDay: tiedDays[0] ?? null, // the days and hours come in time order: the earliest
    busiestDays: tiedDays.length,
    busiestHour: tiedHours[0] ?? null,
    busiestHours: tiedHours.length,
  };
}

/** A forecast hour (ISO with the offset of the zone it was asked in) as the agent's language writes it, in that
 *  zone: "Mon, Jan 4, 12:00 PM", "lun, 4 ene, 12:00". */
export function forecastHour(iso: string, locale: string, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short", hour: "2-digit",
    minute: "2-digit" };
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(locale, options).format(new Date(iso)); // a zone the browser does not know
  }
}

/** The hours worth a row in the staffing plan (someone needed or usually online), and the hours short of agents. */
export function staffingOf(items: StaffingHour[]): { rows: StaffingHour[]; short: StaffingHour[] } {
  const rows = items.filter((h) => h.agents_needed > 0 || h.usually_online > 0);
  return { rows, short: rows.filter((h) => h.short) };
}

/** Inputs as the page shows them (minutes and a percentage) back to the API's units; null where out of its range. */
export function staffingQuery(form: { handleMinutes: string; targetMinutes: string; concurrency: string; goalPercent: string }): StaffingInputs | null {
  const handle = Math.round(Number(form.handleMinutes) * 60);
  const target = Math.round(Number(form.targetMinutes) * 60);
  const concurrency = Number(form.concurrency);
  const goal = Number(form.goalPercent) / 100;
  const ok =
    Number.isFinite(handle) && handle >= 30 && handle <= 86400 &&
    Number.isFinite(target) && target >= 60 && target <= 7 * 86400 &&
    Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 50 &&
    Number.isFinite(goal) && goal > 0 && goal < 1;
  return ok ? { handle_seconds: handle, target_seconds: target, concurrency, goal: Math.round(goal * 1000) / 1000 } : null;
}

/** The CSV file's name, as the API's Content-Disposition gives it: metric, groups, days (the last exclusive), team. */
export function csvFileName(metric: string, group: string, period: { from: string; to: string; team?: string }): string {
  const parts = ["shopdesk", metric, "by", group, period.from.slice(0, 10), "to", period.to.slice(0, 10)];
  if (period.team) parts.push(period.team);
  return parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_") + ".csv";
}
