// The widget API (`/widget/...`), as the widget on a shop's page calls it: a session started from the token the
// shop's own server signs for its visitor, kept in the tab's storage, started again when it expires or the API
// refuses it; every refusal a WidgetError that says whether trying again can help.
import type { components } from "../api-types/widget";
import type { UploadedFile } from "./conversation";
import { visitorOf } from "./conversation";

type Schemas = components["schemas"];
export type SendOut = Schemas["SendOut"];
export type PollOut = Schemas["PollOut"];
export type PastConversation = Schemas["PastConversation"];

export class WidgetError extends Error {
  constructor(readonly status: number, message: string, readonly retryAfter?: number) {
    super(message);
  }

  /** Worth sending again as it is: no answer (status 0), the API busy or failing, or asked to wait. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

interface Stored {
  session: string;
  visitorId: string;
  expiresAt: number;
  /** the widget's WebSocket API, when the API has one */
  liveUrl?: string | null;
}

export interface ClientOptions {
  /** the widget API's base URL (the stack's `WidgetApiUrl`) */
  api: string;
  /** the shop's own address that answers `{"visitor_token": "..."}` for the visitor of the page */
  tokenUrl: string;
  storage: Storage | null;
  fetch?: typeof fetch;
  now?: () => number;
}

export class WidgetClient {
  private stored: Stored | null;
  private starting: Promise<Stored> | null = null;
  private readonly key: string;

  constructor(private readonly options: ClientOptions) {
    this.key = `shopdesk-widget:${options.api}`;
    this.stored = this.load();
  }

  /** A session is held (so there may be a conversation to show before the visitor writes again). */
  get hasSession(): boolean {
    return this.live() !== null;
  }

  /** Where the widget's socket connects with the held session, or null (no session held, or no socket API: poll). */
  get liveAddress(): string | null {
    const held = this.live();
    return held?.liveUrl ? `${held.liveUrl}?session=${encodeURIComponent(held.session)}` : null;
  }

  /** Forget a held session that speaks for another visitor than the page's now (a sign-in or sign-out on a
   * shared computer): their conversation is not this visitor's to see. True when one was forgotten. */
  async checkVisitor(): Promise<boolean> {
    if (this.stored === null) return false;
    const current = visitorOf(await this.visitorToken());
    if (current === this.stored.visitorId) return false;
    this.forget();
    return true;
  }

  poll(): Promise<PollOut> {
    return this.call<PollOut>("GET", "/widget/messages");
  }

  send(message: { clientId: string; text: string | null; choice?: string; attachments: UploadedFile[] }): Promise<SendOut> {
    return this.call<SendOut>("POST", "/widget/messages", {
      client_message_id: message.clientId,
      text: message.text,
      attachments: message.attachments,
      ...(message.choice ? { choice: message.choice } : {}),
    });
  }

  /** The file straight to storage with the presigned POST the API grants (within the type and size it checked). */
  async upload(file: File): Promise<UploadedFile> {
    const grant = await this.call<Schemas["UploadOut"]>("POST", "/widget/attachments", {
      filename: file.name,
      content_type: file.type || "application/octet-stream",
      size: file.size,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
    form.append("file", file);
    const answer = await this.fetch(grant.url, { method: "POST", body: form });
    if (!answer.ok) throw new WidgetError(answer.status, `the file was not accepted (${answer.status})`);
    return { key: grant.key, filename: grant.filename, content_type: grant.content_type, size: grant.size };
  }

  /** Mail a one-time code to an address the visitor says is theirs. */
  requestCode(email: string): Promise<Schemas["VerifyEmailOut"]> {
    return this.call("POST", "/widget/email-verification", { email });
  }

  /** The code proves the address: the chat and the address's mail become one customer. */
  confirmCode(code: string): Promise<Schemas["ConfirmEmailOut"]> {
    return this.call("POST", "/widget/email-verification/confirm", { code });
  }

  /** The visitor's conversations on every channel, once an address of theirs is proven (`email` null before). */
  pastConversations(): Promise<Schemas["PastConversations"]> {
    return this.call("GET", "/widget/conversations");
  }

  forget(): void {
    this.stored = null;
    this.options.storage?.removeItem(this.key);
  }

  // ---------------------------------------------------------------- session

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const held = this.live() ?? (await this.start());
    try {
      return await this.request<T>(method, path, body, held.session);
    } catch (error) {
      if (!(error instanceof WidgetError) || error.status !== 401) throw error;
      this.forget(); // expired early, or the API's secret changed: a new session, once
      return this.request<T>(method, path, body, (await this.start()).session);
    }
  }

  /** One session start at a time: calls made together (the listing and the history, on opening) share it. */
  private start(): Promise<Stored> {
    this.starting ??= this.startSession().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startSession(): Promise<Stored> {
    const token = await this.visitorToken();
    const started = await this.request<Schemas["SessionOut"]>("POST", "/widget/sessions", { visitor_token: token });
    // a minute early, so a call never carries a session that runs out on the way
    this.stored = { session: started.session, visitorId: started.visitor_id,
                    expiresAt: this.now() + Math.max(0, started.expires_in - 60) * 1000, liveUrl: started.live_url };
    this.options.storage?.setItem(this.key, JSON.stringify(this.stored));
    return this.stored;
  }

  private async visitorToken(): Promise<string> {
    const answer = await this.fetch(this.options.tokenUrl, { credentials: "same-origin",
                                                             headers: { Accept: "application/json" } });
    if (!answer.ok) throw new WidgetError(answer.status, `the shop's token address answered ${answer.status}`);
    const body = (await answer.json().catch(() => null)) as { visitor_token?: unknown } | null;
    if (typeof body?.visitor_token !== "string") {
      throw new WidgetError(502, "the shop's token address did not answer {\"visitor_token\": ...}");
    }
    return body.visitor_token;
  }

  private live(): Stored | null {
    return this.stored !== null && this.stored.expiresAt > this.now() ? this.stored : null;
  }

  private load(): Stored | null {
    try {
      const saved = JSON.parse(this.options.storage?.getItem(this.key) ?? "null") as Partial<Stored> | null;
      return typeof saved?.session === "string" && typeof saved.visitorId === "string" &&
        typeof saved.expiresAt === "number" ? (saved as Stored) : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- HTTP

  private async request<T>(method: string, path: string, body?: unknown, session?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (session) headers.Authorization = `Bearer ${session}`;
    const answer = await this.fetch(this.options.api + path, {
      method, headers, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!answer.ok) {
      const problem = (await answer.json().catch(() => null)) as { detail?: string; title?: string } | null;
      const wait = Number(answer.headers.get("Retry-After"));
      throw new WidgetError(answer.status, problem?.detail ?? problem?.title ?? `HTTP ${answer.status}`,
                            Number.isFinite(wait) && wait > 0 ? wait : undefined);
    }
    return (await answer.json()) as T;
  }

  /** fetch, with "no answer at all" (offline, refused, CORS) as a WidgetError with status 0. */
  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await (this.options.fetch ?? fetch)(url, init);
    } catch {
      throw new WidgetError(0, "no answer");
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
