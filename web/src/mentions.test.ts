import { describe, expect, it, vi } from "vitest";
import type { Api, Change } from "./api";
import { Store } from "./store";

const change = (kind: Change["kind"], id = "c1"): Change => ({
  type: "change",
  cursor: "x",
  conversation_id: id,
  kind,
  message_id: null,
  at: "2026-12-03T09:00:00Z",
});

describe("live notices", () => {
  it("tell every listener (the board) of each notice, until it stops listening", () => {
    const api = { conversations: vi.fn(async () => ({ items: [], next_cursor: null })), counts: vi.fn(async () => ({ views: {} })), me: vi.fn(async () => null) };
    const store = new Store(api as unknown as Api);
    const seen: string[] = [];
    const stop = store.onChange((c) => seen.push(c.kind));
    store.applyChange(change("mention"));
    store.applyChange(change("conversation"));
    stop();
    store.applyChange(change("message"));
    expect(seen).toEqual(["mention", "conversation"]);
  });

  it("refetch the counts after a mention notice, so the mentions badge lights up", async () => {
    vi.useFakeTimers();
    try {
      let unread = 0;
      const views = () => ({ mine: 0, unassigned: 0, all: 0, mentions: unread });
      const api = {
        // the notice's refetch asks the list for its counts in the same request
        conversations: vi.fn(async (q: { counts?: boolean }) => ({ items: [], next_cursor: null, counts: q.counts ? views() : null })),
        counts: vi.fn(async () => ({ views: views() })),
        me: vi.fn(async () => null),
      };
      const store = new Store(api as unknown as Api);
      await store.loadCounts();
      expect(store.state.counts.mentions).toBe(0);
      unread = 1;
      store.applyChange(change("mention"));
      await vi.advanceTimersByTimeAsync(200);
      expect(store.state.counts.mentions).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
