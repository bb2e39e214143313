// @vitest-environment happy-dom
// The agent's own presence in the top bar follows a change made in another tab (no change notice carries it).
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Agent, Api } from "../api";
import { AppContext } from "../context";
import type { Auth } from "../auth";
import { Drafts } from "../drafts";
import { Store, TOOLS_AGAIN_MS } from "../store";
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

  it("names an agent signed in without a name by the email their sign-in holds, else as unnamed: never by their id", async () => {
    const nameless: Agent = { id: "u_7f3a", name: null, presence: "online", capacity: 3, active: 0, teams: ["default"] };
    const store = new Store({ me: vi.fn(async () => nameless), search: () => new Promise(() => undefined) } as unknown as Api);
    store.set({ me: nameless, live: "live" });
    const shown = (who: { id: string; name: string; email?: string; groups: string[] }) => {
      render(
        <AppContext.Provider value={{ ...testContext(store), who }}>
          <TopBar route={{ page: "inbox", conversationId: null }} />
        </AppContext.Provider>,
        root(),
      );
      return [root().querySelector(".who")?.textContent, root().querySelector("button[aria-expanded]")?.getAttribute("aria-label")];
    };
    const [name, button] = shown({ id: "u_7f3a", name: "", email: "dora@shop.example", groups: [] });
    expect(name).toBe("dora@shop.example");
    expect(button).toContain("dora@shop.example");
    expect(shown({ id: "u_7f3a", name: "", groups: [] })[0]).toBe("Unnamed agent");
    expect(root().textContent).not.toContain("u_7f3a");
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

  it("offers the desk's first macro, made in another tab, as this one is shown again a minute on", async () => {
    // Given an inbox that read no macros a minute ago (the desk had none)
    const clock = vi.spyOn(Date, "now").mockReturnValue(5_000_000);
    try {
      let items: { id: string; scope: string; name: string; actions: never[] }[] = [];
      const macros = vi.fn(async () => ({ items }));
      const store = new Store({ me: vi.fn(async () => alice("online")), labels: async () => ({ items: [] }), macros,
                                search: () => new Promise(() => undefined) } as unknown as Api);
      store.set({ me: alice("online"), live: "live" });
      await store.loadTools();
      render(
        <AppContext.Provider value={testContext(store)}>
          <TopBar route={{ page: "inbox", conversationId: null }} />
        </AppContext.Provider>,
        root(),
      );
      await new Promise((resolve) => setTimeout(resolve, 60)); // the bar's effects have run
      // When an admin makes one in another tab, and the agent comes back to this one
      items = [{ id: "ship", scope: "shared", name: "Shipping question", actions: [] }];
      clock.mockReturnValue(5_000_000 + TOOLS_AGAIN_MS);
      document.dispatchEvent(new Event("visibilitychange"));
      // Then this tab has it
      await vi.waitFor(() => expect(store.state.macros.map((m) => m.name)).toEqual(["Shipping question"]));
      expect(macros).toHaveBeenCalledTimes(2);
    } finally {
      clock.mockRestore();
    }
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

  it("puts the agent's presence, language and sign out behind one named button that Escape closes, back on it", async () => {
    // Given alice's bar (in a narrow window the button is all the bar shows of them: styles.css)
    const store = new Store({ me: vi.fn(async () => alice("away")), search: () => new Promise(() => undefined) } as unknown as Api);
    store.set({ me: { ...alice("away"), name: "Alice Example" }, live: "live" });
    render(
      <AppContext.Provider value={testContext(store)}>
        <TopBar route={{ page: "inbox", conversationId: null }} />
      </AppContext.Provider>,
      root(),
    );
    const toggle = root().querySelector<HTMLButtonElement>("button[aria-controls='account-menu']")!;
    const menu = root().querySelector<HTMLElement>("#account-menu")!;
    // Then it is named for her, her presence and what it holds, and says it is closed
    expect(toggle.getAttribute("aria-label")).toBe("Alice Example: presence, language, sign out · Away");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(menu.querySelector(".presence select")).not.toBeNull();
    expect([...menu.querySelectorAll("button")].map((b) => b.textContent)).toEqual(["Sign out"]);

    // When she opens it and presses Escape from the language inside it
    toggle.click();
    await vi.waitFor(() => expect(toggle.getAttribute("aria-expanded")).toBe("true"));
    expect(menu.classList.contains("open")).toBe(true);
    const language = menu.querySelectorAll("select")[1]!;
    language.focus();
    const escape = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    language.dispatchEvent(escape);

    // Then it closes, the keyboard back on the button (the inbox's own Escape told to leave it: default prevented)
    await vi.waitFor(() => expect(toggle.getAttribute("aria-expanded")).toBe("false"));
    expect(menu.classList.contains("open")).toBe(false);
    expect(document.activeElement).toBe(toggle);
    expect(escape.defaultPrevented).toBe(true);
  });
});
