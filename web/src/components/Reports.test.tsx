// @vitest-environment happy-dom
// The reports page names agents as the inbox does: in the bars by agent and beside each CSAT comment.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { Reports } from "./Reports";

const root = eachRoot();

describe("the reports page", () => {
  it("shows agents by name, and one it does not know by id", async () => {
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [{ key: "alice", value: 4 }, { key: "gone", value: 2 }] }),
      csatComments: async () => ({ items: [{ at: "2026-12-04T10:00:00Z", conversation_id: "c1", agent_id: "alice",
                                             team: null, channel: "sms", language: "en", rating: 5, comment: "Quick!" }] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ agents: [{ id: "alice", name: "Alice Example" }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().textContent).toContain("Quick!"));
    await vi.waitFor(() => expect(root().textContent).toContain("gone"));
    const text = root().textContent ?? "";
    expect(text.match(/Alice Example/g)?.length).toBe(2);            // a bar and the comment
    expect(text).not.toMatch(/\balice\b/);
  });

  it("says whose figures they are: a supervisor's teams by name, or the whole desk", async () => {
    const summary = (teams: string[] | null) => ({
      teams, conversations: 3, first_response: {}, next_response: {}, resolution: { resolved: 1, reopen_rate: null },
      sla: { compliance_by_target: {} }, csat: { score: null, responses: 0, response_rate: null },
      bot: { containment_rate: null },
    });
    for (const [teams, says] of [[["returns", "vip"], "Your teams: Returns, VIP"], [null, "The whole desk"]] as const) {
      const api = {
        reportSummary: async () => summary(teams === null ? null : [...teams]),
        reportTopics: async () => ({ items: [] }),
        reportMetric: async () => ({ items: [] }),
        csatComments: async () => ({ items: [] }),
      } as unknown as Api;
      const store = new Store(api);
      store.set({ teams: [{ id: "returns", name: "Returns" }, { id: "vip", name: "VIP" }] as never });
      render(
        <AppContext.Provider value={testContext(store)}>
          <Reports />
        </AppContext.Provider>,
        root(),
      );
      await vi.waitFor(() => expect(root().querySelector(".reports-whose")?.textContent).toBe(says));
      render(null, root());
    }
  });

  it("says when a comment was written in the agent's time zone, and opens its conversation in the app", async () => {
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [] }),
      csatComments: async () => ({ items: [{ at: "2026-12-04T23:30:00Z", conversation_id: "c1", agent_id: null,
                                             team: null, channel: "sms", language: "en", rating: 4, comment: "Nice" }] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ now: Date.parse("2026-12-05T10:00:00Z") });
    const opened: string[] = [];
    const context = { ...testContext(store), timeZone: "Asia/Tokyo", navigate: (path: string) => void opened.push(path) };
    render(
      <AppContext.Provider value={context}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().textContent).toContain("Nice"));
    const when = root().querySelector<HTMLTimeElement>("td time")!;
    expect(when.textContent).toBe("08:30 AM"); // 23:30 UTC is 08:30 the next morning in Tokyo: today there
    const link = [...root().querySelectorAll("a")].find((a) => a.textContent === "Nice")!;
    const click = new MouseEvent("click", { bubbles: true, cancelable: true, button: 0 });
    link.dispatchEvent(click);
    expect(opened).toEqual(["/c/c1"]);
    expect(click.defaultPrevented).toBe(true);
  });
});
