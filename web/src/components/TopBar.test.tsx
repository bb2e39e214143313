// @vitest-environment happy-dom
// The agent's own presence in the top bar follows a change made in another tab (no change notice carries it).
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Agent, Api } from "../api";
import { AppContext } from "../context";
import type { Auth } from "../auth";
import { Drafts } from "../drafts";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { TopBar } from "./TopBar";

const root = eachRoot();
const alice = (presence: Agent["presence"]): Agent => ({ id: "alice", name: "Alice", presence, capacity: 3, active: 1, teams: ["default"] });

describe("TopBar", () => {
  it("reads the agent's presence again as the tab is shown or focused: another tab set them away", async () => {
    // Given the inbox open in two tabs, this one showing alice online
    let stored = alice("online");
    const me = vi.fn(async () => stored);
    const store = new Store({ me, search: () => new Promise(() => undefined) } as unknown as Api);
    store.set({ me: stored, live: "live" });
    render(
      <AppContext.Provider value={testContext(store)}>
        <TopBar route={{ page: "inbox", conversationId: null }} />
      </AppContext.Provider>,
      root(),
    );
    await new Promise((resolve) => setTimeout(resolve, 60)); // the bar's effects have run
    const presence = () => root().querySelector<HTMLSelectElement>(".presence select")!.value;
    expect(presence()).toBe("online");

    // When she goes away in the other tab, then comes back to this one
    stored = alice("away");
    document.dispatchEvent(new Event("visibilitychange"));

    // Then this tab says away too
    await vi.waitFor(() => expect(presence()).toBe("away"));
    stored = alice("offline");
    window.dispatchEvent(new Event("focus"));
    await vi.waitFor(() => expect(presence()).toBe("offline"));
  });

  it("reads an open conversation whose last read failed again as the tab is focused, and only then", async () => {
    const conversation = vi.fn(async (id: string) => ({ id, messages: [] }));
    const store = new Store({ me: vi.fn(async () => alice("online")), conversation, openConversation: conversation,
                              search: () => new Promise(() => undefined) } as unknown as Api);
    store.set({ me: alice("online"), live: "live", openId: "c2", open: null, openFailed: true });
    render(
      <AppContext.Provider value={testContext(store)}>
        <TopBar route={{ page: "inbox", conversationId: "c2" }} />
      </AppContext.Provider>,
      root(),
    );
    await new Promise((resolve) => setTimeout(resolve, 60)); // the bar's effects have run
    window.dispatchEvent(new Event("focus"));
    await vi.waitFor(() => expect(store.state.open?.id).toBe("c2"));
    expect(conversation).toHaveBeenCalledTimes(1);
    expect(store.state.openFailed).toBe(false);
    window.dispatchEvent(new Event("focus")); // read: nothing more
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(conversation).toHaveBeenCalledTimes(1);
  });

  it("takes the agent's drafts away as they sign out", () => {
    sessionStorage.clear();
    const store = new Store({ search: () => new Promise(() => undefined) } as unknown as Api, undefined, new Drafts(sessionStorage, "shopdesk.drafts.alice"));
    store.set({ me: alice("online") });
    store.drafts.set("c1", { text: "Your card ending 4242 was charged twice", note: "" });
    const signOut = vi.fn();
    render(
      <AppContext.Provider value={{ ...testContext(store), auth: { signOut } as unknown as Auth }}>
        <TopBar route={{ page: "inbox", conversationId: null }} />
      </AppContext.Provider>,
      root(),
    );
    [...root().querySelectorAll("button")].find((b) => b.textContent === "Sign out")!.click();
    expect(signOut).toHaveBeenCalled();
    expect(sessionStorage.getItem("shopdesk.drafts.alice")).toBeNull();
  });
});
