// @vitest-environment happy-dom
// A macro applied to the open conversation says how it went in a toast; the bar under the list is the selection's.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { Api, type ApplyOut } from "../api";
import { AppContext } from "../context";
import { Store, TOOLS_AGAIN_MS } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { MacroPicker, SelectionBar } from "./Macros";

const root = eachRoot();
const tick = () => new Promise((resolve) => setTimeout(resolve, 60)); // Preact's effects run after paint

describe("MacroPicker", () => {
  it("finds the desk's first macro, made while the inbox was open, as a conversation opens a minute on", async () => {
    // Given an inbox that read no macros (the desk had none yet)
    let macros: { id: string; scope: string; name: string; actions: never[] }[] = [];
    const api = { labels: async () => ({ items: [] }), macros: vi.fn(async () => ({ items: macros })) } as unknown as Api;
    const store = new Store(api);
    store.set({ live: "live" });
    const clock = vi.spyOn(Date, "now").mockReturnValue(1_000_000);
    const show = (id: string) =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <MacroPicker conv={testConversation(id)} />
        </AppContext.Provider>,
        root(),
      );
    try {
      show("c1");
      await tick();
      expect(root().textContent).toContain("No macros yet");
      // When an admin makes one and the agent opens another conversation a minute later
      macros = [{ id: "ship", scope: "shared", name: "Shipping question", actions: [] }];
      clock.mockReturnValue(1_000_000 + TOOLS_AGAIN_MS);
      show("c2");
      await tick();
      // Then it is offered there, with no reload
      expect(root().querySelector("select option")?.textContent).toBe("Shipping question");
    } finally {
      clock.mockRestore();
    }
  });

  it("reads the labels and macros once, not at every conversation opened, while the desk has none", async () => {
    // Given a desk with no macro
    const labels = vi.fn(async () => ({ items: [] }));
    const macros = vi.fn(async () => ({ items: [] }));
    const store = new Store({ labels, macros } as unknown as Api);
    store.set({ live: "live" });
    // When the agent opens five conversations one after another (j, Enter, j, Enter…)
    for (const id of ["c1", "c2", "c3", "c4", "c5"]) {
      render(
        <AppContext.Provider value={testContext(store)}>
          <MacroPicker conv={testConversation(id)} />
        </AppContext.Provider>,
        root(),
      );
      await tick();
    }
    // Then the labels and the macros were read once each, not five times
    expect(root().textContent).toContain("No macros yet");
    expect(macros).toHaveBeenCalledTimes(1);
    expect(labels).toHaveBeenCalledTimes(1);
  });

  it("applies to the open conversation without leaving a selection bar under the list", async () => {
    const applyMacro = vi.fn(async (_m: string, ids: string[]): Promise<ApplyOut> => ({
      macro_id: "ship", name: "Shipping question", applied: 1, refused: 0,
      results: ids.map((id) => ({ conversation_id: id, result: "applied" as const })),
    }));
    const store = new Store({ applyMacro } as unknown as Api);
    store.set({ live: "live", macros: [{ id: "ship", scope: "shared", name: "Shipping question", actions: [] }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <MacroPicker conv={testConversation("c1")} />
        <SelectionBar />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    root().querySelector<HTMLFormElement>(".macro-form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await tick();
    expect(applyMacro).toHaveBeenCalledWith("ship", ["c1"], expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(store.state.toast?.text).toBe("Shipping question: applied to 1, refused 0");
    expect(store.state.applied).toBeNull();
    expect(root().querySelector(".selection-bar")).toBeNull(); // no "0 selected" with the open conversation's result
  });

  it("says which retired labels it skipped, in the menu before and with the result after", async () => {
    const applyMacro = vi.fn(async (_m: string, ids: string[]): Promise<ApplyOut> => ({
      macro_id: "greet", name: "QA greet", applied: 1, refused: 0,
      results: ids.map((id) => ({ conversation_id: id, result: "applied" as const, skipped_labels: ["qa-vip"],
        notes: ["label qa-vip is retired: not added (the rest of the macro was applied)"] })),
    }));
    const store = new Store({ applyMacro } as unknown as Api);
    store.set({
      live: "live",
      labels: [{ id: "qa-vip", name: "QA VIP", color: "#f2c94c", retired: true, version: 2 }],
      macros: [{ id: "greet", scope: "shared", name: "QA greet", version: 1, retired_labels: ["qa-vip"],
        actions: [{ type: "add_labels", labels: ["qa-vip"] }, { type: "note", text: "Greeted" }] }],
    });
    render(
      <AppContext.Provider value={testContext(store)}>
        <MacroPicker conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    expect(root().querySelector("option")!.textContent).toBe("QA greet (skips the retired QA VIP)");
    root().querySelector<HTMLFormElement>(".macro-form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await tick();
    expect(store.state.toast).toMatchObject({ kind: "ok", text: "QA greet: applied to 1, refused 0. Not added, as retired: QA VIP" });
  });
});

describe("MacroPicker's apply, sent again after no answer", () => {
  it("sends the same Idempotency-Key until the API answered, a new one for the next apply and after a 422", async () => {
    // Given an API whose first answer to an apply is lost (the connection dropped), then answers; later says the key
    // went with another apply
    const keys: (string | null)[] = [];
    const applied: ApplyOut = { macro_id: "ship", name: "Shipping question", applied: 1, refused: 0,
      results: [{ conversation_id: "c1", result: "applied", reply_message_id: "m1" }] };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (!url.endsWith("/apply")) return { ok: true, status: 200, text: async () => "{}" };
        keys.push(new Headers(init.headers).get("Idempotency-Key"));
        if (keys.length === 1) throw new TypeError("Failed to fetch");
        if (keys.length === 4) {
          const problem = { status: 422, title: "Invalid request", code: "idempotency_key_reused" };
          return { ok: false, status: 422, text: async () => JSON.stringify(problem) };
        }
        return { ok: true, status: 200, text: async () => JSON.stringify(applied) };
      }),
    );
    const store = new Store(new Api("https://api.test", async () => "t"));
    store.set({ live: "live", macros: [{ id: "ship", scope: "shared", name: "Shipping question", actions: [] }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <MacroPicker conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    const apply = async (count: number) => {
      root().querySelector<HTMLFormElement>(".macro-form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await vi.waitFor(() => expect(keys).toHaveLength(count));
      await tick();
    };

    // When the apply gets no answer and is pressed again; then the agent applies it once more; then a 422, and again
    await apply(1);
    await apply(2);
    await apply(3);
    await apply(4);
    await apply(5);

    // Then the press again carries the first press's key (the API answers what the first did, the reply sent once)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    // an answered apply lets its key go: the next apply is another, with another key
    expect(keys[2]).not.toBe(keys[0]);
    // a key the API says went with another apply is renewed
    expect(keys[4]).not.toBe(keys[3]);
    expect(store.applyKeys.size).toBe(0);
    vi.unstubAllGlobals();
  });
});

describe("SelectionBar", () => {
  it("says per conversation that a retired label was not added", () => {
    const store = new Store({} as unknown as Api);
    store.set({
      labels: [{ id: "qa-vip", name: "QA VIP", color: "#f2c94c", retired: true, version: 2 }],
      applied: { macro_id: "greet", name: "QA greet", applied: 2, refused: 0, results: [
        { conversation_id: "c1", result: "applied", skipped_labels: ["qa-vip"] },
        { conversation_id: "c2", result: "applied" },
      ] },
    });
    render(
      <AppContext.Provider value={testContext(store)}>
        <SelectionBar />
      </AppContext.Provider>,
      root(),
    );
    const lines = [...root().querySelectorAll("li")].map((li) => li.textContent);
    expect(lines).toEqual(["c1: applied; not added, as retired: QA VIP", "c2: applied"]);
  });
});
