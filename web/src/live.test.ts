import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Change, type ChangePage } from "./api";
import { backoffDelay, Live, type LiveState, type SocketLike } from "./live";

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  // the server's side
  open() {
    this.onopen?.({});
  }
  push(frame: unknown) {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
  drop() {
    this.onclose?.({});
  }
}

const change = (cursor: string, conversation_id = "c_1", kind: Change["kind"] = "message"): Change => ({
  type: "change",
  cursor,
  conversation_id,
  kind,
  message_id: kind === "message" ? "m_1" : null,
  at: "2026-12-03T10:00:00Z",
});

function setup(
  pages: Record<string, ChangePage | ApiError>,
  wsUrl: string | null = "ws://live.example/ws",
  token: () => Promise<string | null> = async () => "tok.en",
) {
  const sockets: FakeSocket[] = [];
  const seen: Change[] = [];
  const states: LiveState[] = [];
  const asked: (string | null | undefined)[] = [];
  const order: string[] = []; // the changes asked for and the first load, in order
  let reloads = 0;
  const live = new Live({
    wsUrl,
    token,
    changes: async (since) => {
      asked.push(since);
      order.push(`changes since ${since ?? "-"}`);
      const answer = pages[since ?? ""];
      if (answer instanceof ApiError) throw answer;
      if (!answer) throw new Error(`unexpected since=${since}`);
      return answer;
    },
    onChange: (c) => seen.push(c),
    onReload: () => reloads++,
    onStart: () => order.push("first load"),
    onState: (s) => states.push(s),
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: (attempt) => 1000 * (attempt + 1),
    pollMs: 3000,
  });
  return { live, sockets, seen, states, asked, order, reloads: () => reloads };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("Live", () => {
  it("connects with the token after taking its position, and applies pushed notices", async () => {
    const t = setup({ "": { items: [], cursor: "p0", more: false }, p0: { items: [], cursor: "p0", more: false } });
    await t.live.start();
    expect(t.asked).toEqual([null]);
    expect(t.sockets).toHaveLength(1);
    expect(t.sockets[0]!.url).toBe("ws://live.example/ws?token=tok.en");
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.states.at(-1)).toBe("live");
    t.sockets[0]!.push(change("p1"));
    t.sockets[0]!.push({ type: "pong" });
    t.sockets[0]!.push("not json");
    expect(t.seen.map((c) => c.cursor)).toEqual(["p1"]);
    expect(t.live.position).toBe("p1");
    expect(t.reloads()).toBe(0);
  });

  it("takes its position before the first load, and catches up from it when the socket first opens", async () => {
    // the first load and the socket's opening are apart (a cold start takes seconds): a conversation assigned
    // in between is in no list the inbox loaded and in no frame the socket pushed, only in this catch-up
    const t = setup({
      "": { items: [], cursor: "p0", more: false },
      p0: { items: [change("p1", "c_9", "conversation")], cursor: "p1", more: false },
    });
    await t.live.start();
    expect(t.order).toEqual(["changes since -", "first load"]);
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.order).toEqual(["changes since -", "first load", "changes since p0"]);
    expect(t.seen.map((c) => c.conversation_id)).toEqual(["c_9"]);
    expect(t.live.position).toBe("p1");
    expect(t.reloads()).toBe(0);
  });

  it("reconnects with backoff after a drop and catches up from the last cursor, page by page", async () => {
    const t = setup({
      "": { items: [], cursor: "p0", more: false },
      p0: { items: [], cursor: "p0", more: false },
      p1: { items: [change("p2", "c_2"), change("p3", "c_3")], cursor: "p3", more: true },
      p3: { items: [change("p4", "c_4", "conversation")], cursor: "p4", more: false },
    });
    await t.live.start();
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(0); // the first open's catch-up: nothing since p0
    t.sockets[0]!.push(change("p1"));
    t.sockets[0]!.drop();
    expect(t.states.at(-1)).toBe("offline");
    await vi.advanceTimersByTimeAsync(999);
    expect(t.sockets).toHaveLength(1); // still waiting out the backoff
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sockets).toHaveLength(2);
    t.sockets[1]!.open();
    await vi.runOnlyPendingTimersAsync();
    expect(t.asked).toEqual([null, "p0", "p1", "p3"]);
    expect(t.seen.map((c) => c.conversation_id)).toEqual(["c_1", "c_2", "c_3", "c_4"]);
    expect(t.live.position).toBe("p4");
  });

  it("asks for the token again each time it connects: a socket the desk closes at its token's expiry reopens with a fresh one", async () => {
    // the desk closes a socket once the ID token it connected with expires (its roles are that token's); the token
    // the inbox connects with next is the one Auth holds then, refreshed before it expires
    const tokens = ["first", "fresh"];
    const t = setup({ "": { items: [], cursor: "p0", more: false }, p0: { items: [], cursor: "p0", more: false } },
      "ws://live.example/ws", async () => tokens.shift() ?? null);
    await t.live.start();
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(0);
    t.sockets[0]!.drop(); // DeleteConnection: the desk closed it
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sockets.map((s) => s.url)).toEqual(["ws://live.example/ws?token=first", "ws://live.example/ws?token=fresh"]);
  });

  it("backs off longer after each failed attempt and resets once connected", async () => {
    const t = setup({ "": { items: [], cursor: "p0", more: false }, p0: { items: [], cursor: "p0", more: false } });
    await t.live.start();
    t.sockets[0]!.drop(); // never opened
    await vi.advanceTimersByTimeAsync(1000);
    t.sockets[1]!.drop();
    await vi.advanceTimersByTimeAsync(1999);
    expect(t.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sockets).toHaveLength(3);
    t.sockets[2]!.open();
    t.sockets[2]!.drop();
    await vi.advanceTimersByTimeAsync(1000); // back to the first delay
    expect(t.sockets).toHaveLength(4);
  });

  it("reloads everything when the cursor is too old (400) and takes a fresh position", async () => {
    const t = setup({
      "": { items: [], cursor: "p0", more: false },
      p0: new ApiError(400, "cursor too old", {}),
    });
    await t.live.start();
    t.sockets[0]!.open(); // its catch-up from p0 is refused: reload everything, take a fresh position
    await vi.runOnlyPendingTimersAsync();
    expect(t.reloads()).toBe(1);
    expect(t.asked).toEqual([null, "p0", null]);
    expect(t.live.position).toBe("p0");
  });

  it("sends a ping every few minutes while connected", async () => {
    const t = setup({ "": { items: [], cursor: "p0", more: false } });
    await t.live.start();
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(300_000);
    expect(t.sockets[0]!.sent).toEqual([JSON.stringify({ type: "ping" })]);
  });

  it("stops: closes the socket and never reconnects", async () => {
    const t = setup({ "": { items: [], cursor: "p0", more: false } });
    await t.live.start();
    t.sockets[0]!.open();
    t.live.stop();
    expect(t.sockets[0]!.closed).toBe(true);
    t.sockets[0]!.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.sockets).toHaveLength(1);
  });

  it("polls (refetches) every few seconds while there is no WebSocket URL", async () => {
    const t = setup({}, null);
    await t.live.start();
    expect(t.order).toEqual(["first load"]);
    expect(t.states).toEqual(["polling"]);
    expect(t.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(t.reloads()).toBe(3);
    t.live.stop();
    await vi.advanceTimersByTimeAsync(9_000);
    expect(t.reloads()).toBe(3);
  });

  it("refreshes by polling while the socket is down, and stops once it is open again", async () => {
    const t = setup({ "": { items: [], cursor: "p0", more: false }, p0: { items: [], cursor: "p0", more: false } });
    t.live.start();
    await vi.advanceTimersByTimeAsync(0);
    t.sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.reloads()).toBe(0); // live: no polling
    t.sockets[0]!.drop();
    await vi.advanceTimersByTimeAsync(1000);
    t.sockets[1]!.drop(); // the server refuses for a while (backoff 2 s, then 3 s)
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.reloads()).toBe(1); // one poll 3 s after the drop
    t.sockets[2]!.open();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.reloads()).toBe(1);
    expect(t.asked).toEqual([null, "p0", "p0"]); // the first open's catch-up, and the one after the drop
    expect(t.states.at(-1)).toBe("live");
  });

  it("without a starting position (changes unavailable) reloads everything once connected", async () => {
    const t = setup({ "": new ApiError(404, "Not Found", {}) });
    await t.live.start();
    t.sockets[0]!.open();
    await vi.runOnlyPendingTimersAsync();
    expect(t.reloads()).toBe(1);
  });
});

describe("backoffDelay", () => {
  it("doubles from one second up to thirty, with bounded jitter", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(0, () => 0.999)).toBeLessThanOrEqual(1200);
  });
});
