// @vitest-environment happy-dom
// The macro pages mark a macro that adds a label retired since it was saved: applying it skips that label.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api, Macro } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { MacrosAdmin } from "./MacrosAdmin";

const root = eachRoot();

describe("shared macros", () => {
  it("marks the one whose labels are retired, naming them", async () => {
    const greet: Macro = { id: "greet", scope: "shared", name: "QA greet", version: 1, retired_labels: ["qa-vip"],
      actions: [{ type: "add_labels", labels: ["qa-vip"] }, { type: "note", text: "Greeted" }] };
    const fine: Macro = { id: "fine", scope: "shared", name: "Fine", version: 1, retired_labels: [],
      actions: [{ type: "note", text: "Fine" }] };
    const api = { sharedMacros: async () => ({ items: [fine, greet] }), sharedCanned: async () => ({ items: [] }) };
    const store = new Store(api as unknown as Api);
    store.loadTools = async () => undefined;
    store.set({ labels: [{ id: "qa-vip", name: "QA VIP", color: "#f2c94c", retired: true, version: 2 }] });
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["supervisors"] } }}>
        <MacrosAdmin scope="shared" />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().querySelectorAll("tbody tr").length).toBe(2));
    const [first, second] = [...root().querySelectorAll("tbody tr")].map((row) => row.querySelector("td")!.textContent);
    expect(first).toBe("Fine");
    expect(second).toBe("QA greet⚠ Adds retired labels: QA VIP. Applying it skips them: edit it to take them out.");
  });
});
