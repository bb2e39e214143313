// @vitest-environment happy-dom
// The empty inbox says how to open a conversation from the keyboard, and those keys do it.
import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import type { Agent, Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { Inbox } from "./Inbox";

const root = eachRoot();
const tick = () => new Promise((resolve) => setTimeout(resolve, 60)); // Preact's effects run after paint
const press = (key: string) => window.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));

function shown() {
  const store = new Store({} as Api);
  const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
  store.set({ items, loading: false, live: "live" });
  const navigate = vi.fn();
  act(() => {
    // its effects (the key handler among them) have run as act returns
    render(
      <AppContext.Provider value={{ ...testContext(store), navigate }}>
        <Inbox conversationId={null} />
      </AppContext.Provider>,
      root(),
    );
  });
  return { store, navigate };
}

describe("Inbox", () => {
  it("opens the first conversation on j and Enter, as its hint says, with nothing open and the focus on the page", async () => {
    // Given the inbox with its list and no conversation open, the page focused, saying "press j and Enter"
    const { store, navigate } = shown();
    await tick();
    (document.activeElement as HTMLElement | null)?.blur();
    expect(root().querySelector(".conversation-pane .empty")?.textContent).toBe("Choose a conversation, or press j and Enter.");
    const first = store.visible()[0]!.id;

    // When the agent presses j, then Enter
    press("j");
    await tick();
    press("Enter");

    // Then the first conversation of the list opens (not the second), and the keyboard is on it
    expect(navigate).toHaveBeenCalledWith(`/c/${first}`);
  });

  it("moves on from the first with the next j, and back with k", async () => {
    const { store, navigate } = shown();
    await tick();
    (document.activeElement as HTMLElement | null)?.blur();
    const [first, second] = store.visible().map((c) => c.id);
    press("j"); // on the first
    press("j"); // on the second
    await tick();
    expect(document.activeElement?.closest("li")?.textContent).toContain(`Customer ${second}`);
    press("Enter");
    expect(navigate).toHaveBeenLastCalledWith(`/c/${second}`);
    press("k");
    press("Enter");
    expect(navigate).toHaveBeenLastCalledWith(`/c/${first}`);
  });

  it("takes Escape back to the open conversation's item after the list moved it, not to the one now in its place", async () => {
    // Given c1 open, its item the selected one (the first), the keyboard in the conversation
    const store = new Store({} as Api);
    const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
    store.set({ items, loading: false, live: "live", openId: "c1", open: null, selected: 0 });
    act(() => {
      render(
        <AppContext.Provider value={{ ...testContext(store), navigate: vi.fn() }}>
          <Inbox conversationId="c1" />
        </AppContext.Provider>,
        root(),
      );
    });
    await tick();
    const first = store.visible()[0]!.id;
    expect(first).toBe("c1");
    // When another conversation becomes urgent and goes above it (c1 is second now), and the agent presses Escape
    act(() => store.set({ items: items.map((c) => (c.id === "c3" ? { ...c, priority: "urgent" as const } : c)) }));
    expect(store.visible().map((c) => c.id).indexOf("c1")).toBe(1);
    press("Escape");
    await tick();

    // Then the keyboard is on c1's item, the open one (Enter there would not open another), and j goes on from it
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c1");
    expect(store.visible()[store.state.selected]?.id).toBe("c1");
  });

  it("moves j and k on from the focused conversation after a new message re-sorted the list, not from its old place", async () => {
    // Given c1, c2, c3 in the list, nothing open, the keyboard on c1's item (the first)
    const { store, navigate } = shown();
    await tick();
    (document.activeElement as HTMLElement | null)?.blur();
    press("j");
    await tick();
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c1");
    // When a new message makes c3 urgent and the list puts it first (c1 is second now, c2 third)
    const moved = store.state.items.map((c) => (c.id === "c3" ? { ...c, priority: "urgent" as const } : c));
    act(() => store.set({ items: moved }));
    await tick();
    expect(store.visible().map((c) => c.id)).toEqual(["c3", "c1", "c2"]);

    // Then j goes on from c1 to the one below it now, c2 (not to c1 again, in c1's old place's next)
    press("j");
    await tick();
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c2");
    press("Enter");
    expect(navigate).toHaveBeenLastCalledWith("/c/c2");
    // and k back up from there: c1, then c3 above it
    press("k");
    press("k");
    await tick();
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c3");
  });

  it("moves j on from the open conversation after the list moved it, with the keyboard in the conversation", async () => {
    // Given c1 open, its item selected (the first), the keyboard in the conversation (not on the list)
    const store = new Store({} as Api);
    const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
    store.set({ items, loading: false, live: "live", openId: "c1", open: null, selected: 0 });
    const navigate = vi.fn();
    act(() => {
      render(
        <AppContext.Provider value={{ ...testContext(store), navigate }}>
          <Inbox conversationId="c1" />
        </AppContext.Provider>,
        root(),
      );
    });
    await tick();
    (document.activeElement as HTMLElement | null)?.blur();
    // When a new message puts c3 above it, and the agent presses j
    act(() => store.set({ items: items.map((c) => (c.id === "c3" ? { ...c, priority: "urgent" as const } : c)) }));
    press("j");
    await tick();

    // Then the keyboard is on the conversation below the open one (c2), not on the open one in its old place's next
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c2");
    press("Enter");
    expect(navigate).toHaveBeenLastCalledWith("/c/c2");
  });

  it("moves on to the next conversation's item and says so after the agent sends theirs to a team they are not in", async () => {
    // Given bob (an agent of the default team, no lead) with c1 of his three open, its Routing card beside it
    const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { assignee: "bob", customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
    const setRouting = vi.fn(async (id: string, change: { team?: string }) => ({ ...items[0]!, id, team: change.team!, assignee: null }));
    const api = new Proxy({ setRouting } as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)), // the rest: on their way
    });
    const store = new Store(api as unknown as Api);
    store.set({
      items, loading: false, live: "live", view: "mine", openId: "c1", open: items[0]!, selected: 0,
      me: { id: "bob", name: "Bob", teams: ["default"] } as Agent,
      teams: [{ id: "default", name: "Default" }, { id: "returns", name: "Returns & exchanges" }],
    });
    const context = { ...testContext(store), who: { id: "bob", name: "Bob", groups: [] } };
    const show = (id: string | null) =>
      act(() => {
        render(
          <AppContext.Provider value={{ ...context, navigate: (path: string) => show(path === "/" ? null : decodeURIComponent(path.slice(3))) }}>
            <Inbox conversationId={id} />
          </AppContext.Provider>,
          root(),
        );
      });
    show("c1");
    await tick();

    // When he sends c1 to Returns & exchanges, a team he is not in (it leaves his list), from the Routing card's Save
    const card = [...root().querySelectorAll("aside .card")].find((c) => c.querySelector("h3")?.textContent === "Routing")!;
    const team = [...card.querySelectorAll("select")].find((x) => [...x.options].some((o) => o.value === "returns"))!;
    team.value = "returns";
    team.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    const save = card.querySelector<HTMLButtonElement>("button[type=submit]")!;
    save.focus();
    card.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await tick();
    await tick();

    // Then the next conversation opens with the keyboard on its item in the list, as after Resolve, not on the page
    expect(setRouting).toHaveBeenCalledWith("c1", { team: "returns" });
    expect(store.state.openId).toBe("c2");
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c2");
    // and the polite status says what happened
    expect(store.state.toast).toMatchObject({ kind: "ok", text: "Transferred to Returns & exchanges" });
  });

  /** bob (an agent of the default team) in `view` with c1 of three open and its Transfer card beside it, carol free to
   * take it: what the store holds and the card's form. */
  async function transferring(view: "mine" | "all", who = { id: "bob", name: "Bob", groups: [] as string[] }) {
    const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { assignee: "bob", customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
    const assign = vi.fn(async (id: string, agent: string) => ({ ...items[0]!, id, assignee: agent }));
    const api = new Proxy({ assign } as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)), // the rest: on their way
    });
    const store = new Store(api as unknown as Api);
    store.set({
      items, loading: false, live: "live", view, openId: "c1", open: items[0]!, selected: 0,
      me: { id: who.id, name: who.name, teams: ["default"] } as Agent,
      agents: [{ id: "bob", name: "Bob" }, { id: "carol", name: "Carol", presence: "online", active: 0, capacity: 5 }] as Agent[],
    });
    const context = { ...testContext(store), who };
    const show = (id: string | null) =>
      act(() => {
        render(
          <AppContext.Provider value={{ ...context, navigate: (path: string) => show(path === "/" ? null : decodeURIComponent(path.slice(3))) }}>
            <Inbox conversationId={id} />
          </AppContext.Provider>,
          root(),
        );
      });
    show("c1");
    await tick();
    const card = [...root().querySelectorAll("aside .card")].find((c) => c.querySelector("h3")?.textContent === "Transfer")!;
    const transfer = async () => {
      card.querySelector<HTMLButtonElement>("form button[type=submit]")!.focus();
      card.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await tick();
      await tick();
    };
    return { store, assign, transfer };
  }

  it("moves on to the next conversation's item and says so after the agent transfers theirs out of the view (Mine)", async () => {
    // Given bob in Mine with c1 open
    const { store, assign, transfer } = await transferring("mine");
    // When he transfers it to carol from the Transfer card: it is no longer his, nor in Mine
    await transfer();
    // Then the next conversation opens with the keyboard on its item in the list, as after Resolve, not on the page
    expect(assign).toHaveBeenCalledWith("c1", "carol", undefined);
    expect(store.state.openId).toBe("c2");
    expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c2");
    // and the polite status says where it went
    expect(store.state.toast).toMatchObject({ kind: "ok", text: "Transferred to Carol" });
  });

  it("stays on a conversation transferred by someone whose view still lists it (All: an agent of its team, an admin)", async () => {
    for (const who of [{ id: "bob", name: "Bob", groups: [] }, { id: "alice", name: "Alice", groups: ["admins"] }]) {
      // Given the All view, c1 of bob's team open
      const { store, assign, transfer } = await transferring("all", who);
      // When it goes to carol from the Transfer card
      await transfer();
      // Then it stays open, said transferred
      expect(assign).toHaveBeenCalledWith("c1", "carol", undefined);
      expect(store.state.openId).toBe("c1");
      expect(store.state.toast).toMatchObject({ kind: "ok", text: "Transferred to Carol" });
    }
  });
  it("moves an admin on too after they send their own conversation to a team they are not in from Mine, and keeps them on it in All", async () => {
    for (const [view, opens] of [["mine", "c2"], ["all", "c1"]] as const) {
      // Given alice (an admin of the default team) in `view` with c1 of her three open, its Routing card beside it
      const items = ["c1", "c2", "c3"].map((id) => testConversation(id, { assignee: "alice", customer: { id: `cu-${id}`, name: `Customer ${id}` } }));
      // (the API releases the holder of a conversation sent to a team they are not in, an admin too)
      const setRouting = vi.fn(async (id: string, change: { team?: string }) => ({ ...items[0]!, id, team: change.team!, assignee: null }));
      const api = new Proxy({ setRouting } as Record<string, unknown>, {
        get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)),
      });
      const store = new Store(api as unknown as Api);
      store.set({
        items, loading: false, live: "live", view, openId: "c1", open: items[0]!, selected: 0,
        me: { id: "alice", name: "Alice", teams: ["default"] } as Agent,
        teams: [{ id: "default", name: "Default" }, { id: "returns", name: "Returns & exchanges" }],
      });
      const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
      const show = (id: string | null) =>
        act(() => {
          render(
            <AppContext.Provider value={{ ...context, navigate: (path: string) => show(path === "/" ? null : decodeURIComponent(path.slice(3))) }}>
              <Inbox conversationId={id} />
            </AppContext.Provider>,
            root(),
          );
        });
      show("c1");
      await tick();
      // When she sends c1 to Returns & exchanges from the Routing card's Save
      const card = [...root().querySelectorAll("aside .card")].find((c) => c.querySelector("h3")?.textContent === "Routing")!;
      const team = [...card.querySelectorAll("select")].find((x) => [...x.options].some((o) => o.value === "returns"))!;
      team.value = "returns";
      team.dispatchEvent(new Event("change", { bubbles: true }));
      await tick();
      card.querySelector<HTMLButtonElement>("button[type=submit]")!.focus();
      card.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await tick();
      await tick();
      // Then from Mine, which no longer lists it, the next one opens, its item focused; All keeps her on it
      expect(setRouting).toHaveBeenCalledWith("c1", { team: "returns" });
      expect(store.state.openId).toBe(opens);
      if (opens === "c2") expect(document.activeElement?.closest("li")?.textContent).toContain("Customer c2");
      expect(store.state.toast).toMatchObject({ kind: "ok", text: opens === "c2" ? "Transferred to Returns & exchanges" : "Saved" });
      render(null, root());
    }
  });
});
