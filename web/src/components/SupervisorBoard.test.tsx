// @vitest-environment happy-dom
// The supervisor board: the queues it reads are those the viewer may read, so a supervisor's board is not refused.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { SupervisorBoard } from "./SupervisorBoard";

const root = eachRoot();

const LOADS: Record<string, [number, number]> = { alice: [3, 3], bob: [3, 2] }; // full; over (its capacity lowered)
const NAMES: Record<string, string | null> = {}; // an agent's name where it is not their id (null: none)
const agent = (id: string, teams: string[]) =>
  ({ id, name: id in NAMES ? NAMES[id] : id, presence: "online", capacity: LOADS[id]?.[1] ?? 3, active: LOADS[id]?.[0] ?? 0, teams, skills: [],
     languages: [], last_assigned_at: null });

const breach = { kind: "breach", conversation_id: "c_1", target: "first_response", due_at: "2026-12-07T08:00:00Z",
                 at: "2026-12-07T08:01:00Z", team: "returns", assignee: "bob", priority: "high", channel: "whatsapp",
                 customer_name: "Dana Returns" };

function showBoard(groups: string[], myTeams: string[]) {
  // the server's rule: a team's queue is for its members and admins
  const conversations = vi.fn(async (q: { team?: string }) => {
    if (!groups.includes("admins") && !myTeams.includes(q.team ?? ""))
      throw new ApiError(403, `only members of team ${q.team} (and admins) see its queue`, {});
    return { items: [], next_cursor: null };
  });
  const api = {
    adminAgents: async () => ({ items: [agent("alice", ["default"]), agent("bob", ["returns"]), agent("sue", myTeams)] }),
    teams: async () => ({ items: [{ id: "returns", name: "Returns", description: null, version: 1 }] }),
    me: async () => ({ id: "sue", name: "Sue", presence: "online", capacity: 3, active: 0, teams: myTeams }),
    conversations,
    slaEvents: async () => ({ items: [breach], more: false }),
  };
  const store = new Store(api as unknown as Api);
  const notices: string[] = [];
  store.subscribe(() => store.state.toast?.kind === "error" && notices.push(store.state.toast.text));
  const context = { ...testContext(store), who: { id: "sue", name: "Sue", groups } };
  render(
    <AppContext.Provider value={context}>
      <SupervisorBoard />
    </AppContext.Provider>,
    root(),
  );
  return { conversations, notices };
}

const text = () => root().textContent ?? "";

describe("the supervisor board", () => {
  it("says which agents are full and which hold more than they take", async () => {
    showBoard(["admins"], ["default"]);
    await vi.waitFor(() => expect(root().querySelector(".load-over")).not.toBeNull());
    const row = (name: string) => [...root().querySelectorAll("tr")].find((r) => r.querySelector("td")?.textContent === name);
    expect(row("alice")?.querySelector(".load-full")?.textContent?.trim()).toBe("full: gets no new conversations");
    expect(row("bob")?.querySelector(".load-over")?.textContent?.trim()).toBe("over capacity: none new until below it");
    expect(row("sue")?.querySelector(".load-full, .load-over")).toBeNull();
  });

  it("reads only a supervisor's own teams' queues, and shows their SLA trouble", async () => {
    const { conversations, notices } = showBoard(["supervisors"], ["returns"]);
    await vi.waitFor(() => expect(text()).toContain("Dana Returns"));
    expect(conversations.mock.calls.map(([q]) => q.team)).toEqual(["returns"]);
    expect(notices).toEqual([]);
  });

  it("reads every team's queue for an admin", async () => {
    const { conversations } = showBoard(["admins"], ["default"]);
    await vi.waitFor(() => expect(text()).toContain("Dana Returns"));
    expect(conversations.mock.calls.map(([q]) => q.team).sort()).toEqual(["default", "returns"]);
  });

  it("says an agent with no name (or a blank one) as unnamed in the agents' rows and the SLA trouble, never by their id", async () => {
    Object.assign(NAMES, { bob: null, alice: "  " });
    try {
      showBoard(["admins"], ["default"]);
      await vi.waitFor(() => expect(text()).toContain("Dana Returns"));
      const names = [...root().querySelectorAll("tbody tr")].map((r) => r.querySelector("td")?.textContent);
      expect(names).toEqual(expect.arrayContaining(["Unnamed agent", "sue"]));
      expect(names).not.toContain("bob");
      expect(names).not.toContain("alice");
      expect(root().querySelector(".sla-events")?.textContent).toContain("Unnamed agent");
      expect(root().querySelector(".sla-events")?.textContent).not.toContain("bob");
    } finally {
      for (const id of Object.keys(NAMES)) delete NAMES[id];
    }
  });
});
