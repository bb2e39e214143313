import { describe, expect, it, vi } from "vitest";
import type { ApplyOut, Conversation, Label } from "./api";
import { addable, chipColors, labelsOf, refusals, stillShown, toggled } from "./labels";
import { Store } from "./store";

const label = (id: string, name: string, retired = false): Label => ({ id, name, color: "#2f80ed", retired, version: 1 });

describe("labels", () => {
  it("chips read well on light and dark colours", () => {
    expect(chipColors("#FFFF00")).toEqual({ background: "#ffff00", color: "#000000" });
    expect(chipColors("#1a1a6e")).toEqual({ background: "#1a1a6e", color: "#ffffff" });
    expect(chipColors("not a colour").background).toBe("#999999");
  });

  it("offers only unretired labels to add, by name", () => {
    expect(addable([label("vip", "VIP"), label("old", "Old", true), label("ship", "Shipping")]).map((l) => l.id)).toEqual([
      "ship",
      "vip",
    ]);
  });

  it("reads a conversation's labels, none when the answer has none", () => {
    expect(labelsOf({ id: "c1", labels: ["vip"] } as unknown as Conversation)).toEqual(["vip"]);
    expect(labelsOf({ id: "c1" } as unknown as Conversation)).toEqual([]);
  });
});

describe("labels made in another session", () => {
  it("are read again when a conversation shows one the inbox does not know, once each", async () => {
    const conv = (id: string, labels: string[]) =>
      ({ id, status: "open", priority: "normal", team: "default", assignee: "alice", customer: { id: "cu", name: id },
        channel: "sms", sla: { breaches: [], paused: false }, created_at: "2026-12-03T09:00:00Z",
        updated_at: "2026-12-03T09:00:00Z", message_count: 1, messages: [], labels }) as unknown as Conversation;
    let shop = [label("vip", "VIP")];
    let listed = [conv("c1", ["vip"])];
    const api = {
      labels: vi.fn(async () => ({ items: shop })),
      macros: vi.fn(async () => ({ items: [] })),
      conversations: vi.fn(async () => ({ items: listed, next_cursor: null })),
    };
    const store = new Store(api as never);
    await store.loadTools();
    await store.loadList();
    expect(api.labels).toHaveBeenCalledTimes(1); // every label known: nothing more to read
    // an admin makes "returns" and puts it on c2, which the list then shows
    shop = [...shop, label("returns", "Returns")];
    listed = [conv("c1", ["vip"]), conv("c2", ["returns", "ghost"])];
    await store.loadList();
    await vi.waitFor(() => expect(store.state.labels.map((l) => l.id)).toEqual(["vip", "returns"]));
    expect(api.labels).toHaveBeenCalledTimes(2);
    await store.loadList(); // "ghost" is still unknown: it was asked for already
    expect(api.labels).toHaveBeenCalledTimes(2);
  });
});

describe("selection and results", () => {
  it("toggles and keeps only what the list still shows", () => {
    expect(toggled(["a"], "b")).toEqual(["a", "b"]);
    expect(toggled(["a", "b"], "a")).toEqual(["b"]);
    expect(stillShown(["a", "b", "c"], [{ id: "c" }, { id: "a" }] as Conversation[])).toEqual(["a", "c"]);
  });

  it("lists the refused conversations with their problem", () => {
    const out: ApplyOut = {
      macro_id: "m",
      name: "M",
      applied: 1,
      refused: 1,
      results: [
        { conversation_id: "c1", result: "applied" },
        {
          conversation_id: "c2",
          result: "refused",
          problem: { type: "/problems/conflict", title: "Conflict", status: 409, detail: "agent bob has no room" },
        },
      ],
    };
    expect(refusals(out)).toEqual([{ id: "c2", detail: "agent bob has no room" }]);
  });
});

describe("the store's label filter and macro selection", () => {
  it("asks the API for a label's conversations and keeps refused ones selected after a macro", async () => {
    const asked: (string | undefined)[] = [];
    const conv = (id: string, labels: string[] = []) =>
      ({ id, status: "open", priority: "normal", team: "default", assignee: "alice", customer: { id: "cu", name: id },
        channel: "sms", sla: { breaches: [], paused: false }, created_at: "2026-12-03T09:00:00Z",
        updated_at: "2026-12-03T09:00:00Z", message_count: 1, messages: [], labels }) as unknown as Conversation;
    const api = {
      conversations: vi.fn(async (q: { label?: string }) => {
        asked.push(q.label);
        return { items: q.label ? [conv("c1", ["vip"])] : [conv("c1", ["vip"]), conv("c2"), conv("c3")], next_cursor: null };
      }),
      counts: vi.fn(async () => ({ views: {} })),
      conversation: vi.fn(async (id: string) => conv(id)),
      me: vi.fn(async () => ({ id: "alice", name: "Alice", presence: "online", capacity: 3, active: 0, teams: ["default"] })),
      applyMacro: vi.fn(async (_m: string, ids: string[]): Promise<ApplyOut> => ({
        macro_id: "m", name: "M", applied: ids.length - 1, refused: 1,
        results: ids.map((id) => id === "c3"
          ? { conversation_id: id, result: "refused" as const, problem: { type: "t", title: "Conflict", status: 409, detail: "no" } }
          : { conversation_id: id, result: "applied" as const }),
      })),
    };
    const store = new Store(api as never);
    await store.loadList();
    store.togglePick("c2");
    store.togglePick("c3");
    const out = await store.applyMacro("m", store.state.picked);
    expect(out?.refused).toBe(1);
    expect(store.state.picked).toEqual(["c3"]);           // what was refused stays selected, to try again
    expect(store.state.applied?.results).toHaveLength(2);
    store.setFilters({ label: "vip" });
    await vi.waitFor(() => expect(asked.at(-1)).toBe("vip"));
    await vi.waitFor(() => expect(store.visible().map((c) => c.id)).toEqual(["c1"]));
  });
});
