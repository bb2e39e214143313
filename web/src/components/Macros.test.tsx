// @vitest-environment happy-dom
// A macro applied to the open conversation says how it went in a toast; the bar under the list is the selection's.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api, ApplyOut } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { MacroPicker, SelectionBar } from "./Macros";

const root = eachRoot();
const tick = () => new Promise((resolve) => setTimeout(resolve, 60)); // Preact's effects run after paint

describe("MacroPicker", () => {
  it("applies to the open conversation without leaving a selection bar under the list", async () => {
    const applyMacro = vi.fn(async (_m: string, ids: string[]): Promise<ApplyOut> => ({
      macro_id: "ship", name: "Shipping question", applied: 1, refused: 0,
      results: ids.map((id) => ({ conversation_id: id, result: "applied" as const })),
    }));
    const store = new Store({ applyMacro } as unknown as Api);
    store.set({ live: "live", macros: [{ id: "ship", scope: "shared", name: "Shipping question", actions: [] }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <MacroPicker conv={testConversation("c1")} />
        <SelectionBar />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    root().querySelector<HTMLFormElement>(".macro-form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await tick();
    expect(applyMacro).toHaveBeenCalledWith("ship", ["c1"]);
    expect(store.state.toast?.text).toBe("Shipping question: applied to 1, refused 0");
    expect(store.state.applied).toBeNull();
    expect(root().querySelector(".selection-bar")).toBeNull(); // no "0 selected" with the open conversation's result
  });
});
