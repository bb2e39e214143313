// @vitest-environment happy-dom
// The conversation list is one stop in the tab order: Tab leaves it, however long it is.
import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Agent, Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { ConversationList } from "./ConversationList";

const root = eachRoot();

describe("ConversationList", () => {
  it("puts only the selected row's checkbox and button in the tab order (x picks the others)", () => {
    const store = new Store({} as Api);
    const items = Array.from({ length: 30 }, (_, i) => testConversation(`c${i}`, { customer: { id: `cu${i}`, name: `Customer ${i}` } }));
    store.set({ items, loading: false, selected: 2 });
    render(
      <AppContext.Provider value={testContext(store)}>
        <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
      </AppContext.Provider>,
      root(),
    );
    const rows = [...root().querySelectorAll("ul.conversations li:not(.list-end)")];
    expect(rows).toHaveLength(30);
    const tabbable = [...root().querySelectorAll<HTMLElement>("ul.conversations input, ul.conversations button")].filter((e) => e.tabIndex >= 0);
    const selected = store.visible()[2]!.customer.name;
    expect(tabbable.map((e) => e.closest("li")?.textContent?.match(/Customer \d+/)?.[0])).toEqual([selected, selected]);
  });

  it("says when the filters hide every conversation, how many are set, and clears them", async () => {
    // Given alice's three SMS conversations and a channel filter left on WhatsApp, the filters folded away
    const store = new Store({} as Api);
    const items = ["c1", "c2", "c3"].map((id) => testConversation(id));
    store.set({ items, loading: false, counts: { mine: 3 }, filters: { channel: "whatsapp" } });
    render(
      <AppContext.Provider value={testContext(store)}>
        <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
      </AppContext.Provider>,
      root(),
    );
    // Then the list says the filters hide them (not that there are none), and the folded filters say one is set
    expect(root().querySelector(".filters summary")?.textContent).toBe("Filters (1)");
    expect(root().querySelector(".list-pane > .empty")?.textContent).toContain("No conversations match the filters.");
    // and clearing them shows the three again
    [...root().querySelectorAll("button")].find((b) => b.textContent === "Clear the filters")!.click();
    expect(store.state.filters).toEqual({});
    expect(store.visible()).toHaveLength(3);
  });

  it("says a list that could not be read is not loaded, never that there are no conversations", () => {
    // Given the badge says Mine 3 and the view's list could not be read
    const store = new Store({} as Api);
    store.set({ items: [], loading: false, counts: { mine: 3 }, listFailed: true });
    const show = () =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
    show();
    const said = () => [...root().querySelectorAll(".list-pane > .empty")].map((p) => p.textContent);
    expect(said()).toEqual(["The conversations could not be loaded. Trying again… Try now"]);
    // (not an alert of its own: the store's error toast says the failure, once)
    expect(root().querySelector(".list-failed")?.getAttribute("role")).toBeNull();
    // with conversations shown from before: they stay, said to be out of date
    store.set({ items: [testConversation("c1")] });
    show();
    expect(said()).toEqual(["The list could not be refreshed and may be out of date. Trying again… Try now"]);
    expect(root().querySelectorAll("ul.conversations li:not(.list-end)")).toHaveLength(1);
    // once read, nothing of it is left; an empty view says so
    store.set({ items: [], listFailed: false });
    show();
    expect(said()).toEqual(["No conversations here."]);
    // a refused read says why, and no "Trying again…": nothing reads it again by itself
    store.set({ listFailed: true, listRefused: "You are not a member of team t1." });
    show();
    expect(said()).toEqual(["The conversations could not be loaded. You are not a member of team t1. Try now"]);
    store.set({ items: [testConversation("c1")] });
    show();
    expect(said()).toEqual([
      "The list could not be refreshed and may be out of date. You are not a member of team t1. Try now",
    ]);
  });

  it("names another agent's conversations' assignee by name once the agents are read, never by id before", () => {
    // Given the All view, with conversations of bob's, alice's (signed in) and no one's, and the agents still unread
    const store = new Store({} as Api);
    const items = [
      testConversation("c1", { assignee: "bob", customer: { id: "cu1", name: "Customer 1" } }),
      testConversation("c2", { assignee: "alice", customer: { id: "cu2", name: "Customer 2" } }),
      testConversation("c3", { assignee: null, customer: { id: "cu3", name: "Customer 3" } }),
    ];
    store.set({ items, loading: false, view: "all", agents: [] });
    const assignees = () => {
      render(
        <AppContext.Provider value={testContext(store)}>
          <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
      return [...root().querySelectorAll("ul.conversations li:not(.list-end)")].map((li) => [
        li.querySelector(".customer")?.textContent,
        li.querySelector(".assignee")?.textContent,
      ]);
    };
    // Then bob's says only that it is assigned (not "bob"), alice's her name from the sign-in
    expect(assignees()).toEqual([["Customer 1", "Assigned"], ["Customer 2", "Alice"], ["Customer 3", "Unassigned"]]);
    // and once the agents are read, bob's name
    store.set({ agents: [{ id: "bob", name: "Bob Builder" }, { id: "alice", name: "Alice Example" }] as Agent[] });
    expect(assignees()).toEqual([["Customer 1", "Bob Builder"], ["Customer 2", "Alice Example"], ["Customer 3", "Unassigned"]]);
    // and an agent the desk has no name for (none, or a blank one) as unnamed, not by id
    store.set({ agents: [{ id: "bob", name: null }, { id: "alice", name: " " }] as Agent[] });
    expect(assignees()).toEqual([["Customer 1", "Unnamed agent"], ["Customer 2", "Alice"], ["Customer 3", "Unassigned"]]);
  });

  it("says who mentioned the agent by name once the agents are read, never by id before", () => {
    // Given the mentions view, a conversation bob mentioned alice in, and the agents still unread
    const store = new Store({} as Api);
    const conv = { ...testConversation("c1", { assignee: null }), mention: { unread: 1, count: 1, by: "bob", message_id: "m1", at: "2026-12-03T09:05:00Z" } };
    store.set({ items: [conv], loading: false, view: "mentions", agents: [] });
    const title = () => {
      render(
        <AppContext.Provider value={testContext(store)}>
          <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
      return root().querySelector(".mention-unread")?.getAttribute("title");
    };
    // Then its chip says Mentioned, with no "mentioned by bob" on it
    expect(title()).toBeNull();
    // and "mentioned by Bob Builder" once the agents are read
    store.set({ agents: [{ id: "bob", name: "Bob Builder" }] as Agent[] });
    expect(title()).toBe("mentioned by Bob Builder");
    // and by one the desk has no name for, as unnamed, not by id
    store.set({ agents: [{ id: "bob", name: "" }] as Agent[] });
    expect(title()).toBe("mentioned by Unnamed agent");
  });
});
