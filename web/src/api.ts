// The one client of the agent and admin APIs. Types come from their OpenAPI documents (src/api-types/agent.ts
// and admin-openapi.ts, generated with openapi-typescript by `npm run types`; admin.ts names the admin API's
// bodies as the forms use them). Components never call fetch themselves.
import type { components } from "./api-types/agent";
import { assistQuestion } from "./kbAssist";
import type { CsatComment, Forecast, MetricRow, Staffing, StaffingInputs, TopicRow } from "./reports";
import type {
  AdminAgent,
  AgentSettings,
  Calendar,
  CalendarIn,
  Customer,
  MaxRole,
  RoutingSettings,
  SlaEvent,
  SlaPolicy,
  Team,
  Versioned,
} from "./api-types/admin";
import type { ApplyOut, Label, LabelIn, Macro, MacroAction } from "./api-types/macros";
import type { components as AdminComponents } from "./api-types/admin-openapi";

type S = components["schemas"];
export type Conversation = S["ConversationOut"];
/** A conversation read with `include`: its side panels in the same answer (those that could be answered). */
export type Included = S["Included"];
export type Message = S["MessageOut"];
export type Attachment = S["AttachmentOut"];
export type Agent = S["AgentOut"];
/** A team as agents see it: id and name (GET /agent/teams; the admin API's Team has its description too). */
export type NamedTeam = S["TeamOut"];
export type Template = S["TemplateOut"];
export type ConversationStatus = S["ConversationStatus"];
export type Priority = S["Priority"];
export type Presence = S["Presence"];
export type View = "mine" | "unassigned" | "all" | "granted" | "mentions";
export type SnoozePreset = NonNullable<S["StatusIn"]["preset"]>;
export type Transcript = S["TranscriptOut"];
export type ConversationPage = S["ConversationList"];
export type Upload = S["UploadOut"];
/** A file uploaded for a reply or a canned response, as the reply names it. */
export type UploadedFile = S["FileIn"];
export type CustomerProfile = S["CustomerOut"];
export type CustomerEvent = S["CustomerEvent"];
export type Duplicate = S["DuplicateOut"];
export type MergeRecord = S["MergeOut"];
export type Order = S["OrderOut"];
export type OrderPanel = S["OrderPanelOut"];
export type ActionDone = S["ActionOut"];
export type CancelRequest = S["CancelIn"];
export type RefundRequest = S["RefundIn"];
export type SearchResult = S["SearchOut"];
export type CannedResponse = S["CannedOut"];
/** What a canned response form sends (title, shortcode, a body per language, files kept as they are). */
export type CannedIn = S["CannedContent"];
/** What a reply or a preview carries: the text (it may use variables) or a canned response. */
export type ReplyContent = { text: string } | { canned_response_id: string };
export type { AdminAgent, AgentSettings, Calendar, CalendarIn, Customer, MaxRole, RoutingSettings, SlaEvent, SlaPolicy, Team };
export type { ApplyOut, ApplyResult, Label, LabelIn, Macro, MacroAction } from "./api-types/macros";
/** What a macro form sends: a name and the actions in order. */
export type MacroIn = { name: string; actions: MacroAction[] };
/** A conversation with its label ids (the generated type may predate them). */
export type Labelled = Conversation & { labels?: string[] };

/** A change notice of the live-update contract (a WebSocket frame; also the items of GET /agent/changes). */
export type Change = S["Notice"];
export type ChangePage = S["ChangeList"];

/** Knowledge-base articles and the bot's settings (the admin API's OpenAPI document). */
type A = AdminComponents["schemas"];
export type Article = A["Article"];
export type ArticleStatus = Article["status"];
/** What an article form sends (the API fills in no defaults the form does not show). */
export type ArticleIn = Required<Pick<A["ArticleContent"], "title" | "body" | "language" | "tags">> &
  Pick<A["ArticleContent"], "url" | "translation_of">;
export type ImportReport = A["ImportOut"];
export type BotSettings = A["BotSettings"];
export type BotOut = A["BotOut"];
/** The audit trail, customers' export and erase jobs, privacy and CSAT settings (admins). */
export type AuditRecord = A["AuditRecordOut"];
export type AuditPage = A["AuditList"];
export type PrivacyJob = A["JobOut"];
export type EraseRow = A["EraseRow"];
export type PrivacySettings = A["PrivacySettings"] & { retention: A["Retention"]; masking_patterns: A["MaskingPattern"][] };
export type PrivacySettingsOut = A["PrivacySettingsOut"];
export type CsatSettings = A["CsatSettings"];
export type CsatOut = A["CsatOut"];
export type PrivacyRequest = A["PrivacyRequest"];
export type AssistAnswer = AssistSuggestion;

/** An answer other than 2xx, with the words to show the agent (RFC 9457 `detail`, else `message`). */
// Agent assist and the bot (GET /agent/conversations/{id}/assist, POST /agent/assist/answer; ConversationOut.bot).
export type AssistArticle = S["AssistArticle"];
/** What the bot would do with a message, sending nothing; the best articles to insert. */
export type AssistSuggestion = S["AssistAnswer"];
export type BotState = { state: "answering" | "handed_off" | "resolved"; handoff_reason?: string | null };

/** An answer's JSON; text that is not JSON as `{ message }`; null when empty. */
function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Worth sending again as it is: no answer (status 0), the API busy or failing, or asked to wait; a refusal
   * (400, 403, 404 …) would be refused again. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** A request that got no answer (the connection lost before the request or its answer went through): status 0, worth
 * sending again; a write (`method` not GET) may or may not have been done. */
export class NoAnswer extends ApiError {
  constructor(
    readonly method: string,
    cause: unknown,
  ) {
    super(0, `no answer: ${cause instanceof Error ? cause.message : String(cause)}`, null);
    this.name = "NoAnswer";
  }
}

/** The words an answer's body gives: problem `detail` (a string, or 422 field errors), else `message`. */
export function problemText(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === "string" && b.detail) return b.detail;
    const errors = Array.isArray(b.errors) ? b.errors : Array.isArray(b.detail) ? b.detail : null;
    if (errors && errors.length) {
      return errors
        .map((e: { loc?: unknown[]; msg?: string }) => {
          const loc = (e.loc ?? []).filter((p) => p !== "body").join(".");
          return loc ? `${loc}: ${e.msg ?? "invalid"}` : (e.msg ?? "invalid");
        })
        .join("; ");
    }
    if (typeof b.message === "string" && b.message) return b.message;
    if (typeof b.title === "string" && b.title) return b.title;
  }
  return `HTTP ${status}`;
}

export type TokenSource = () => Promise<string | null>;

/** Why the API sent the user back to the sign-in page: a token it refused (401), or an admin took them off the desk
 *  (403 with the problem code `deactivated`, on every route, whatever token they hold). */
export type SignedOutReason = "expired" | "deactivated";

/** Whether an answer says an admin took the caller off the desk. */
export function isDeactivated(status: number, body: unknown): boolean {
  return status === 403 && !!body && typeof body === "object" && (body as { code?: unknown }).code === "deactivated";
}

/** POST a file to the bucket with a presigned form (fields first, then the file), reporting progress (0-1).
 *  XMLHttpRequest, not fetch: only it reports upload progress. */
export function sendToBucket(upload: Upload, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file, upload.filename);
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total) onProgress(e.loaded / e.total);
    };
    request.onload = () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new ApiError(request.status, `HTTP ${request.status}`, request.responseText));
    request.onerror = () => reject(new ApiError(0, "network error", null));
    request.send(form);
  });
}

/** The side panels a conversation's opening read answers too (GET /agent/conversations/{id}?include=): the
 * customer's profile and likely duplicates, the orders panel, the assist panel. One request (and one audit record)
 * instead of five; each panel reads its part once from what the opening kept (`primedOr`), within PRIMED_MS, and
 * only for what it shows: the assist part for the customer's messages it answered, the orders part for the count of
 * them it was read with, nothing after a change made through the API (a merge, a reply), which drops them all. */
export const OPENING_PARTS = "customer,duplicates,orders,assist";
export const PRIMED_MS = 5_000;

export class Api {
  /** What the last opening answered for the panels, by `<part>:<id>`, each given out once. */
  private primed = new Map<string, { value: unknown; at: number }>();

  constructor(
    private readonly baseUrl: string,
    private readonly token: TokenSource,
    private readonly onUnauthorized: (reason: SignedOutReason) => void = () => {},
  ) {}

  /** `body` is sent as JSON, or as it is with `contentType` (a file's text: a knowledge-base import). */
  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    extra: Record<string, string> = {},
  ): Promise<T> {
    return parseBody(await this.send(method, path, "application/json", body, contentType, extra)) as T;
  }

  /** The answer's text (ApiError when it is not a success). */
  private async send(
    method: string,
    path: string,
    accept: string,
    body?: unknown,
    contentType?: string,
    extra: Record<string, string> = {},
  ): Promise<string> {
    if (method !== "GET") this.primed.clear(); // a change (a merge, a reply) may outdate what was kept
    const headers: Record<string, string> = { ...extra, Accept: accept };
    const token = await this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = contentType ?? "application/json";
    let answer: Response;
    let text: string;
    try {
      answer = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : contentType ? String(body) : JSON.stringify(body),
      });
      text = await answer.text();
    } catch (error) {
      throw new NoAnswer(method, error); // the browser's own words ("Failed to fetch") are no one's to read
    }
    if (!answer.ok) {
      const parsed = parseBody(text);
      if (answer.status === 401) this.onUnauthorized("expired");
      else if (isDeactivated(answer.status, parsed)) this.onUnauthorized("deactivated");
      throw new ApiError(answer.status, problemText(answer.status, parsed), parsed);
    }
    return text;
  }

  // -- the agent API
  me = () => this.call<Agent>("GET", "/agent/me");
  setPresence = (presence: Presence) => this.call<Agent>("PUT", "/agent/me/presence", { presence });
  agents = () => this.call<{ items: Agent[] }>("GET", "/agent/agents");
  agentTeams = () => this.call<S["TeamList"]>("GET", "/agent/teams");
  conversations = (q: {
    view: View;
    status?: ConversationStatus;
    team?: string;
    label?: string;
    sort?: "breach_risk";
    limit?: number;
    cursor?: string | null;
    counts?: boolean;
  }) =>
    this.call<ConversationPage>("GET", "/agent/conversations" + query({ ...q, counts: q.counts ? "true" : undefined }));
  counts = () => this.call<{ views: Record<View, number> }>("GET", "/agent/conversations/counts");
  /** The conversation; with `include` (parts of OPENING_PARTS), those side panels too, kept for the panels. */
  conversation = async (id: string, include = ""): Promise<Conversation> => {
    const path = `/agent/conversations/${enc(id)}` + query({ include: include || undefined });
    const { included, ...conv } = await this.call<Conversation & { included?: Included | null }>("GET", path);
    if (!include) return conv;
    this.primed.clear();
    const at = Date.now();
    const inbound = (conv.messages ?? []).filter((m) => m.direction === "inbound").length;
    const parts: [string, unknown][] = [
      [`customer:${conv.customer.id}`, included?.customer],
      [`duplicates:${conv.customer.id}`, included?.duplicates],
      [`orders:${conv.id}:${inbound}`, included?.orders], // for the customer's messages it was read with
      [`assist:${conv.id}:${assistQuestion(conv.messages ?? [])}`, included?.assist], // for the question it answered
    ];
    for (const [key, value] of parts) if (value) this.primed.set(key, { value, at });
    return conv;
  };
  /** The conversation as it opens, with every side panel. */
  openConversation = (id: string) => this.conversation(id, OPENING_PARTS);
  /** A panel's read: what the opening answered for it, once and while fresh; else the panel's own route (which
   * also answers what the opening left out, an error included). */
  private primedOr<T>(key: string, read: () => Promise<T>): Promise<T> {
    const kept = this.primed.get(key);
    this.primed.delete(key);
    return kept && Date.now() - kept.at < PRIMED_MS ? Promise.resolve(kept.value as T) : read();
  }
  /** A reply: text (or a canned response) and/or files uploaded with `upload` (a reply may be files alone). `key`: the
   * composed reply's Idempotency-Key, the same for every send of it, so a send again after no answer sends it once. */
  reply = (id: string, text: string | ReplyContent, channel?: string, attachments: UploadedFile[] = [], key?: string) =>
    this.call<Message>(
      "POST",
      `/agent/conversations/${enc(id)}/replies`,
      {
        ...(typeof text === "string" ? (text ? { text } : {}) : text),
        ...(channel ? { channel } : {}),
        ...(attachments.length ? { attachments } : {}),
      },
      undefined,
      key ? { "Idempotency-Key": key } : {},
    );
  /** A presigned upload for one file (for a reply in `conversationId`, or without it for a canned response); with
   * `channel`, a file that channel cannot carry is refused now (422 /problems/attachment-refused). */
  upload = (file: { filename: string; content_type: string; size: number }, conversationId?: string, channel?: string) =>
    this.call<Upload>("POST", "/agent/attachments", {
      ...file,
      ...(conversationId ? { conversation_id: conversationId } : {}),
      ...(conversationId && channel ? { channel } : {}),
    });
  /** Send a failed reply again; `key`: that send's Idempotency-Key, the same for every press of it until the API took
   * it, so a press again after no answer gets the first answer (the same new reply), not a 409. */
  retry = (id: string, messageId: string, key?: string) =>
    this.call<Message>(
      "POST",
      `/agent/conversations/${enc(id)}/replies/${enc(messageId)}/retry`,
      undefined,
      undefined,
      key ? { "Idempotency-Key": key } : {},
    );
  note = (id: string, text: string) => this.call<Message>("POST", `/agent/conversations/${enc(id)}/notes`, { text });
  templates = () => this.call<{ items: Template[] }>("GET", "/agent/templates");
  /** A WhatsApp template; `key`: the composed template's Idempotency-Key, as a reply's (`reply`). */
  sendTemplate = (id: string, t: { name: string; language: string; parameters: string[]; channel?: string }, key?: string) =>
    this.call<Message>("POST", `/agent/conversations/${enc(id)}/templates`, t, undefined, key ? { "Idempotency-Key": key } : {});
  assign = (id: string, agentId: string, note?: string) =>
    this.call<Conversation>("POST", `/agent/conversations/${enc(id)}/assignment`, {
      agent_id: agentId,
      ...(note ? { note } : {}),
    });
  setStatus = (id: string, status: ConversationStatus, until?: string, preset?: SnoozePreset) =>
    this.call<Conversation>("POST", `/agent/conversations/${enc(id)}/status`, {
      status,
      ...(until ? { until } : {}),
      ...(preset ? { preset } : {}),
    });
  readMentions = (id: string) => this.call<null>("POST", `/agent/conversations/${enc(id)}/mentions/read`);
  sendTranscript = (id: string) => this.call<Transcript>("POST", `/agent/conversations/${enc(id)}/transcript`);
  setRouting = (id: string, change: { priority?: Priority; team?: string; skills?: string[]; note?: string }) =>
    this.call<Conversation>("PUT", `/agent/conversations/${enc(id)}/routing`, change);
  /** The assist panel for the conversation's `question` (kbAssist.assistQuestion: what a read with it kept). */
  assist = (id: string, question?: string) =>
    this.primedOr(`assist:${id}:${question ?? ""}`, () =>
      this.call<{ suggestion: AssistSuggestion | null }>("GET", `/agent/conversations/${enc(id)}/assist`),
    );
  // customers, orders, search, canned responses
  customer = (id: string, cursor?: string | null) =>
    cursor
      ? this.call<CustomerProfile>("GET", `/agent/customers/${enc(id)}` + query({ cursor }))
      : this.primedOr(`customer:${id}`, () => this.call<CustomerProfile>("GET", `/agent/customers/${enc(id)}`));
  duplicates = (id: string) =>
    this.primedOr(`duplicates:${id}`, () =>
      this.call<{ items: Duplicate[] }>("GET", `/agent/customers/${enc(id)}/duplicates`),
    );
  merge = (id: string, otherId: string, reason: string) =>
    this.call<MergeRecord>("POST", `/agent/customers/${enc(id)}/merge`, { other_id: otherId, reason });
  unmerge = (id: string, mergeId: string, reason?: string) =>
    this.call<MergeRecord>("POST", `/agent/customers/${enc(id)}/unmerge`, { merge_id: mergeId, ...(reason ? { reason } : {}) });
  /** The orders panel for the conversation as it has `inbound` customer messages (what a read with it kept). */
  orders = (conversationId: string, inbound?: number) =>
    this.primedOr(`orders:${conversationId}:${inbound ?? ""}`, () =>
      this.call<OrderPanel>("GET", `/agent/conversations/${enc(conversationId)}/orders`),
    );
  /** Without `confirm`, a 409 whose body has the `preview`; with it, done (or a 422 in the platform's words). */
  cancelOrder = (conversationId: string, orderId: string, body: Partial<CancelRequest>) =>
    this.call<ActionDone>("POST", `/agent/conversations/${enc(conversationId)}/orders/${enc(orderId)}/cancel`, body);
  refundOrder = (conversationId: string, orderId: string, body: Partial<RefundRequest>) =>
    this.call<ActionDone>("POST", `/agent/conversations/${enc(conversationId)}/orders/${enc(orderId)}/refund`, body);
  search = (q: string, limit = 20) => this.call<SearchResult>("GET", "/agent/search" + query({ q, limit }));
  /** With `conversationId`, each says the `language` of the body a reply there inserts. */
  canned = (q: string, conversationId?: string) =>
    this.call<{ items: CannedResponse[] }>("GET", "/agent/canned-responses" + query({ q, conversation_id: conversationId }));
  /** The reply as the customer would get it; a 422 names the variables that have no value. */
  preview = (conversationId: string, content: ReplyContent) =>
    this.call<{ text: string }>("POST", `/agent/conversations/${enc(conversationId)}/preview`, content);
  changes = (since?: string | null, limit = 200) =>
    this.call<ChangePage>("GET", "/agent/changes" + query({ since, limit }));

  // -- labels and macros
  labels = () => this.call<{ items: Label[] }>("GET", "/agent/labels");
  changeLabels = (id: string, change: { add?: string[]; remove?: string[] }) =>
    this.call<Labelled>("POST", `/agent/conversations/${enc(id)}/labels`, { add: change.add ?? [], remove: change.remove ?? [] });
  macros = () => this.call<{ items: Macro[] }>("GET", "/agent/macros");
  /** Apply a macro to one conversation or a selection; `key`: that apply's Idempotency-Key, the same for every send of
   * it until the API answered, so applying it again after no answer sends the macro's reply once. */
  applyMacro = (id: string, conversationIds: string[], key?: string) =>
    this.call<ApplyOut>(
      "POST",
      `/agent/macros/${enc(id)}/apply`,
      { conversation_ids: conversationIds },
      undefined,
      key ? { "Idempotency-Key": key } : {},
    );
  // the caller's own canned responses and macros (every agent); the shared ones through the admin API
  /** Saves with `version` (the one edited; 0: a new one) only over it: 409 when someone saved it since. */
  putMyCanned = (id: string, c: CannedIn, version?: number) =>
    this.call<CannedResponse>("PUT", `/agent/canned-responses/${enc(id)}` + query({ version }), c);
  deleteMyCanned = (id: string) => this.call<null>("DELETE", `/agent/canned-responses/${enc(id)}`);
  putMyMacro = (id: string, m: MacroIn, version?: number) =>
    this.call<Macro>("PUT", `/agent/macros/${enc(id)}` + query({ version }), m);
  deleteMyMacro = (id: string) => this.call<null>("DELETE", `/agent/macros/${enc(id)}`);
  sharedCanned = () => this.call<{ items: CannedResponse[] }>("GET", "/admin/canned-responses");
  putSharedCanned = (id: string, c: CannedIn, version?: number) =>
    this.call<CannedResponse>("PUT", `/admin/canned-responses/${enc(id)}` + query({ version }), c);
  deleteSharedCanned = (id: string) => this.call<null>("DELETE", `/admin/canned-responses/${enc(id)}`);
  sharedMacros = () => this.call<{ items: Macro[] }>("GET", "/admin/macros");
  putSharedMacro = (id: string, m: MacroIn, version?: number) =>
    this.call<Macro>("PUT", `/admin/macros/${enc(id)}` + query({ version }), m);
  deleteSharedMacro = (id: string) => this.call<null>("DELETE", `/admin/macros/${enc(id)}`);
  adminLabels = () => this.call<{ items: Label[] }>("GET", "/admin/labels");
  /** Saves with `version` (the one edited; 0: a new one) only over it: 409 when someone saved it since. */
  putLabel = (id: string, label: LabelIn, version?: number) =>
    this.call<Label>("PUT", `/admin/labels/${enc(id)}` + query({ version }), label);
  /** A label macros add is retired only with `force`: 409 `label_in_macros` naming them otherwise. */
  retireLabel = (id: string, retired: boolean, force = false) =>
    this.call<Label>("POST", `/admin/labels/${enc(id)}/${retired ? "retire" : "restore"}` + query({ force: force ? "true" : undefined }));

  // -- the admin API (supervisors, admins)
  adminAgents = () => this.call<{ items: AdminAgent[] }>("GET", "/admin/agents");
  /** Saves with `version` (the settings' version edited) only over it: 409 when someone saved them since. */
  setAgent = (id: string, s: AgentSettings, version?: number) =>
    this.call<AdminAgent>("PUT", `/admin/agents/${enc(id)}` + query({ version }), s);
  /** Take an agent off the desk (offline, no work, what they hold back to the queue), or put them back. */
  setAgentOnDesk = (id: string, onDesk: boolean) =>
    this.call<AdminAgent>("POST", `/admin/agents/${enc(id)}/${onDesk ? "reactivate" : "deactivate"}`);
  /** The highest role an agent may use from their next request, whatever their sign-in's groups ("admin": their
   *  sign-in's roles, as a record never raises one); 409 `demoting_self` for the caller's own, `last_admin` when the
   *  caller's own was lowered meanwhile (nothing changed). */
  setMaxRole = (id: string, role: MaxRole) =>
    this.call<AdminAgent>("PUT", `/admin/agents/${enc(id)}/max-role`, { max_role: role } satisfies A["AgentMaxRole"]);
  teams = () => this.call<{ items: Versioned<Team>[] }>("GET", "/admin/teams");
  putTeam = (t: Team, version?: number) => this.call<Versioned<Team>>("PUT", `/admin/teams/${enc(t.id)}` + query({ version }), t);
  /** Deletes the version shown; 409 with a code naming what still uses the team (its agents, conversations, ...). */
  deleteTeam = (id: string, version?: number) => this.call<null>("DELETE", `/admin/teams/${enc(id)}` + query({ version }));
  calendars = () => this.call<{ items: Calendar[] }>("GET", "/admin/calendars");
  putCalendar = (id: string, c: CalendarIn, version?: number) =>
    this.call<Calendar>("PUT", `/admin/calendars/${enc(id)}` + query({ version }), c);
  /** Deletes the version shown; 409 `calendar_in_policies` while SLA policies measure in it. */
  deleteCalendar = (id: string, version?: number) =>
    this.call<null>("DELETE", `/admin/calendars/${enc(id)}` + query({ version }));
  policies = () => this.call<{ items: Versioned<SlaPolicy>[] }>("GET", "/admin/sla-policies");
  putPolicy = (p: SlaPolicy, version?: number) =>
    this.call<Versioned<SlaPolicy>>("PUT", `/admin/sla-policies/${enc(p.id)}` + query({ version }), p);
  deletePolicy = (id: string, version?: number) =>
    this.call<null>("DELETE", `/admin/sla-policies/${enc(id)}` + query({ version }));
  routing = () => this.call<Versioned<RoutingSettings>>("GET", "/admin/routing");
  putRouting = (r: RoutingSettings, version?: number) =>
    this.call<Versioned<RoutingSettings>>("PUT", "/admin/routing" + query({ version }), r);
  findCustomers = (q: { phone?: string; email?: string }) =>
    this.call<{ items: Customer[] }>("GET", "/admin/customers" + query(q));
  slaEvents = (q: { hours?: number; limit?: number; team?: string } = {}) =>
    this.call<{ items: SlaEvent[]; more: boolean }>("GET", "/admin/sla-events" + query(q));
  setTier = (id: string, tier: string | null) => this.call<Customer>("PUT", `/admin/customers/${enc(id)}`, { tier });

  // -- the knowledge base and the bot (admins write; supervisors read); any agent may ask what the bot would do
  articles = () => this.call<{ items: Article[] }>("GET", "/admin/kb/articles");
  /** A new version: published, or a draft the bot does not use until it is published. */
  /** A new version of an article; with `version` (the one edited) only over it: 409 when someone saved it since. */
  putArticle = (id: string, a: ArticleIn, draft = false, version?: number) =>
    this.call<Article>("PUT", `/admin/kb/articles/${enc(id)}` + query({ draft: draft ? "true" : undefined, version }), a);
  /** A draft, a retired article, or a published article's draft (it replaces the live version); `version`: only over it. */
  publishArticle = (id: string, version?: number) =>
    this.call<Article>("POST", `/admin/kb/articles/${enc(id)}/publish` + query({ version }));
  /** Drop a published article's draft; the live version goes on answering. */
  discardArticleDraft = (id: string, version?: number) =>
    this.call<Article>("DELETE", `/admin/kb/articles/${enc(id)}/draft` + query({ version }));
  retireArticle = (id: string) => this.call<Article>("DELETE", `/admin/kb/articles/${enc(id)}`);
  articleVersions = (id: string) => this.call<{ items: Article[] }>("GET", `/admin/kb/articles/${enc(id)}/versions`);
  /** A JSON Lines or Markdown file as it is; a 422 names each bad line (`importProblems` in kb.ts). */
  importArticles = (text: string, contentType: string) =>
    this.call<ImportReport>("POST", "/admin/kb/import", text, contentType);
  bot = () => this.call<BotOut>("GET", "/admin/bot");
  putBot = (b: BotSettings, version?: number) => this.call<BotOut>("PUT", "/admin/bot" + query({ version }), b);
  /** `withArticle`: as if that draft or retired article were published (admins, to try it before publishing). */
  tryBot = (text: string, withArticle?: string) =>
    this.call<AssistAnswer>("POST", "/agent/assist/answer", { text, ...(withArticle ? { with_article: withArticle } : {}) });

  // -- trust and privacy (admins; supervisors read the CSAT settings)
  audit = (q: {
    actor?: string;
    customer_id?: string;
    from?: string;
    to?: string;
    outcome?: "allowed" | "denied" | "failed";
    lists?: boolean; // with customer_id: the lists that showed the customer too
    limit?: number;
    cursor?: string | null;
  }) =>
    this.call<AuditPage>("GET", "/admin/audit" + query({ ...q, lists: q.lists ? "true" : undefined }));
  adminCustomer = (id: string) => this.call<Customer>("GET", `/admin/customers/${enc(id)}`);
  privacyRequests = (cursor?: string | null) =>
    this.call<A["PrivacyRequestList"]>("GET", "/admin/privacy-requests" + query({ cursor }));
  startPrivacyJob = (customerId: string, kind: "export" | "erase") =>
    this.call<{ job_id: string }>("POST", `/admin/customers/${enc(customerId)}/${kind}`);
  privacyJob = (jobId: string) => this.call<PrivacyJob>("GET", `/admin/privacy/jobs/${enc(jobId)}`);
  /** Several customers erased at once, named by id, email or phone: whom the names find (`start` false), or their
   *  erase jobs started; at most ERASE_AT_ONCE names a request. */
  eraseSeveral = (customers: string[], start: boolean) =>
    this.call<{ items: EraseRow[] }>("POST", `/admin/privacy/erasures${start ? "" : "/preview"}`, { customers });
  privacySettings = () => this.call<PrivacySettingsOut>("GET", "/admin/privacy/settings");
  putPrivacySettings = (s: PrivacySettings, version?: number) =>
    this.call<PrivacySettingsOut>("PUT", "/admin/privacy/settings" + query({ version }), s);
  csat = () => this.call<CsatOut>("GET", "/admin/csat");
  putCsat = (c: CsatSettings, version?: number) => this.call<CsatOut>("PUT", "/admin/csat" + query({ version }), c);

  // -- the reports API (supervisors, admins): figures from the event lake, docs/metrics.md
  reportSummary = (p: ReportPeriod) => this.call<ReportSummary>("GET", "/reports/summary" + query({ ...p }));
  reportMetric = (p: ReportPeriod & { metric: string; group_by?: ReportGroup }) =>
    this.call<{ items: MetricRow[] }>("GET", "/reports/metrics" + query({ ...p }));
  /** The same rows as the CSV file the API writes, for the supervisor to download. */
  reportCsv = (p: ReportPeriod & { metric: string; group_by?: ReportGroup }) =>
    this.send("GET", "/reports/metrics" + query({ ...p, format: "csv" }), "text/csv");
  reportTopics = (p: ReportPeriod) =>
    this.call<{ items: TopicRow[] }>("GET", "/reports/metrics" + query({ ...p, metric: "topics", group_by: "week" }));
  csatComments = (p: ReportPeriod) =>
    this.call<{ items: CsatComment[] }>("GET", "/reports/metrics" + query({ ...p, metric: "csat_comments" }));
  /** Conversations expected per hour (409 while the lake has less than a week of history). */
  forecast = (p: { channel?: string | null; days: number; tz: string; team?: string }) =>
    this.call<Forecast>("GET", "/reports/forecast" + query({ ...p }));
  /** Agents needed per hour beside those usually online (409 like the forecast). */
  staffing = (p: { channel?: string | null; days: number; tz: string; team?: string } & StaffingInputs) =>
    this.call<Staffing>("GET", "/reports/staffing" + query({ ...p }));
}

export type ReportGroup = "agent" | "team" | "channel" | "language" | "day" | "week" | "hour";
export interface ReportPeriod {
  from: string;
  to: string;
  tz: string;
  /** One team's figures (a supervisor's own, any for an admin); left out: the caller's teams, an admin's whole desk. */
  team?: string;
}
export interface ReportDurations {
  count: number;
  median_s: number | null;
  p90_s: number | null;
  business_median_s: number | null;
  business_p90_s: number | null;
}
export interface ReportSummary {
  /** Whose figures: the conversations of these teams (a supervisor's), or null for the whole desk (an admin's). */
  teams: string[] | null;
  conversations: number;
  first_response: ReportDurations;
  next_response: ReportDurations;
  resolution: ReportDurations & { resolved: number; reopened: number; reopen_rate: number | null };
  sla: { compliance_by_target: Record<string, number | null> };
  csat: { score: number | null; responses: number; response_rate: number | null };
  bot: { answered: number; handed_off: number; resolved: number; containment_rate: number | null };
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString() : "";
}
