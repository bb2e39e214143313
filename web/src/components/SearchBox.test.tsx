// @vitest-environment happy-dom
// The search box's results say what each one is, in the agent's language.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { NoAnswer, type Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { SearchBox } from "./SearchBox";

const root = eachRoot();

describe("SearchBox", () => {
  it.each([
    ["en", "Conversation"],
    ["es", "Conversación"],
    ["pt", "Conversa"],
  ] as const)("calls one conversation found a conversation (%s)", async (locale, word) => {
    const api = {
      search: async () => ({
        conversations: [{ id: "c1", customer: { id: "u1", name: "Dana Rivera", identities: [] }, channel: "sms", status: "open",
                          matched: "order", last_message_preview: "Where is #1002?" }],
        customers: [],
      }),
    } as unknown as Api;
    render(
      <AppContext.Provider value={testContext(new Store(api), locale)}>
        <SearchBox />
      </AppContext.Provider>,
      root(),
    );
    const input = root().querySelector<HTMLInputElement>("input")!;
    input.value = "#1002";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector("[role=option]")).not.toBeNull());
    expect(root().querySelector("[role=option] .chip")?.textContent).toBe(word);
  });

  it("says a search that got no answer in the agent's words, not the browser's", async () => {
    const api = { search: async () => { throw new NoAnswer("GET", new TypeError("Failed to fetch")); } } as unknown as Api;
    render(
      <AppContext.Provider value={testContext(new Store(api), "es")}>
        <SearchBox />
      </AppContext.Provider>,
      root(),
    );
    const input = root().querySelector<HTMLInputElement>("input")!;
    input.value = "#1002";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector("[role=alert]")).not.toBeNull());
    expect(root().querySelector("[role=alert]")!.textContent).toBe(
      "Sin respuesta de shopdesk: ¿se ha perdido la conexión? Inténtalo de nuevo en un momento.",
    );
  });
});
