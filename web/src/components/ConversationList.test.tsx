// @vitest-environment happy-dom
// The conversation list is one stop in the tab order: Tab leaves it, however long it is.
import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { ConversationList } from "./ConversationList";

const root = eachRoot();

describe("ConversationList", () => {
  it("puts only the selected row's checkbox and button in the tab order (x picks the others)", () => {
    const store = new Store({} as Api);
    const items = Array.from({ length: 30 }, (_, i) => testConversation(`c${i}`, { customer: { id: `cu${i}`, name: `Customer ${i}` } }));
    store.set({ items, loading: false, selected: 2 });
    render(
      <AppContext.Provider value={testContext(store)}>
        <ConversationList listRef={{ current: null }} onOpen={() => undefined} />
      </AppContext.Provider>,
      root(),
    );
    const rows = [...root().querySelectorAll("ul.conversations li:not(.list-end)")];
    expect(rows).toHaveLength(30);
    const tabbable = [...root().querySelectorAll<HTMLElement>("ul.conversations input, ul.conversations button")].filter((e) => e.tabIndex >= 0);
    const selected = store.visible()[2]!.customer.name;
    expect(tabbable.map((e) => e.closest("li")?.textContent?.match(/Customer \d+/)?.[0])).toEqual([selected, selected]);
  });
});
