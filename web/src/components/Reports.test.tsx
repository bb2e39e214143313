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

  it("shows an agent with no name as unnamed in the bars and beside a comment, never by their id", async () => {
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [{ key: "u_7f3a", value: 4 }] }),
      csatComments: async () => ({ items: [{ at: "2026-12-04T10:00:00Z", conversation_id: "c1", agent_id: "u_7f3a",
                                             team: null, channel: "sms", language: "en", rating: 5, comment: "Quick!" }] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ agents: [{ id: "u_7f3a", name: null }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().textContent).toContain("Quick!"));
    await vi.waitFor(() => expect(root().textContent?.match(/Unnamed agent/g)?.length).toBe(2)); // a bar and the comment
    expect(root().textContent).not.toContain("u_7f3a");
  });

  it("draws a duration by group in business time when the rows have it, says so, and gives calendar time beside it", async () => {
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [
        { key: "alice", count: 4, median_s: 3 * 86400, p90_s: null, business_median_s: 1800, business_p90_s: null },
      ] }),
      csatComments: async () => ({ items: [] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ agents: [{ id: "alice", name: "Alice Example" }] as never });
    render(
      <AppContext.Provider value={testContext(store, "es")}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    const chart = () => root().querySelector<HTMLElement>('ul.bars[aria-label="Primera respuesta · Agente"]');
    await vi.waitFor(() => expect(chart()?.querySelector(".bar-value")?.textContent).toBe("30 min (3 d)"));
    const legend = document.getElementById(chart()!.getAttribute("aria-describedby")!);
    expect(legend?.textContent).toContain("Medianas en horario laboral");
    expect(legend?.textContent).toContain("entre paréntesis, en tiempo natural");
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

  it("leaves it to an admin's team picker, which says it already", async () => {
    const api = {
      reportSummary: async () => ({
        teams: null, conversations: 3, first_response: {}, next_response: {}, resolution: { resolved: 1, reopen_rate: null },
        sla: { compliance_by_target: {} }, csat: { score: null, responses: 0, response_rate: null }, bot: { containment_rate: null },
      }),
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [] }),
      csatComments: async () => ({ items: [] }),
      forecast: async () => ({ items: [] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ teams: [{ id: "returns", name: "Returns" }] as never });
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "root", name: "Root", groups: ["admins"] } }}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().textContent).toContain("New conversations"));
    expect(root().querySelector(".reports-whose")).toBeNull();
    expect([...root().querySelectorAll("select option")].map((o) => o.textContent)).toContain("The whole desk");
  });

  it("lets a supervisor of several teams narrow every figure to one of theirs", async () => {
    const asked: (string | undefined)[] = [];
    const summary = (teams: string[]) => ({
      teams, conversations: 3, first_response: {}, next_response: {}, resolution: { resolved: 1, reopen_rate: null },
      sla: { compliance_by_target: {} }, csat: { score: null, responses: 0, response_rate: null },
      bot: { containment_rate: null },
    });
    const api = {
      reportSummary: async (p: { team?: string }) => (asked.push(p.team), summary(p.team ? [p.team] : ["returns", "vip"])),
      reportTopics: async (p: { team?: string }) => (asked.push(p.team), { items: [] }),
      reportMetric: async (p: { team?: string }) => (asked.push(p.team), { items: [] }),
      csatComments: async (p: { team?: string }) => (asked.push(p.team), { items: [] }),
      forecast: async (p: { team?: string }) => (asked.push(p.team), { items: [] }),
      staffing: async (p: { team?: string }) => (asked.push(p.team), { items: [] }),
    } as unknown as Api;
    const store = new Store(api);
    store.set({ teams: [{ id: "returns", name: "Returns" }, { id: "vip", name: "VIP" }, { id: "b2b", name: "B2B" }] as never });
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "sam", name: "Sam", groups: ["supervisors"] } }}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    const select = await vi.waitFor(() => {
      const found = [...root().querySelectorAll("label")].find((l) => l.textContent?.startsWith("Team"));
      expect(found).toBeTruthy();
      return found!.querySelector("select")!;
    });
    // their own teams only, not the desk's others
    expect([...select.options].map((o) => o.textContent)).toEqual(["All my teams", "Returns", "VIP"]);
    // the first figures are all asked (the forecast's after the summary's answer) before the team changes
    await vi.waitFor(() => expect(asked.length).toBe(6));
    expect(asked.every((team) => team === undefined)).toBe(true);
    asked.length = 0;
    select.value = "vip";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector(".reports-whose")?.textContent).toBe("Team: VIP"));
    await vi.waitFor(() => expect(asked.length).toBe(6)); // summary, comments, topics, metric, forecast, staffing
    expect(new Set(asked)).toEqual(new Set(["vip"]));
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

describe("the rows by group as a file", () => {
  it("names the row of no agent, and offers no grouping by agent for a figure nobody is credited with", async () => {
    const asked: { metric: string; group_by?: string }[] = [];
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      csatComments: async () => ({ items: [] }),
      reportMetric: async (p: { metric: string; group_by?: string }) => {
        asked.push(p);
        return { items: [{ key: "alice", value: 2 }, { key: null, value: 1 }] };
      },
    } as unknown as Api;
    const store = new Store(api);
    store.set({ agents: [{ id: "alice", name: "Alice Example" }] as never });
    render(
      <AppContext.Provider value={testContext(store)}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    // by agent, the targets of unassigned conversations (the row keyed null) are no agent's, said so, not "—"
    const labels = () => [...root().querySelectorAll(".bars .bar-label")].map((l) => l.textContent);
    await vi.waitFor(() => expect(labels()).toEqual(["Alice Example", "No agent"]));
    // new conversations are nobody's: picking them groups by team, and agent is no choice
    const pick = (label: string) =>
      [...root().querySelectorAll("label")].find((l) => l.querySelector("span")?.textContent === label)!
        .querySelector("select")!;
    const [metricPick, groupPick] = [pick("Metric"), pick("By")];
    metricPick.value = "conversations";
    metricPick.dispatchEvent(new Event("change"));
    await vi.waitFor(() => expect(asked.at(-1)).toMatchObject({ metric: "conversations", group_by: "team" }));
    expect(groupPick.value).toBe("team");
    expect([...groupPick.options].map((o) => o.value)).not.toContain("agent");
    expect(asked.some((p) => p.metric === "conversations" && p.group_by === "agent")).toBe(false);
  });

  it("downloads the CSV the API writes for the metric, groups and period shown, named by what it holds", async () => {
    const asked: Record<string, unknown>[] = [];
    const api = {
      reportSummary: async () => null,
      reportTopics: async () => ({ items: [] }),
      csatComments: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [{ key: "alice", value: 4 }] }),
      reportCsv: async (p: Record<string, unknown>) => (asked.push(p), "key,value\r\nalice,4\r\n"),
    } as unknown as Api;
    const clicked: { href: string; download: string }[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    render(
      <AppContext.Provider value={testContext(new Store(api))}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    const button = await vi.waitFor(() => {
      const found = [...root().querySelectorAll("button")].find((b) => b.textContent === "Download CSV");
      expect(found).toBeDefined();
      return found!;
    });
    button.click();
    await vi.waitFor(() => expect(clicked.length).toBe(1));
    click.mockRestore();
    expect(asked[0]).toMatchObject({ metric: "first_response", group_by: "agent" });
    expect(clicked[0]!.href).toMatch(/^blob:/);
    expect(clicked[0]!.download).toBe(`shopdesk-first_response-by-agent-${asked[0]!.from}-to-${asked[0]!.to}.csv`);
  });
});

describe("the reports' period", () => {
  function showReports(over: Partial<Record<keyof Api, unknown>> = {}) {
    const asked: { from: string; to: string }[] = [];
    const api = {
      reportSummary: async (p: { from: string; to: string }) => {
        asked.push({ from: p.from, to: p.to });
        return null;
      },
      reportTopics: async () => ({ items: [] }),
      reportMetric: async () => ({ items: [] }),
      csatComments: async () => ({ items: [] }),
      ...over,
    } as unknown as Api;
    render(
      <AppContext.Provider value={testContext(new Store(api))}>
        <Reports />
      </AppContext.Provider>,
      root(),
    );
    return asked;
  }
  const pick = (selector: string, value: string, event = "change") => {
    const element = root().querySelector<HTMLSelectElement | HTMLInputElement>(selector)!;
    element.value = value;
    element.dispatchEvent(new Event(event, { bubbles: true }));
  };

  it("takes a period's figures away as days of one's own choice are picked, and never shows a late answer", async () => {
    let release: () => void = () => undefined;
    showReports({
      reportMetric: async (p: { from: string }) => {
        if (p.from === "2026-11-01") await new Promise<void>((resolve) => (release = resolve)); // last month: slow
        return { items: [{ key: `agent-of-${p.from}`, value: 4 }] };
      },
    });
    await vi.waitFor(() => expect(root().textContent).toMatch(/agent-of-2026-\d\d-\d\d/));
    const thisWeek = root().textContent!.match(/agent-of-[\d-]+/)![0];
    // last month is asked for, and, before it answers, days of one's own choice
    pick("select", "last_month");
    await vi.waitFor(() => expect(root().textContent).not.toContain(thisWeek));
    pick("select", "custom");
    await vi.waitFor(() => expect(root().textContent).toContain("Pick the first and the last day."));
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // no figure under a line that names no period: neither this week's nor last month's late answer
    expect(root().textContent).not.toContain("agent-of-");
  });

  it("is this week until the supervisor picks another, and the figures follow the pick", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(2026, 11, 3, 15, 0));          // Thursday 3 December
    try {
      const asked = showReports();
      await vi.waitFor(() => expect(asked).toEqual([{ from: "2026-11-30", to: "2026-12-07" }]));
      pick("select", "last_month");
      await vi.waitFor(() => expect(asked.at(-1)).toEqual({ from: "2026-11-01", to: "2026-12-01" }));
      expect(root().textContent).toContain("From Nov 1, 2026 to Nov 30, 2026");
      // days of their choice: nothing is asked until both are there, then the last day is included
      pick("select", "custom");
      await vi.waitFor(() => expect(root().textContent).toContain("Pick the first and the last day."));
      const before = asked.length;
      pick('input[type="date"]', "2026-11-10", "input");
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(asked.length).toBe(before);
      pick('label:nth-of-type(3) input[type="date"]', "2026-11-12", "input");
      await vi.waitFor(() => expect(asked.at(-1)).toEqual({ from: "2026-11-10", to: "2026-11-13" }));
    } finally {
      vi.useRealTimers();
    }
  });
});
