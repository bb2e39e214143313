// @vitest-environment happy-dom
// The snooze form offers no moment already past: the browser refuses one before anything is sent.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { localInputValue } from "../format";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { SnoozeMenu } from "./SnoozeMenu";

const root = eachRoot();

describe("SnoozeMenu", () => {
  it("takes a chosen time from now on, four hours ahead to start with", async () => {
    const setStatus = vi.fn();
    const store = new Store({ setStatus } as unknown as Api);
    render(
      <AppContext.Provider value={testContext(store)}>
        <SnoozeMenu conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    const before = localInputValue(new Date());
    root().querySelector<HTMLButtonElement>("button[aria-controls=snooze-form]")!.click();
    await vi.waitFor(() => expect(root().querySelector("input[type=datetime-local]")).not.toBeNull());
    const input = root().querySelector<HTMLInputElement>("input[type=datetime-local]")!;
    const after = localInputValue(new Date());
    expect(input.min >= before && input.min <= after).toBe(true); // a past moment is out of the input's range
    expect(input.value > input.min).toBe(true);
    expect(setStatus).not.toHaveBeenCalled();
  });

  it("closes with Escape, from its button or its form, and gives the focus back to its button", async () => {
    const store = new Store({ setStatus: vi.fn() } as unknown as Api);
    render(
      <AppContext.Provider value={testContext(store)}>
        <SnoozeMenu conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    const toggle = root().querySelector<HTMLButtonElement>("button[aria-controls=snooze-form]")!;
    for (const from of ["button", "form"] as const) {
      toggle.click();
      await vi.waitFor(() => expect(root().querySelector("#snooze-form")).not.toBeNull());
      const target = from === "button" ? toggle : root().querySelector<HTMLInputElement>("input[type=datetime-local]")!;
      target.focus();
      const escape = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
      target.dispatchEvent(escape);
      await vi.waitFor(() => expect(root().querySelector("#snooze-form")).toBeNull());
      expect(toggle.getAttribute("aria-expanded")).toBe("false");
      expect(escape.defaultPrevented).toBe(true); // the inbox's own Escape (back to the list) does not also run
      expect(document.activeElement).toBe(toggle);
    }
  });
});
