// @vitest-environment happy-dom
// The routing card sends only a change: Save with nothing changed was answered with the API's English 422.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { RoutingCard } from "./CustomerPanel";

const root = eachRoot();

describe("RoutingCard", () => {
  it("offers Save only once the form changes priority, team or skills, and sends that change", async () => {
    const conv = testConversation("c1", { skills: [] });
    const setRouting = vi.fn(async () => ({ ...conv, priority: "high" as const }));
    const store = new Store({ setRouting } as unknown as Api);
    store.set({ live: "live", teams: [{ id: "default", name: "Default" }] });
    render(
      <AppContext.Provider value={testContext(store)}>
        <RoutingCard conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const save = () => root().querySelector<HTMLButtonElement>("button[type=submit]")!;
    const [priority] = root().querySelectorAll<HTMLSelectElement>("select");
    const [, note] = root().querySelectorAll<HTMLInputElement>("input");
    note!.value = "just looking";
    note!.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(save().disabled).toBe(true); // a note alone changes nothing
    root().querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(setRouting).not.toHaveBeenCalled();

    priority!.value = "high";
    priority!.dispatchEvent(new Event("change", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(save().disabled).toBe(false);
    root().querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(setRouting).toHaveBeenCalledWith("c1", { priority: "high", note: "just looking" });
  });
});
