// @vitest-environment happy-dom
// The answer to an action shows on every page of the app, not only in the inbox.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { Pages } from "./App";

const root = eachRoot();

describe("the pages", () => {
  it("say a refusal on the settings pages in words (a customer looked up by a phone the API refuses)", async () => {
    const detail = "'abc' is not a phone number in international form (+31612345678)";
    const api = {
      findCustomers: () => Promise.reject(new ApiError(400, detail, { detail })),
      search: () => new Promise(() => undefined),
    } as unknown as Api;
    const store = new Store(api, { error: (d) => `Error: ${d}` });
    const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
    render(
      <AppContext.Provider value={context}>
        <Pages route={{ page: "settings", section: "customers" }} />
      </AppContext.Provider>,
      root(),
    );
    const input = root().querySelector<HTMLInputElement>("form input")!;
    input.value = "abc";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 150)); // the page's effects (its subscriptions) have run
    root().querySelector<HTMLFormElement>("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(root().querySelector(".toasts")?.textContent).toContain(detail));
  });

  it("name what the skip link skips to: the conversations in the inbox, else the page", () => {
    const store = new Store({ conversations: () => new Promise(() => undefined) } as unknown as Api);
    const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
    const skip = (route: Parameters<typeof Pages>[0]["route"]) => {
      render(
        <AppContext.Provider value={context}>
          <Pages route={route} />
        </AppContext.Provider>,
        root(),
      );
      return root().querySelector("a.skip")?.textContent;
    };
    expect(skip({ page: "settings", section: "bogus" })).toBe("Skip to Settings");
    expect(skip({ page: "reports" })).toBe("Skip to Reports");
    expect(skip({ page: "board" })).toBe("Skip to Supervisor board");
  });
});
