// @vitest-environment happy-dom
// The routing card sends only a change: Save with nothing changed was answered with the API's English 422.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { translator } from "../i18n";
import { problemWords } from "../problems";
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

  it("says in the agent's language that a change it sent changes nothing, and keeps the note typed", async () => {
    // the card shows the conversation as normal; meanwhile someone made it urgent, which its notice has not said yet
    const conv = testConversation("c1", { skills: [] });
    const refusal = { status: 422, detail: "the conversation's priority (urgent) ...", code: "nothing_to_change", params: {} };
    const setRouting = vi.fn(async () => {
      throw new ApiError(422, refusal.detail, refusal);
    });
    const t = translator("es");
    const store = new Store({ setRouting } as unknown as Api, { error: (detail) => t("error", { detail }), problem: (e) => problemWords(e, t) });
    store.set({ live: "live", teams: [{ id: "default", name: "Default" }] });
    render(
      <AppContext.Provider value={testContext(store, "es")}>
        <RoutingCard conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const [priority] = root().querySelectorAll<HTMLSelectElement>("select");
    const [, note] = root().querySelectorAll<HTMLInputElement>("input");
    priority!.value = "urgent";
    priority!.dispatchEvent(new Event("change", { bubbles: true }));
    note!.value = "amenaza con acciones legales";
    note!.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    root().querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(setRouting).toHaveBeenCalledWith("c1", { priority: "urgent", note: "amenaza con acciones legales" });
    expect(store.state.toast?.text).toBe(
      "La conversación ya tiene esta prioridad, este equipo y estas habilidades: no hay nada que cambiar. Una nota sola va en las notas.",
    );
    expect(note!.value).toBe("amenaza con acciones legales");
  });
});
