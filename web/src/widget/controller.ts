// The widget's behaviour, apart from its DOM: what the visitor wrote goes out in order and is never lost (kept in
// the tab's storage until the API lists it, sent again with the same client_message_id after a failure or a
// reload), the conversation is read again as soon as the widget's socket says it changed (the socket kept open
// with a keepalive; polled every minute besides, for what a socket can miss; every few seconds while it moves and
// less often while quiet or closed when there is no socket; not at all while the tab is hidden), and the agents'
// replies the visitor has not seen are counted for the launcher's badge.
import type { PastConversation, WidgetClient } from "./client";
import { WidgetError } from "./client";
import type { Pending, ServerItem } from "./conversation";
import { retryDelay, stillPending, unread } from "./conversation";

// Each listing is a request to the API (and a read of the conversation): every 3 s while the conversation is
// moving (a message either way in the last minute), every 10 s while it is open and quiet, every 30 s closed.
export const ACTIVE_POLL_S = 3;
export const QUIET_POLL_S = 10;
export const CLOSED_POLL_S = 30;
export const ACTIVE_S = 60;
// With the socket open, a listing a minute catches what a socket can miss (a frame lost in a reconnect).
export const LIVE_POLL_S = 60;
// ... and a keepalive every 9 minutes keeps it open: API Gateway closes a socket after 10 minutes without a message.
// It is sent on this cadence whatever the socket hears, so it does not matter whether API Gateway counts its own
// posts as activity. No route has its action: it reaches the API's $default route, which no function answers.
export const KEEPALIVE_S = 540;
const KEEPALIVE = '{"action":"keepalive"}';
const SEEN_KEPT = 200;

export type Status = "ok" | "offline" | "unavailable";

/** Proving an email address, so replies can reach the visitor there too and their history shows: offered
 * (``offer``), the address asked (``address``), the mailed code asked (``code``), done (``linked``), or not
 * offered at all (``none``: not known yet, or the API cannot tell). */
export interface EmailState {
  step: "none" | "offer" | "address" | "code" | "linked";
  address: string | null;
  error: string | null;
  busy: boolean;
  past: PastConversation[];
}

export interface WidgetState {
  open: boolean;
  items: ServerItem[];
  pending: Pending[];
  status: Status;
  unread: number;
  uploading: string | null;
  /** a file the API or the storage refused, and why */
  uploadError: string | null;
  email: EmailState;
}

export interface Clock {
  set(callback: () => void, seconds: number): number;
  clear(handle: number): void;
  /** seconds since the epoch */
  now(): number;
}

/** An open socket of the widget's WebSocket API (main.ts: a browser WebSocket). */
export interface LiveSocket {
  close(): void;
  send(data: string): void;
}

export interface SocketEvents {
  open(): void;
  /** a frame: the conversation changed */
  changed(): void;
  closed(): void;
}

export interface ControllerDeps {
  client: Pick<WidgetClient, "hasSession" | "liveAddress" | "poll" | "send" | "upload" | "checkVisitor" | "requestCode" | "confirmCode" |
    "pastConversations">;
  storage: Storage | null;
  /** where this widget keeps its state in the tab's storage */
  key: string;
  render: (state: WidgetState) => void;
  clock: Clock;
  newId: () => string;
  hidden: () => boolean;
  /** connect to the widget's WebSocket API; absent: the widget polls */
  connect?: (url: string, events: SocketEvents) => LiveSocket;
}

export class WidgetController {
  readonly state: WidgetState;
  private seen: Set<string>;
  private pollTimer: number | null = null;
  private flushTimer: number | null = null;
  private keepaliveTimer: number | null = null;
  private flushing = false;
  private flushAgain = false;
  private pollFailures = 0;
  private movedAt = 0;             // when a message last came or went (the clock's seconds)
  private socket: LiveSocket | null = null;
  private socketFor: string | null = null;   // the conversation the socket hears of
  private socketOpen = false;
  private socketFailures = 0;
  private socketRetryAt = 0;

  constructor(private readonly deps: ControllerDeps) {
    this.state = { open: false, items: [], pending: this.restore<Pending[]>("outbox", []), status: "ok", unread: 0,
                   uploading: null, uploadError: null,
                   email: { step: "none", address: null, error: null, busy: false, past: [] } };
    this.seen = new Set(this.restore<string[]>("seen", []));
  }

  /** On the page's load: a held session of another visitor is dropped with what it held; else the conversation
   * is shown and anything still unsent goes out. */
  async boot(): Promise<void> {
    if (this.deps.client.hasSession) {
      try {
        if (await this.deps.client.checkVisitor()) this.reset();
      } catch {
        // the shop's token address did not answer: keep what is held, the next call will tell
      }
    }
    this.render();
    if (this.state.pending.some((p) => p.state === "sending")) void this.flush();
    else if (this.deps.client.hasSession) void this.poll();
  }

  open(): void {
    this.state.open = true;
    this.markSeen();
    this.render();
    void this.poll();
    if (this.state.email.step === "none") void this.loadPast();
  }

  // ---------------------------------------------------------------- an email address, proven

  askEmail(): void {
    this.setEmail({ step: "address", error: null });
  }

  cancelEmail(): void {
    this.setEmail({ step: "offer", error: null });
  }

  async requestCode(address: string): Promise<void> {
    await this.emailStep(async () => {
      const sent = await this.deps.client.requestCode(address.trim());
      this.setEmail({ step: "code", address: sent.email });
    });
  }

  async confirmCode(code: string): Promise<void> {
    await this.emailStep(async () => {
      await this.deps.client.confirmCode(code.trim());
      this.setEmail({ step: "linked" });
      await this.loadPast();
      void this.poll();                 // the chat may now be the conversation the address's mail is in
    });
  }

  /** The visitor's history once an address of theirs is proven (a signed-in customer's may be already): no address
   * (`email` null) says not yet, so the offer shows. */
  private async loadPast(): Promise<void> {
    try {
      const past = await this.deps.client.pastConversations();
      if (past.email) this.setEmail({ step: "linked", address: past.email, past: past.items });
      else this.setEmail({ step: this.state.email.step === "none" ? "offer" : this.state.email.step });
    } catch (error) {
      if (!(error instanceof WidgetError)) throw error;
    }
  }

  private async emailStep(step: () => Promise<void>): Promise<void> {
    this.setEmail({ busy: true, error: null });
    try {
      await step();
    } catch (error) {
      if (!(error instanceof WidgetError)) throw error;
      this.setEmail({ error: error.message });
    } finally {
      this.setEmail({ busy: false });
    }
  }

  private setEmail(change: Partial<EmailState>): void {
    this.state.email = { ...this.state.email, ...change };
    this.render();
  }

  close(): void {
    this.state.open = false;
    this.render();
    this.schedulePoll();
  }

  /** The tab came back into view: catch up at once. */
  visible(): void {
    if (this.deps.client.hasSession || this.state.open) void this.poll();
  }

  /** The tab went to the background: no socket and no polling until it is back (``visible``). */
  hide(): void {
    this.clearTimer("pollTimer");
    this.hangUp();
  }

  write(text: string, choice?: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    this.queue({ clientId: this.deps.newId(), text: trimmed, choice, attachments: [], state: "sending", attempts: 0 });
  }

  async attach(file: File): Promise<void> {
    this.state.uploading = file.name;
    this.state.uploadError = null;
    this.render();
    try {
      const uploaded = await this.deps.client.upload(file);
      this.queue({ clientId: this.deps.newId(), text: null, attachments: [uploaded], state: "sending", attempts: 0 });
    } catch (error) {
      this.state.uploadError = error instanceof WidgetError && !error.retryable ? error.message : null;
      if (error instanceof WidgetError && error.retryable) this.state.status = "offline";
    } finally {
      this.state.uploading = null;
      this.render();
    }
  }

  retry(clientId: string): void {
    const pending = this.state.pending.find((p) => p.clientId === clientId);
    if (!pending) return;
    Object.assign(pending, { state: "sending", attempts: 0, reason: undefined });
    this.save();
    this.render();
    void this.flush();
  }

  remove(clientId: string): void {
    this.state.pending = this.state.pending.filter((p) => p.clientId !== clientId);
    this.save();
    this.render();
  }

  // ---------------------------------------------------------------- sending, in order

  private queue(pending: Pending): void {
    this.movedAt = this.deps.clock.now();
    this.state.pending.push(pending);
    this.save();
    this.render();
    void this.flush();
  }

  /** Send what waits, oldest first; a failure worth retrying stops the line (so the order holds) and tries
   * again later; a refusal marks that message and the line goes on. */
  private async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;          // written while a send was on its way: the line runs again after it
      return;
    }
    this.flushing = true;
    this.flushAgain = false;
    this.clearTimer("flushTimer");
    try {
      for (const pending of this.state.pending) {
        if (pending.state !== "sending") continue;
        try {
          const sent = await this.deps.client.send(pending);
          Object.assign(pending, { state: "sent", messageId: sent.message_id });
          if (this.state.status !== "unavailable") this.state.status = "ok";
        } catch (error) {
          if (!(error instanceof WidgetError)) throw error;
          if (error.retryable) {
            pending.attempts += 1;
            this.state.status = error.status === 429 ? this.state.status : "offline";
            this.flushTimer = this.deps.clock.set(() => void this.flush(),
                                                  retryDelay(pending.attempts, error.retryAfter));
            break;
          }
          if (error.status === 403) this.state.status = "unavailable";
          Object.assign(pending, { state: "failed", reason: error.message });
        } finally {
          this.save();
          this.render();
        }
      }
    } finally {
      this.flushing = false;
    }
    // a repeat the API had stored already has no id to match: the next listing shows it
    this.state.pending = this.state.pending.filter((p) => !(p.state === "sent" && !p.messageId));
    if (this.flushTimer !== null) return;
    if (this.flushAgain) void this.flush();
    else void this.poll();
  }

  // ---------------------------------------------------------------- the conversation

  /** Polls started so far: only the latest one's answer is shown (a frame can start one while another is on its way,
   * and the older, coming back last, would take away what the newer showed until the next poll). */
  private polls = 0;

  private async poll(): Promise<void> {
    this.clearTimer("pollTimer");
    if (!this.deps.client.hasSession && !this.state.open) return;
    const mine = ++this.polls;
    try {
      const answer = await this.deps.client.poll();
      if (mine !== this.polls) return;            // the newer poll shows, and schedules the next
      const known = new Set(this.state.items.map((i) => i.id));
      if (answer.items.some((i) => !known.has(i.id))) this.movedAt = this.deps.clock.now();
      this.state.items = answer.items;
      this.state.pending = stillPending(answer.items, this.state.pending);
      if (this.state.status === "offline" || this.state.status === "unavailable") this.state.status = "ok";
      this.pollFailures = 0;
      if (this.state.open) this.markSeen();
      this.state.unread = unread(answer.items, this.seen);
      this.save();
      this.listen(answer.conversation_id ?? null);
    } catch (error) {
      if (!(error instanceof WidgetError)) throw error;
      if (mine !== this.polls) return;
      this.pollFailures += 1;
      this.state.status = error.retryable ? "offline" : "unavailable";
    }
    this.render();
    this.schedulePoll();
  }

  private schedulePoll(): void {
    this.clearTimer("pollTimer");
    if (this.deps.hidden()) this.hangUp();
    if (this.deps.hidden() || (!this.deps.client.hasSession && !this.state.open)) return;
    const moving = this.deps.clock.now() - this.movedAt < ACTIVE_S;
    const every = this.socketOpen ? LIVE_POLL_S : !this.state.open ? CLOSED_POLL_S : moving ? ACTIVE_POLL_S : QUIET_POLL_S;
    this.pollTimer = this.deps.clock.set(() => void this.poll(),
                                         Math.max(every, this.pollFailures ? retryDelay(this.pollFailures) : 0));
  }

  // ---------------------------------------------------------------- the socket

  /** Keep a socket for the conversation shown (a new one when it changes), unless the tab is hidden, the API has
   * no socket, or the last tries failed (they are spaced out as polls after failures are). */
  private listen(conversationId: string | null): void {
    const address = this.deps.client.liveAddress;
    if (conversationId === null || address === null || !this.deps.connect || this.deps.hidden()) return;
    if (this.socket !== null && this.socketFor === conversationId) return;
    if (this.deps.clock.now() < this.socketRetryAt) return;
    this.hangUp();
    this.socketFor = conversationId;
    const socket = this.deps.connect(address, {
      open: () => {
        if (this.socket !== socket) return;
        this.socketOpen = true;
        this.socketFailures = 0;
        this.keepAlive(socket);
        void this.poll();              // what moved while it was opening
      },
      changed: () => {
        if (this.socket === socket) void this.poll();
      },
      closed: () => {
        if (this.socket !== socket) return;
        if (!this.socketOpen) this.socketFailures += 1;
        this.clearTimer("keepaliveTimer");
        this.socket = null;
        this.socketFor = null;
        this.socketOpen = false;
        this.socketRetryAt = this.deps.clock.now() + (this.socketFailures ? retryDelay(this.socketFailures) : 0);
        this.schedulePoll();           // polled as without a socket until the next listing connects again
      },
    });
    this.socket = socket;
  }

  /** A keepalive frame every KEEPALIVE_S while this socket is the open one. */
  private keepAlive(socket: LiveSocket): void {
    this.keepaliveTimer = this.deps.clock.set(() => {
      this.keepaliveTimer = null;
      if (this.socket !== socket || !this.socketOpen) return;
      socket.send(KEEPALIVE);
      this.keepAlive(socket);
    }, KEEPALIVE_S);
  }

  private hangUp(): void {
    this.clearTimer("keepaliveTimer");
    const socket = this.socket;
    this.socket = null;
    this.socketFor = null;
    this.socketOpen = false;
    socket?.close();
  }

  private markSeen(): void {
    for (const item of this.state.items) if (item.from === "agent") this.seen.add(item.id);
    this.state.unread = 0;
    this.save();
  }

  private reset(): void {
    this.hangUp();
    this.state.items = [];
    this.state.pending = [];
    this.state.email = { step: "none", address: null, error: null, busy: false, past: [] };
    this.seen = new Set();
    this.save();
  }

  private clearTimer(which: "pollTimer" | "flushTimer" | "keepaliveTimer"): void {
    const handle = this[which];
    if (handle !== null) this.deps.clock.clear(handle);
    this[which] = null;
  }

  private render(): void {
    this.deps.render(this.state);
  }

  // ---------------------------------------------------------------- the tab's storage

  private save(): void {
    this.store("outbox", this.state.pending);
    this.store("seen", [...this.seen].slice(-SEEN_KEPT));
  }

  private restore<T>(name: string, fallback: T): T {
    try {
      return (JSON.parse(this.deps.storage?.getItem(`${this.deps.key}:${name}`) ?? "null") as T | null) ?? fallback;
    } catch {
      return fallback;
    }
  }

  private store(name: string, value: unknown): void {
    try {
      this.deps.storage?.setItem(`${this.deps.key}:${name}`, JSON.stringify(value));
    } catch {
      // storage full or refused (private browsing): the widget still works for this page
    }
  }
}
