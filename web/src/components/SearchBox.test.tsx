// @vitest-environment happy-dom
// The search box's results say what each one is, in the agent's language.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
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
});
