// The trust and privacy pages' logic: the audit log's filter and its records' changes in words, a 422's field
// errors by field, the privacy and CSAT settings' forms both ways, and an export or erase job followed to its end.
import {
  ApiError,
  type AuditRecord,
  type CsatSettings,
  type PrivacyJob,
  type PrivacySettings,
  type PrivacySettingsOut,
} from "./api";
import { formatFull } from "./format";
import { counted, type Locale, type MessageKey, type Translate } from "./i18n";
import { sentence } from "./problems";

/** A `datetime-local` value ("2026-12-05T09:30", the admin's own time) as an ISO instant; "" for none. */
export function isoFromLocal(value: string): string {
  if (!value) return "";
  const at = new Date(value); // a date-time without an offset is local time
  return Number.isNaN(at.getTime()) ? "" : at.toISOString();
}

export interface AuditFilter {
  actor: string;
  customer_id: string;
  from: string; // datetime-local values
  to: string;
  outcome?: "" | "allowed" | "denied" | "failed"; // "": every record; denied: the refused access attempts; failed: the
  // actions that changed data and then failed (allowed: every record but the refused, the failed ones included)
  lists?: boolean; // with a customer: the lists that showed them too (a page of conversations, the SLA board, ...)
}

/** The query of `GET /admin/audit` for a filter: trimmed, times in ISO; empty ones left out. The trail keeps
 *  actors by id: an agent typed by name ("Alice Example") or an id in other capitals ("Alice") is sent as the id.
 *  `lists` is sent only with a customer: the API refuses it without one. */
export function auditQuery(
  f: AuditFilter,
  agents: readonly { id: string; name?: string | null }[] = [],
): { actor?: string; customer_id?: string; from?: string; to?: string; outcome?: "allowed" | "denied" | "failed"; lists?: true } {
  const typed = f.actor.trim();
  const folded = typed.toLocaleLowerCase();
  const agent =
    agents.find((a) => a.id === typed) ??
    agents.find((a) => a.id.toLocaleLowerCase() === folded || a.name?.trim().toLocaleLowerCase() === folded);
  const actor = agent?.id ?? typed;
  const customer_id = f.customer_id.trim();
  const lists = !!(f.lists && customer_id);
  const q = { actor, customer_id, from: isoFromLocal(f.from), to: isoFromLocal(f.to), outcome: f.outcome, lists };
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v)) as ReturnType<typeof auditQuery>;
}

/** The customers a list's record names (a page of conversations, the SLA board, the privacy requests: filed under
 *  no one customer, the page's customers in `details.customers`); null for any other record. */
export function listedCustomers(r: AuditRecord): string[] | null {
  const named = r.details?.customers;
  return !r.customer_id && Array.isArray(named) ? named.map(String) : null;
}

export interface Change {
  field: string; // "" when the value itself changed (a status, a tier)
  before: string;
  after: string;
}

/** A value as a short text: strings as they are, nothing as "—", the rest as compact JSON. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** What a record's before and after differ in, field by field (nested fields as "retention.audit_days"); a
 *  record with only one of them lists that one's fields. Unchanged fields are left out. */
export function changes(before: unknown, after: unknown, prefix = ""): Change[] {
  const nested = (isObject(before) || before == null) && (isObject(after) || after == null);
  if (nested && (isObject(before) || isObject(after))) {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    return [...new Set([...Object.keys(b), ...Object.keys(a)])].flatMap((k) =>
      changes(b[k], a[k], prefix ? `${prefix}.${k}` : k),
    );
  }
  return JSON.stringify(before ?? null) === JSON.stringify(after ?? null)
    ? []
    : [{ field: prefix, before: shown(before), after: shown(after) }];
}

/** What an audit record did: its action's name, or "PUT /admin/csat" with the target's ids. */
export function recordWhat(r: AuditRecord): string {
  return r.target && !r.action.includes(r.target) ? `${r.action} (${r.target})` : r.action;
}

/** A 422's field errors by field ("retention.audit_days", "masking_patterns.0.pattern"), and the others. */
export function fieldErrors(body: unknown): { fields: Map<string, string[]>; rest: string[] } {
  const fields = new Map<string, string[]>();
  const rest: string[] = [];
  const errors = body && typeof body === "object" ? (body as { errors?: unknown }).errors : null;
  if (!Array.isArray(errors)) return { fields, rest };
  for (const e of errors as { loc?: (string | number)[]; msg?: string }[]) {
    const loc = (e.loc ?? []).filter((p) => p !== "body").map(String);
    const msg = e.msg ?? "invalid";
    if (loc.length) fields.set(loc.join("."), [...(fields.get(loc.join(".")) ?? []), msg]);
    else rest.push(msg);
  }
  return { fields, rest };
}

/** What the settings' fields take, in words, by the pattern the API checks them with. */
const PATTERN_WORDS: Record<string, MessageKey> = {
  "^[A-Za-z][A-Za-z0-9 _-]{0,31}$": "refused.maskingName", // a masking pattern's name
};

/** A field's refusal in the admin's words: a pattern not matched ("String should match pattern '^[A-Za-z]…$'")
 *  says what the field takes instead of the regular expression; the other refusals as the API says them, as a sentence
 *  (without pydantic's "Value error, "). */
export function refusalWords(msg: string, t: Translate): string {
  const pattern = /^String should match pattern '(.*)'$/s.exec(msg)?.[1];
  if (pattern === undefined) return sentence(msg);
  return t(PATTERN_WORDS[pattern] ?? "refused.pattern");
}

// -- privacy settings

export const RETENTION_CLASSES = ["messages_days", "closed_conversations_days", "inactive_customers_days",
  "events_days", "audit_days", "dedupe_markers_days"] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];
/** The classes kept until erased when left empty; the others always have a number of days. */
export const KEPT_WHEN_EMPTY: ReadonlySet<RetentionClass> = new Set([
  "messages_days",
  "closed_conversations_days",
  "inactive_customers_days",
]);
/** The fewest days the API takes (audit records: a year, so an admin cannot have their own actions forgotten). */
export const MIN_DAYS: Partial<Record<RetentionClass, number>> = {
  dedupe_markers_days: 8,
  audit_days: 365,
  inactive_customers_days: 30,
};

export interface PrivacyForm {
  retention: Record<RetentionClass, string>;
  masking: { name: string; pattern: string }[];
}

export function privacyForm(s: PrivacySettings): PrivacyForm {
  const retention = Object.fromEntries(
    RETENTION_CLASSES.map((k) => [k, s.retention[k] == null ? "" : String(s.retention[k])]),
  ) as Record<RetentionClass, string>;
  return { retention, masking: s.masking_patterns.map((p) => ({ ...p })) };
}

/** Where each masking row of the form goes in what `privacyFromForm` sends (null: an empty row, left out), so that
 *  a refusal naming `masking_patterns.N` is shown at the row it is about. */
export function sentMaskingIndex(f: PrivacyForm): (number | null)[] {
  let sent = 0;
  return f.masking.map((p) => (p.name.trim() || p.pattern ? sent++ : null));
}

/** The body of `PUT /admin/privacy/settings`: days as numbers (empty: kept until erased); masking rows with
 *  neither a name nor a pattern are left out. The API checks the rest (ranges, regular expressions). */
export function privacyFromForm(f: PrivacyForm): PrivacySettings {
  const retention = Object.fromEntries(
    RETENTION_CLASSES.map((k) => [k, f.retention[k].trim() === "" ? null : Number(f.retention[k])]),
  ) as unknown as PrivacySettings["retention"];
  const masking_patterns = f.masking
    .map((p) => ({ name: p.name.trim(), pattern: p.pattern }))
    .filter((p) => p.name || p.pattern);
  return { retention, masking_patterns };
}

/** The masking patterns a save adds or changes (its name or its expression), as the API judges them: the save
 *  starts a job that masks what is already stored with these, for good. One only taken away masks nothing. */
export function maskingAdded(
  before: PrivacySettings["masking_patterns"],
  after: PrivacySettings["masking_patterns"],
): PrivacySettings["masking_patterns"] {
  const was = new Set(before.map((p) => JSON.stringify([p.name, p.pattern])));
  return after.filter((p) => !was.has(JSON.stringify([p.name, p.pattern])));
}

// -- CSAT settings

export interface CsatForm {
  enabled: boolean;
  when: CsatSettings["when"];
  channels: string[];
  teams: string[];
  template: string;
  delay_minutes: string;
  comment_prompt: boolean;
  answer_window_hours: string;
  comment_window_minutes: string;
}

export function csatForm(s: CsatSettings): CsatForm {
  return {
    enabled: s.enabled,
    when: s.when,
    channels: s.channels ?? [],
    teams: s.teams ?? [],
    template: s.template ?? "",
    delay_minutes: String(s.delay_s / 60),
    comment_prompt: s.comment_prompt,
    answer_window_hours: String(s.answer_window_s / 3600),
    comment_window_minutes: String(s.comment_window_s / 60),
  };
}

/** The body of `PUT /admin/csat`: the lists only for the `when` that uses them, times in seconds. */
export function csatFromForm(f: CsatForm): CsatSettings {
  return {
    enabled: f.enabled,
    when: f.when,
    channels: f.when === "channels" ? (f.channels as CsatSettings["channels"]) : null,
    teams: f.when === "teams" ? f.teams : null,
    template: f.template.trim() || null,
    delay_s: Math.round(Number(f.delay_minutes) * 60),
    comment_prompt: f.comment_prompt,
    answer_window_s: Math.round(Number(f.answer_window_hours) * 3600),
    comment_window_s: Math.round(Number(f.comment_window_minutes) * 60),
  };
}

/** Where a 422 on the CSAT body lands: the form's fields are in other units, named after the API's. */
export const CSAT_FIELDS: Record<string, keyof CsatForm> = {
  delay_s: "delay_minutes",
  answer_window_s: "answer_window_hours",
  comment_window_s: "comment_window_minutes",
  template: "template",
  channels: "channels",
  teams: "teams",
};

// -- export and erase jobs

export const POLL_MS = 1_500;

/** Read the job until it is no longer running, telling `seen` each state; stops when `stopped()` says so (the
 *  page was left). The last state read is returned. */
export async function followJob(
  read: () => Promise<PrivacyJob>,
  seen: (job: PrivacyJob) => void,
  stopped: () => boolean,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<PrivacyJob | null> {
  for (;;) {
    if (stopped()) return null;
    const job = await read();
    if (stopped()) return null;
    seen(job);
    if (job.status !== "running") return job;
    await wait(POLL_MS);
  }
}

/** What a done erase says of its last look at the files uploaded after it (ten minutes on): null when it has none
 *  (an export, an erase with nothing to look at, one done before jobs said so). The erase is not complete until then
 *  (pending), or until the operator runs it again (failed, or overdue: still not come an hour past its time; both
 *  shown as an error), whatever its status says. */
export function lastLookWords(
  job: PrivacyJob,
  t: Translate,
  locale: Locale,
  timeZone?: string,
): { text: string; failed: boolean } | null {
  const look = job.last_look;
  if (!look) return null;
  if (look.status === "done") {
    return { text: counted(t, locale, "privacy.lastLook.done", look.files ?? 0), failed: false };
  }
  if (look.status === "failed") {
    return { text: t("privacy.lastLook.failed", { error: look.error ?? "" }), failed: true };
  }
  const at = look.due_at ? formatFull(look.due_at, locale, timeZone) : "";
  if (look.status === "overdue") return { text: t("privacy.lastLook.overdue", { at }), failed: true };
  return { text: t("privacy.lastLook.pending", { at }), failed: false };
}

// -- several customers erased at once

export const ERASE_AT_ONCE = 100; // names a request may carry (the admin API's limit)

/** The names an admin pasted (one per line, or separated by commas or semicolons), trimmed, each once. */
export function namesOf(text: string): string[] {
  return [...new Set(text.split(/[\n,;]+/).map((n) => n.trim()).filter(Boolean))];
}

/** How the admins' customer lookup reads one name: an email address, a phone number (international or national,
 *  with spaces, dots, dashes or brackets), else a customer id. */
export function nameKind(name: string): "email" | "phone" | "id" {
  if (name.includes("@")) return "email";
  return /^\+?[\d\s().-]{6,}$/.test(name) && /\d{3}/.test(name.replace(/\D/g, "")) ? "phone" : "id";
}

/** `list` in turns of at most `size`. */
export function inTurns<T>(list: readonly T[], size: number = ERASE_AT_ONCE): T[][] {
  const turns: T[][] = [];
  for (let i = 0; i < list.length; i += size) turns.push(list.slice(i, i + size));
  return turns;
}

/** The walks a settings save answered 503 `walk_not_queued` queued all the same (it started two, the queue refused
 *  one): their jobs, by the names a save's answer gives them, to follow as a queued walk is. None for any other
 *  failure. */
export function walksQueued(error: unknown): Pick<PrivacySettingsOut, "retention_job_id" | "masking_job_id"> {
  const params = walkNotQueued(error) ?? {};
  const job = (name: string) => (typeof params[name] === "string" && params[name] ? params[name] : null);
  const [retention, masking] = [job("retention_job_id"), job("masking_job_id")];
  return { ...(retention && { retention_job_id: retention }), ...(masking && { masking_job_id: masking }) };
}

/** The params of a settings save's 503 `walk_not_queued` (saved, a walk not queued); null for any other failure. */
function walkNotQueued(error: unknown): Record<string, unknown> | null {
  if (!(error instanceof ApiError) || error.status !== 503 || !error.body || typeof error.body !== "object") return null;
  const { code, params } = error.body as { code?: unknown; params?: Record<string, unknown> };
  return code === "walk_not_queued" ? (params ?? {}) : null;
}

/** A settings save the API answered 503 `walk_not_queued`: the settings are saved, but the job applying them to what
 *  is already stored could not be queued; its words (the version saved, and when the sweep walks instead, or that an
 *  operator runs it). Null for any other failure. */
export function savedWalkLater(error: unknown, t: Translate, locale: Locale, timeZone?: string): string | null {
  const params = walkNotQueued(error);
  if (!params) return null;
  const version = String(params.version ?? "");
  const walksAt = typeof params.walks_at === "string" ? params.walks_at : "";
  return walksAt
    ? t("privacy.savedWalkLater", { version, at: formatFull(walksAt, locale, timeZone) })
    : t("privacy.savedWalkByOperator", { version });
}
