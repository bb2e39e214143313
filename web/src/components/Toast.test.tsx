// @vitest-environment happy-dom
// An error the agent has to act on is an alert, read out at once; what went well a polite status.
import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { Toast } from "./Toast";

const root = eachRoot();

function shown(): Store {
  const store = new Store({} as Api);
  act(() => {
    render(
      <AppContext.Provider value={testContext(store)}>
        <Toast />
      </AppContext.Provider>,
      root(),
    );
  });
  return store;
}

describe("Toast", () => {
  it("says an error in an assertive alert, not in the polite status", () => {
    // Given the page's notifications, both regions there before anything is said
    const store = shown();
    const alert = root().querySelector<HTMLElement>('[role="alert"]')!;
    const status = root().querySelector<HTMLElement>('[role="status"]')!;
    expect(alert.getAttribute("aria-live")).toBe("assertive");
    expect(alert.getAttribute("aria-label")).toBe("Errors");
    expect(status.getAttribute("aria-live")).toBe("polite");
    // When an action is refused
    act(() => store.notify("error", "Error: the customer has no email address"));
    // Then the alert says so, and the status does not
    expect(alert.textContent).toContain("the customer has no email address");
    expect(root().querySelector(".toast-error")?.contains(alert)).toBe(true);
    expect(status.textContent).toBe("");
  });

  it("says the error without its Close button, which stays beside it and closes it", () => {
    const store = shown();
    act(() => store.notify("error", "Error: the customer has no email address"));
    const alert = root().querySelector<HTMLElement>('[role="alert"]')!;
    // The alert's words are the error's and nothing else: no "… Close" read after every error
    expect(alert.textContent).toBe("Error: the customer has no email address");
    expect(alert.querySelector("button")).toBeNull();
    const close = [...root().querySelectorAll("button")].find((b) => b.textContent === "Close")!;
    expect(root().querySelector(".toast-error")?.contains(close)).toBe(true);
    act(() => close.click());
    expect(alert.textContent).toBe("");
    expect(root().querySelector(".toast")).toBeNull();
  });

  it("says what went well in the polite status, and nothing in the alert", () => {
    const store = shown();
    act(() => store.notify("ok", "Status: Snoozed"));
    expect(root().querySelector('[role="status"]')!.textContent).toBe("Status: Snoozed");
    expect(root().querySelector('[role="alert"]')!.textContent).toBe("");
  });
});
