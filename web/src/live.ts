// Live updates (the contract with the live-update backend): a WebSocket that pushes change notices,
// reconnected with backoff whenever it closes, and a catch-up through GET /agent/changes?since= each time it
// opens, so nothing is missed. The first position is taken before the inbox loads what it shows (`onStart`):
// whatever changes after that load, and before the socket is open, is in the first catch-up. Notices only
// say what changed; the store refetches what it shows.
// The app polls (refetches what it shows every few seconds) only while there is no WebSocket URL (config
// wsUrl null) or the socket is down; once it is open again the catch-up closes the gap and polling stops.
import { ApiError, type Change, type ChangePage } from "./api";

export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

export type LiveState = "connecting" | "live" | "polling" | "offline";

export interface LiveOptions {
  wsUrl: string | null;
  token: () => Promise<string | null>;
  changes: (since?: string | null) => Promise<ChangePage>;
  onChange: (change: Change) => void;
  /** Refetch everything shown (a gap that cannot be caught up, or a poll). */
  onReload: () => void;
  /** Load what is shown for the first time: called once, after the position is taken and before the socket
   * opens (a load started earlier could miss a change made before the position). */
  onStart?: () => void;
  onState?: (state: LiveState) => void;
  socket?: (url: string) => SocketLike;
  pollMs?: number;
  pingMs?: number;
  backoff?: (attempt: number) => number;
}

/** 1 s, 2 s, 4 s … up to 30 s, with up to 20% jitter so a fleet of browsers does not reconnect at once. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (1 + 0.2 * random()));
}

export function isChange(frame: unknown): frame is Change {
  if (!frame || typeof frame !== "object") return false;
  const f = frame as Record<string, unknown>;
  return f.type === "change" && typeof f.cursor === "string" && typeof f.conversation_id === "string";
}

export class Live {
  private cursor: string | null = null;
  private ws: SocketLike | null = null;
  private attempt = 0;
  private stopped = true;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private ping: ReturnType<typeof setInterval> | null = null;
  private polling: ReturnType<typeof setTimeout> | null = null;
  private catchingUp: Promise<void> | null = null;
  state: LiveState = "connecting";

  constructor(private readonly o: LiveOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    if (!this.o.wsUrl) {
      this.o.onStart?.();
      this.setState("polling");
      this.poll();
      return;
    }
    try {
      this.cursor = (await this.o.changes(null)).cursor; // our position before the first load and the socket
    } catch {
      this.cursor = null; // the first open then reloads everything
    }
    if (this.stopped) return;
    this.o.onStart?.();
    await this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    this.polling = null;
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }

  get position(): string | null {
    return this.cursor;
  }

  private setState(state: LiveState): void {
    this.state = state;
    this.o.onState?.(state);
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private poll(): void {
    if (this.polling !== null) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.polling = null;
      if (this.stopped || this.state === "live") return;
      this.o.onReload();
      this.poll();
    }, this.o.pollMs ?? 4_000);
    this.polling = t;
    this.timers.add(t);
  }

  private stopPolling(): void {
    if (this.polling === null) return;
    clearTimeout(this.polling);
    this.timers.delete(this.polling);
    this.polling = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState("connecting");
    const token = await this.o.token();
    if (this.stopped) return;
    const url = `${this.o.wsUrl}${this.o.wsUrl!.includes("?") ? "&" : "?"}token=${encodeURIComponent(token ?? "")}`;
    const make = this.o.socket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
    let ws: SocketLike;
    try {
      ws = make(url);
    } catch {
      this.reconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.stopPolling();
      this.setState("live");
      if (this.ping) clearInterval(this.ping);
      this.ping = setInterval(() => this.ws?.send(JSON.stringify({ type: "ping" })), this.o.pingMs ?? 300_000);
      void this.catchUp(); // what changed since the position: before the first open too
    };
    ws.onmessage = (ev) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (!isChange(frame)) return; // pong and anything newer than this client
      this.cursor = frame.cursor;
      this.o.onChange(frame);
    };
    ws.onerror = () => {}; // a close follows
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.ping) clearInterval(this.ping);
      this.ping = null;
      if (!this.stopped) this.reconnect();
    };
  }

  private reconnect(): void {
    this.setState("offline");
    this.poll(); // while the socket is down; stops when it opens again
    const delay = (this.o.backoff ?? backoffDelay)(this.attempt);
    this.attempt += 1;
    this.later(() => void this.connect(), delay);
  }

  /** Apply every notice since the last cursor; a gap we cannot close (400, no cursor) reloads everything. */
  catchUp(): Promise<void> {
    this.catchingUp ??= this.doCatchUp().finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  private async doCatchUp(): Promise<void> {
    if (this.cursor === null) {
      this.o.onReload();
      try {
        this.cursor = (await this.o.changes(null)).cursor;
      } catch {
        /* the next reconnect tries again */
      }
      return;
    }
    try {
      for (let pages = 0; pages < 50; pages++) {
        const page = await this.o.changes(this.cursor);
        page.items.forEach((c) => this.o.onChange(c));
        this.cursor = page.cursor;
        if (!page.more) return;
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        this.cursor = null; // older than the retention, or not ours: start over
        await this.doCatchUp();
      }
    }
  }
}
