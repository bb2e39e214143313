// @vitest-environment happy-dom
// The transfer form sends the agent it shows, also after a transfer took the chosen agent out of the list.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Agent, Api, Conversation } from "../api";
import { AppContext } from "../context";
import { Store, useStore } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { TransferCard } from "./CustomerPanel";

const root = eachRoot();
const agent = (id: string, active: number): Agent =>
  ({ id, name: `${id[0]!.toUpperCase()}${id.slice(1)}`, presence: "online", capacity: 3, active, teams: ["default"] }) as Agent;
const tick = () => new Promise((resolve) => setTimeout(resolve, 60));

describe("TransferCard", () => {
  it("names colleagues with no name by their work email, so two of them read apart; never by their id", async () => {
    // Given colleagues as GET /agent/agents lists them: two with no name but an email, one with neither
    const nameless = (id: string, email: string | null): Agent => ({ ...agent(id, 0), name: null, email });
    const colleagues = [agent("alice", 1), nameless("u_7f3a", "ana@shop.example"), nameless("u_9c1d", "ben@shop.example"), nameless("u_0b2e", null)];
    const store = new Store({ agents: vi.fn(async () => ({ items: colleagues })) } as unknown as Api);
    store.set({ live: "live", agents: colleagues, openId: "c1", open: testConversation("c1", { assignee: "alice" }) });
    // When the transfer list shows them
    render(
      <AppContext.Provider value={testContext(store)}>
        <TransferCard conv={testConversation("c1", { assignee: "alice" })} />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    // Then each reads by email, the one with neither as Unnamed agent, and no option shows an id
    const options = [...root().querySelectorAll<HTMLOptionElement>("select option")];
    expect(options.map((o) => [o.value, o.textContent?.split(" · ")[0]])).toEqual([
      ["u_7f3a", "ana@shop.example"],
      ["u_9c1d", "ben@shop.example"],
      ["u_0b2e", "Unnamed agent"],
    ]);
    expect(options.some((o) => /u_[0-9a-f]{4}/.test(o.textContent ?? ""))).toBe(false);
  });

  it("after a transfer, sends the agent its list shows, and shows the agents' loads read again", async () => {
    let conv: Conversation = testConversation("c1", { assignee: "alice" });
    let loads = { alice: 2, bob: 1, carol: 0 };
    const assigned: string[] = [];
    const api = {
      assign: vi.fn(async (_id: string, agentId: string) => {
        assigned.push(agentId);
        loads = { ...loads, [conv.assignee as "alice"]: loads[conv.assignee as "alice"] - 1, [agentId as "bob"]: loads[agentId as "bob"] + 1 };
        conv = { ...conv, assignee: agentId };
        return conv;
      }),
      agents: vi.fn(async () => ({ items: Object.entries(loads).map(([id, n]) => agent(id, n)) })),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ live: "live", agents: (await api.agents()).items, openId: "c1", open: conv });
    const show = () =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <TransferCard conv={conv} />
        </AppContext.Provider>,
        root(),
      );
    show();
    await tick();
    const select = () => root().querySelector<HTMLSelectElement>("select")!;
    const submit = () => root().querySelector<HTMLFormElement>("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    select().value = "bob";
    select().dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    submit();
    await tick();
    show(); // the conversation as the API answered it: bob's now
    await tick();
    expect(assigned).toEqual(["bob"]);
    expect([...select().options].map((o) => o.value)).toEqual(["alice", "carol"]);
    expect(select().value).toBe("alice");
    expect(select().selectedOptions[0]?.textContent).toContain("1/3"); // alice's load, read again after the transfer
    submit();
    await tick();
    expect(assigned).toEqual(["bob", "alice"]); // what was shown, never bob again
  });

  it("Assign to me pressed from the keyboard leaves the keyboard on Transfer to, not on the page, as it goes", async () => {
    // Given an unassigned conversation open, the keyboard on its Assign to me
    let conv: Conversation = testConversation("c1", { assignee: null });
    const api = {
      assign: vi.fn(async (_id: string, agentId: string) => (conv = { ...conv, assignee: agentId })),
      agents: vi.fn(async () => ({ items: [agent("alice", 1), agent("bob", 0)] })),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ live: "live", agents: (await api.agents()).items, openId: "c1", open: conv });
    // (rendered as the panel renders it: with the open conversation, the API's answer once it came)
    const Card = () => <TransferCard conv={useStore(store).open ?? conv} />;
    render(
      <AppContext.Provider value={testContext(store)}>
        <Card />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    const assign = [...root().querySelectorAll("button")].find((b) => b.textContent === "Assign to me")!;
    assign.focus();
    expect(document.activeElement).toBe(assign);
    // When she presses it
    assign.click();
    await tick();
    // Then the conversation is hers, the button gone, and the keyboard on the card's next control
    expect(api.assign).toHaveBeenCalledWith("c1", "alice", undefined);
    expect(assign.isConnected).toBe(false);
    expect(document.activeElement).toBe(root().querySelector("select"));
  });
});
