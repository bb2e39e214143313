import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Api, type Conversation } from "./api";
import { linkExpiry, Store } from "./store";
import { testConversation } from "./testConversation";

const conv = testConversation;

function fakeApi(over: Partial<Record<keyof Api, unknown>> = {}) {
  const calls: string[] = [];
  const api = {
    conversations: vi.fn(async (q: { view: string; cursor?: string | null; counts?: boolean }) => {
      calls.push(`list ${q.view} ${q.cursor ?? ""}`.trim() + (q.counts ? "+counts" : ""));
      const counts = q.counts ? { mine: 2, unassigned: 0, all: 3 } : null;
      return q.cursor ? { items: [conv("c3")], next_cursor: null, counts } : { items: [conv("c1"), conv("c2")], next_cursor: "n1", counts };
    }),
    conversation: vi.fn(async (id: string) => {
      calls.push(`get ${id}`);
      return conv(id, { messages: [] });
    }),
    counts: vi.fn(async () => {
      calls.push("counts");
      return { views: { mine: 2, unassigned: 0, all: 3 } };
    }),
    me: vi.fn(async () => {
      calls.push("me");
      return { id: "alice", name: "Alice", presence: "online", capacity: 3, active: 2, teams: ["default"] };
    }),
    note: vi.fn(async () => {
      throw new ApiError(404, "conversation c9 does not exist", {});
    }),
    ...over,
  };
  // the opening read (with the side panels, which this store does not show) as the plain read of the conversation
  const opening = { openConversation: (id: string) => (api.conversation as (id: string) => Promise<unknown>)(id), ...over };
  return { api: { ...api, ...opening } as unknown as Api, calls };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("Store", () => {
  it("pages through a view with the API's cursor, without repeating a conversation", async () => {
    const { api, calls } = fakeApi();
    const store = new Store(api);
    await store.loadList();
    await store.loadMore();
    expect(store.state.items.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    expect(store.state.nextCursor).toBeNull();
    expect(calls).toEqual(["list mine", "list mine n1"]);
  });

  it("on change notices refetches, once per burst, what they can have changed and no more", async () => {
    const { api, calls } = fakeApi();
    const store = new Store(api);
    await store.loadList();
    await store.openConversation("c2");
    calls.length = 0;
    const notice = { type: "change" as const, cursor: "x", kind: "message" as const, message_id: "m", at: "" };
    // new messages: the list (previews, order; a page is not loaded yet) and the open conversation, once
    store.applyChange({ ...notice, conversation_id: "c2" });
    store.applyChange({ ...notice, conversation_id: "c1" });
    store.applyChange({ ...notice, conversation_id: "c7" });
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.sort()).toEqual(["get c2", "list mine"]);
    // a delivery receipt: the open conversation alone, and nothing for one not open
    calls.length = 0;
    store.applyChange({ ...notice, kind: "message_update", conversation_id: "c2" });
    store.applyChange({ ...notice, kind: "message_update", conversation_id: "c1" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["get c2"]);
    calls.length = 0;
    store.applyChange({ ...notice, kind: "message_update", conversation_id: "c1" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual([]);
    // a conversation's change (an assignment, say): the list with its counts in one request, and the agent's
    // load as their count moved
    store.applyChange({ ...notice, kind: "conversation", message_id: null, conversation_id: "c1" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.sort()).toEqual(["list mine+counts", "me"]);
    expect(store.state.counts).toEqual({ mine: 2, unassigned: 0, all: 3 });
    calls.length = 0;
    store.applyChange({ ...notice, kind: "conversation", message_id: null, conversation_id: "c7" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["list mine+counts"]);
  });

  it("shows a receipt the notice carries without a refetch, and never moves a status back", async () => {
    const sent = { id: "m1", direction: "outbound", channel: "sms", text: "On its way", status: "sent", attachments: [], created_at: "", attempts: 1, possibly_duplicate: false, sender_unproven: false, stuck: false };
    const { api, calls } = fakeApi({
      conversation: vi.fn(async (id: string) => {
        calls.push(`get ${id}`);
        return conv(id, { messages: [sent] as Conversation["messages"] });
      }),
    });
    const store = new Store(api);
    await store.loadList();
    await store.openConversation("c2");
    calls.length = 0;
    const receipt = { type: "change" as const, cursor: "x", kind: "message_update" as const, conversation_id: "c2", message_id: "m1", at: "" };
    store.applyChange({ ...receipt, status: "read" });
    store.applyChange({ ...receipt, status: "delivered" }); // late, out of order
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual([]);
    expect(store.state.open?.messages?.[0]?.status).toBe("read");
    // an update without a receipt (a send error, say), or of a message not shown yet: the conversation again
    store.applyChange({ ...receipt, status: null });
    await vi.advanceTimersByTimeAsync(200);
    store.applyChange({ ...receipt, message_id: "m9", status: "delivered" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["get c2", "get c2"]);
  });

  it("keeps a receipt shown while a read of the conversation was on its way, which found the message still sent", async () => {
    const sent = { id: "m1", direction: "outbound", channel: "sms", text: "Here is your label", status: "sent", attachments: [], created_at: "", attempts: 1, possibly_duplicate: false, sender_unproven: false, stuck: false };
    let answer!: (c: Conversation) => void;
    const { api } = fakeApi({
      conversation: vi.fn(() => new Promise<Conversation>((resolve) => (answer = resolve))),
      openConversation: vi.fn(async (id: string) => conv(id, { messages: [sent] as Conversation["messages"] })),
    });
    const store = new Store(api);
    await store.openConversation("c2");
    // a read of the conversation starts (another notice), then the delivery receipt arrives and is shown
    const reading = store.refreshOpen();
    store.applyChange({ type: "change", cursor: "x", kind: "message_update", conversation_id: "c2", message_id: "m1", at: "", status: "delivered" });
    expect(store.state.open?.messages?.[0]?.status).toBe("delivered");
    // and the read, made before the receipt, comes back with the message still sent: it is not shown going back
    answer(conv("c2", { messages: [sent, { ...sent, id: "m2", text: "And the invoice" }] as Conversation["messages"] }));
    await reading;
    expect(store.state.open?.messages?.map((m) => [m.id, m.status])).toEqual([["m1", "delivered"], ["m2", "sent"]]);
  });

  it("shows the newer of two reads of the open conversation, whichever comes back last", async () => {
    const answers: ((c: Conversation) => void)[] = [];
    const { api } = fakeApi({
      conversation: vi.fn(() => new Promise<Conversation>((resolve) => answers.push(resolve))),
      openConversation: vi.fn(async (id: string) => conv(id, { status: "open" })),
    });
    const store = new Store(api);
    await store.openConversation("c2");
    const older = store.refreshOpen();
    const newer = store.refreshOpen(); // a second notice: the conversation was marked pending meanwhile
    answers[1]!(conv("c2", { status: "pending" }));
    await newer;
    answers[0]!(conv("c2", { status: "open" })); // the older read, slow, comes back last
    await older;
    expect(store.state.open?.status).toBe("pending");
  });

  it("shows the newer of two background refreshes of the list, whichever comes back last", async () => {
    const answers: ((page: unknown) => void)[] = [];
    const { api } = fakeApi();
    const store = new Store(api);
    await store.loadList();
    (api.conversations as unknown as { mockImplementation: (f: () => Promise<unknown>) => void }).mockImplementation(
      () => new Promise((resolve) => answers.push(resolve)),
    );
    const notice = { type: "change" as const, cursor: "x", kind: "conversation" as const, conversation_id: "c1", message_id: null, at: "" };
    store.applyChange(notice);
    await vi.advanceTimersByTimeAsync(200); // the first refresh is on its way
    store.applyChange(notice);
    await vi.advanceTimersByTimeAsync(200); // and the second
    answers[1]!({ items: [conv("c1", { status: "pending" })], next_cursor: null, counts: { mine: 1, unassigned: 0, all: 1 } });
    await vi.advanceTimersByTimeAsync(0);
    answers[0]!({ items: [conv("c1", { status: "open" }), conv("c2")], next_cursor: null, counts: { mine: 2, unassigned: 0, all: 2 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.items.map((c) => [c.id, c.status])).toEqual([["c1", "pending"]]);
    expect(store.state.counts.mine).toBe(1);
  });

  it("opening the conversation already shown reads it without its panels (they are shown and do not mount again)", async () => {
    const { api, calls } = fakeApi({
      openConversation: vi.fn(async (id: string) => {
        calls.push(`open ${id}`);
        return conv(id, { messages: [] });
      }),
    });
    const store = new Store(api);
    await store.loadList();
    calls.length = 0;
    await store.openConversation("c2");
    await store.openConversation("c2");
    await store.openConversation("c1");
    expect(calls).toEqual(["open c2", "get c2", "open c1"]);
  });

  it("once the whole list is loaded, a new message elsewhere refetches nothing", async () => {
    const { api, calls } = fakeApi();
    const store = new Store(api);
    await store.loadList();
    await store.loadMore();
    calls.length = 0;
    const notice = { type: "change" as const, cursor: "x", kind: "message" as const, message_id: "m", at: "" };
    store.applyChange({ ...notice, conversation_id: "c9" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual([]);
    store.applyChange({ ...notice, conversation_id: "c3" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["list mine"]);
  });

  it("shows what the agent's own action returned at once, and leaves the rest to its notice while live", async () => {
    const written = { id: "m5", direction: "outbound", channel: "sms", text: "On its way", status: "queued", attachments: [], created_at: "", attempts: 0, possibly_duplicate: false, sender_unproven: false, stuck: false };
    const { api, calls } = fakeApi({
      reply: vi.fn(async () => {
        calls.push("reply");
        return written;
      }),
      setStatus: vi.fn(async (id: string) => {
        calls.push("status");
        return conv(id, { status: "resolved" });
      }),
    });
    const store = new Store(api);
    await store.loadList();
    await store.openConversation("c2");
    store.set({ live: "live" });
    calls.length = 0;
    // a reply: the message under the open conversation, with no refetch
    expect(await store.reply("c2", "On its way", undefined, "Sent")).toBe(true);
    expect(calls).toEqual(["reply"]);
    expect(store.state.open?.messages?.map((m) => m.id)).toEqual(["m5"]);
    // its notice refetches the list and the open conversation (the order, the previews, what the server holds)
    store.applyChange({ type: "change", cursor: "x", kind: "message", message_id: "m5", conversation_id: "c2", at: "" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.sort()).toEqual(["get c2", "list mine", "reply"]);
    // a status change: the conversation as the API answered it, open and in the list, with no refetch
    calls.length = 0;
    expect(await store.setStatus("c2", "resolved", "Resolved")).toBe(true);
    expect(calls).toEqual(["status"]);
    expect(store.state.open?.status).toBe("resolved");
    expect(store.state.items.find((c) => c.id === "c2")?.status).toBe("resolved");
    // without a socket no notice is coming: the open conversation and the list are refetched now
    store.set({ live: "offline" });
    calls.length = 0;
    await store.reply("c2", "Hello?", undefined, "Sent");
    expect(calls.sort()).toEqual(["get c2", "list mine", "reply"]);
  });

  it("shows the API's words when an action fails", async () => {
    const { api } = fakeApi();
    const store = new Store(api, { error: (d) => `Something went wrong: ${d}` });
    const ok = await store.note("c9", "hello", "Note added");
    expect(ok).toBe(false);
    expect(store.state.toast?.text).toBe("Something went wrong: conversation c9 does not exist");
  });

  it("closes the open conversation when its notice finds it gone (its customer erased), and says so", async () => {
    let erased = false;
    const { api, calls } = fakeApi({
      conversation: vi.fn(async (id: string) => {
        calls.push(`get ${id}`);
        if (erased && id === "c2") throw new ApiError(404, "conversation c2 does not exist", {});
        return conv(id, { messages: [] });
      }),
    });
    const store = new Store(api, { error: (d) => `Something went wrong: ${d}`, gone: () => "It is no longer there." });
    await store.loadList();
    await store.openConversation("c2");
    store.drafts.set("c2", { text: "Dear Gisela, your address Keizersgracht 1 …", note: "", files: [] });
    expect(store.state.open?.id).toBe("c2");
    // When the erase's notice comes and the conversation's read answers 404
    erased = true;
    store.applyChange({ type: "change", cursor: "x", kind: "conversation", message_id: null, conversation_id: "c2", at: "" });
    await vi.advanceTimersByTimeAsync(200);
    // Then it is closed and out of the list (its words off the screen), the agent told why, in words
    expect(store.state.open).toBeNull();
    expect(store.state.openId).toBeNull();
    expect(store.state.gone).toBe("c2");
    expect(store.state.items.map((c) => c.id)).not.toContain("c2");
    expect(store.state.toast?.text).toBe("It is no longer there.");
    expect(store.drafts.get("c2")).toBeUndefined(); // the unsent reply to it goes too
    // and opening another one is as before
    await store.openConversation("c1");
    expect(store.state.open?.id).toBe("c1");
    expect(store.state.gone).toBeNull();
  });

  it("says a list that failed to load is not loaded (never empty), keeps what it showed, and reads it again", async () => {
    let down = 0; // how many list reads fail from now on
    const { api, calls } = fakeApi({
      conversations: vi.fn(async (q: { view: string }) => {
        calls.push(`list ${q.view}`);
        if (down > 0) {
          down -= 1;
          throw new ApiError(503, "Busy for a moment: nothing was changed, retry", {});
        }
        return { items: q.view === "mine" ? [conv("c1"), conv("c2")] : [conv("c1"), conv("c2"), conv("c3")], next_cursor: null };
      }),
    });
    const store = new Store(api, { error: (d) => `Something went wrong: ${d}` });
    vi.spyOn(Math, "random").mockReturnValue(0); // backoff of 1 s, 2 s, 4 s …
    await store.loadList();
    expect(store.state.listFailed).toBe(false);
    // Given three reads that fail: the view changes, and its list cannot be read
    down = 3;
    store.setView("all");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.listFailed).toBe(true);
    expect(store.state.loading).toBe(false);
    expect(store.state.toast?.text).toContain("Busy for a moment"); // said once, not at every retry
    const toast = store.state.toast?.id;
    // Then it is read again by itself, 1 s then 2 s later (both fail), and the third time after 4 s shows it
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(["list all"]);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(calls).toEqual(["list all"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(["list all", "list all"]);
    expect(store.state.toast?.id).toBe(toast);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(store.state.listFailed).toBe(false);
    expect(store.state.items.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    // and no more reads after that
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
    store.retryList(); // (the tab shown again, the socket open: only after a failure)
    expect(calls).toEqual([]);

    // A refresh failing keeps the list shown; a failed read is retried at once on a notice (or the socket opening)
    down = 1;
    store.setFilters({ status: "open" });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.listFailed).toBe(true);
    expect(store.state.items.map((c) => c.id)).toEqual(["c1", "c2", "c3"]); // what was shown stays
    calls.length = 0;
    store.applyChange({ type: "change", cursor: "x", kind: "message", message_id: "m", conversation_id: "c9", at: "" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(["list all"]);
    expect(store.state.listFailed).toBe(false);
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]); // the backoff's read was called off
    vi.mocked(Math.random).mockRestore();
  });

  it("reads a refused list again only when asked: a 403 or a 400 is said and not retried, a 429 is", async () => {
    let answer: ApiError | null = null; // what list reads meet from now on
    const { api, calls } = fakeApi({
      conversations: vi.fn(async (q: { view: string }) => {
        calls.push(`list ${q.view}`);
        if (answer) throw answer;
        return { items: [conv("c1")], next_cursor: null };
      }),
    });
    const store = new Store(api, { error: (d) => `Something went wrong: ${d}`, problem: (e) => `Refused: ${(e as Error).message}` });
    vi.spyOn(Math, "random").mockReturnValue(0); // backoff of 1 s, 2 s, 4 s …
    await store.loadList();
    // Given the agent left team t1: its queue's read is refused
    answer = new ApiError(403, "not a member of team t1", {});
    store.setView("unassigned");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.listFailed).toBe(true);
    expect(store.state.listRefused).toBe("Refused: not a member of team t1");
    expect(store.state.toast?.text).toBe("Refused: not a member of team t1");
    // Then nothing reads it again by itself: no backoff, no notice, no tab shown again
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(120_000);
    store.applyChange({ type: "change", cursor: "x", kind: "message", message_id: "m", conversation_id: "c9", at: "" });
    await vi.advanceTimersByTimeAsync(200);
    store.retryList();
    expect(calls).toEqual([]);
    // but Try now does; a 400 is not retried either
    answer = new ApiError(400, "bad filter", {});
    store.retryList(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual(["list unassigned"]);
    expect(store.state.listRefused).toBe("Refused: bad filter");
    // A 429 (and a 5xx, or no answer) is read again after 1 s, and shown when it answers
    answer = new ApiError(429, "slow down", {});
    store.retryList(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.state.listRefused).toBe(null);
    calls.length = 0;
    answer = null;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(["list unassigned"]);
    expect(store.state.listFailed).toBe(false);
    vi.mocked(Math.random).mockRestore();
  });

  it("reads the open conversation again before its attachment links expire, and only then", async () => {
    // links signed as S3 signs them: at the read, for 300 s
    const signed = (at: Date) => {
      const amz = at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
      return `https://files.example.com/a/invoice.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${amz}&X-Amz-Expires=300&X-Amz-Signature=x`;
    };
    vi.setSystemTime(new Date("2026-12-07T05:00:33Z"));
    expect(linkExpiry(signed(new Date()))).toBe(Date.parse("2026-12-07T05:05:33Z"));
    const withFile = (id: string) => {
      const file = { url: signed(new Date()), content_type: "text/plain", filename: "invoice.txt" };
      const message = { id: "m1", direction: "outbound", channel: "sms", text: "Your invoice", status: "sent", attachments: [file],
                        created_at: "", attempts: 1, possibly_duplicate: false, sender_unproven: false, stuck: false };
      return conv(id, { messages: id === "c2" ? [message] : [] } as Partial<Conversation>);
    };
    const { api, calls } = fakeApi({
      conversation: vi.fn(async (id: string) => {
        calls.push(`get ${id}`);
        return withFile(id);
      }),
    });
    const store = new Store(api);
    await store.openConversation("c2");
    const first = store.state.open?.messages?.[0]?.attachments[0]?.url;
    calls.length = 0;
    // 30 s before the link expires (not before), one read of the conversation: new links shown
    await vi.advanceTimersByTimeAsync(269_000);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(["get c2"]);
    expect(store.state.open?.messages?.[0]?.attachments[0]?.url).not.toBe(first);
    // and again for those, 270 s later
    await vi.advanceTimersByTimeAsync(270_000);
    expect(calls).toEqual(["get c2", "get c2"]);
    // a conversation without links, or none open, costs nothing
    await store.openConversation("c1");
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toEqual(["get c2", "get c2", "get c1"]);
    await store.openConversation("c2");
    await store.openConversation(null);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toEqual(["get c2", "get c2", "get c1", "get c2"]);
  });

  it("says an opened conversation that failed to load is not loaded (never Loading… for good), and reads it again", async () => {
    let down = 0; // how many reads of the conversation fail from now on
    const { api, calls } = fakeApi({
      conversation: vi.fn(async (id: string) => {
        calls.push(`get ${id}`);
        if (down > 0) {
          down -= 1;
          throw new ApiError(503, "busy for a moment: nothing was read; try again", { code: "store_busy" });
        }
        return conv(id, { messages: [] });
      }),
    });
    const store = new Store(api, { error: (d) => `Something went wrong: ${d}` });
    vi.spyOn(Math, "random").mockReturnValue(0); // backoff of 1 s, 2 s, 4 s …
    await store.loadList();
    // Given three reads that fail: the agent opens c2 (/c/c2) and it cannot be read
    down = 3;
    calls.length = 0;
    await store.openConversation("c2");
    expect(calls).toEqual(["get c2"]);
    expect(store.state.open).toBeNull();
    expect(store.state.openFailed).toBe(true);
    expect(store.state.openId).toBe("c2"); // still the one open (not closed, as a 404 is)
    expect(store.state.toast?.text).toContain("busy for a moment"); // said once, not at every retry
    const toast = store.state.toast?.id;
    // Then it is read again by itself, 1 s then 2 s later (both fail), and the third time after 4 s shows it
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(["get c2"]);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(calls).toEqual(["get c2"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(["get c2", "get c2"]);
    expect(store.state.toast?.id).toBe(toast);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(store.state.openFailed).toBe(false);
    expect(store.state.open?.id).toBe("c2");
    // and no more reads after that, nor on the tab shown again or the socket open
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    store.retryOpen();
    expect(calls).toEqual([]);

    // A refresh that fails keeps what is shown (said to be out of date); a notice of any conversation reads it at once
    down = 1;
    await store.refreshOpen();
    expect(store.state.openFailed).toBe(true);
    expect(store.state.open?.id).toBe("c2");
    calls.length = 0;
    store.applyChange({ type: "change", cursor: "x", kind: "message", message_id: "m", conversation_id: "c9", at: "" });
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.filter((c) => c.startsWith("get"))).toEqual(["get c2"]);
    expect(store.state.openFailed).toBe(false);
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]); // the backoff's read was called off

    // The tab shown again (or the socket open) reads a failed one at once; opening another calls its retry off
    down = 1;
    await store.refreshOpen();
    calls.length = 0;
    store.retryOpen();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["get c2"]);
    expect(store.state.openFailed).toBe(false);
    down = 1;
    await store.openConversation("c3");
    expect(store.state.openFailed).toBe(true);
    down = 0;
    await store.openConversation("c1");
    expect(store.state.openFailed).toBe(false);
    calls.length = 0;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
    vi.mocked(Math.random).mockRestore();
  });

  it("moves the keyboard cursor within the list", async () => {
    const { api } = fakeApi();
    const store = new Store(api);
    await store.loadList();
    store.move(1);
    store.move(1);
    expect(store.state.selected).toBe(1);
    store.move(-5);
    expect(store.state.selected).toBe(0);
  });
});
