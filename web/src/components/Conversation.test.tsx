// @vitest-environment happy-dom
// An opened conversation whose read failed says so with Try now, never "Loading…" for good.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Agent, type Api } from "../api";
import { AppContext } from "../context";
import { LOCALES, type Locale } from "../i18n";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { Conversation } from "./Conversation";
import { Toast } from "./Toast";

const root = eachRoot();

describe("Conversation", () => {
  it("says a conversation that could not be read is not loaded, with Try now, and Loading… only while it is read", () => {
    const conversation = vi.fn(() => new Promise<never>(() => undefined));
    // (every other read of the panels stays on its way)
    const api = new Proxy({ conversation, openConversation: conversation } as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)),
    });
    const store = new Store(api as unknown as Api);
    const show = () =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <Conversation onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
    // Given /c/c2 opened and its read on its way: Loading…
    store.set({ openId: "c2", open: null, openFailed: false });
    show();
    expect(root().textContent).toBe("Loading…");
    // When its read failed: said, with Try now (which reads it again, with its panels: it never showed)
    store.set({ openFailed: true });
    show();
    const alert = root().querySelector(".open-failed");
    expect(alert?.textContent).toBe("The conversation could not be loaded. Trying again… Try now");
    expect(root().textContent).not.toContain("Loading…");
    (alert?.querySelector("button") as HTMLButtonElement).click();
    expect(conversation).toHaveBeenCalledWith("c2");
    // Shown from before, a refresh that failed: it stays, said to be out of date, above it
    store.set({ open: testConversation("c2", { messages: [] }), openFailed: true });
    show();
    expect(root().querySelector(".conversation-main > .open-failed")?.textContent).toBe(
      "The conversation could not be refreshed and may be out of date. Trying again… Try now",
    );
    expect(root().querySelector("#conversation-title")).not.toBeNull();
    // once read, nothing of it is left
    store.set({ openFailed: false });
    show();
    expect(root().querySelector(".open-failed")).toBeNull();
  });

  it("says a read that failed in one alert, not in two at once that cut each other off", async () => {
    // Given a conversation whose read the API answers 503 (the store busy)
    const busy = () => Promise.reject(new ApiError(503, "ServiceUnavailable", null));
    const api = new Proxy({ conversation: busy, openConversation: busy } as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)),
    });
    const store = new Store(api as unknown as Api);
    // When the agent opens it
    await store.openConversation("c2");
    render(
      <AppContext.Provider value={testContext(store)}>
        <Conversation onOpen={() => undefined} />
        <Toast />
      </AppContext.Provider>,
      root(),
    );
    // Then the page says it could not be loaded, and one alert says the failure
    expect(root().querySelector(".open-failed")?.textContent).toContain("The conversation could not be loaded");
    const alerts = [...root().querySelectorAll('[role="alert"]')].filter((a) => a.textContent?.trim());
    expect(alerts).toHaveLength(1);
  });

  it("names the assignee before the desk's agents are read when they are the signed-in agent, another one never by id", () => {
    // Given an inbox whose reads (the agents among them) are all still on their way
    const api = new Proxy({} as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)),
    });
    const store = new Store(api as unknown as Api);
    const header = () => {
      render(
        <AppContext.Provider value={testContext(store)}>
          <Conversation onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
      return root().querySelector(".conversation-head .nowrap")?.textContent;
    };
    // When a conversation of alice's (who is signed in, as Alice) opens: her name, not her id
    store.set({ openId: "c1", open: testConversation("c1", { assignee: "alice" }), agents: [], me: null });
    expect(header()).toBe("default · Assigned to Alice");
    // her name at the desk once /agent/me has answered
    store.set({ me: { id: "alice", name: "Alice Example" } as Agent });
    expect(header()).toBe("default · Assigned to Alice Example");
    // another agent's, while the agents are read: only that it is assigned (as the list says it), never their id
    store.set({ open: testConversation("c1", { assignee: "bob" }) });
    expect(header()).toBe("default · Assigned");
    // and by name once they are
    store.set({ agents: [{ id: "bob", name: "Bob Builder" } as Agent] });
    expect(header()).toBe("default · Assigned to Bob Builder");
  });

  it("says another agent's conversation is assigned, not their id, in every language the inbox has while the agents are read", () => {
    // Given bob's conversation open and the desk's agents still unread
    const api = new Proxy({} as Record<string, unknown>, {
      get: (known, name: string) => known[name] ?? (() => new Promise<never>(() => undefined)),
    });
    const store = new Store(api as unknown as Api);
    store.set({ openId: "c1", open: testConversation("c1", { assignee: "bob" }), agents: [], me: null });
    const header = (locale: Locale) => {
      render(
        <AppContext.Provider value={testContext(store, locale)}>
          <Conversation onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
      return root().querySelector(".conversation-head .nowrap")?.textContent;
    };
    // Then each language says the list's word for it, and none says bob
    const said = Object.fromEntries((Object.keys(LOCALES) as Locale[]).map((locale) => [locale, header(locale)]));
    expect(said).toEqual({ en: "default · Assigned", es: "default · Asignada", pt: "default · Atribuída" });
  });
});
