// @vitest-environment happy-dom
// The forecast and the staffing plan write dates, hours and numbers as the rest of the Reports page does: in the
// agent's language and the zone the forecast was asked in, never as the API's ISO text.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { ForecastAndStaffing } from "./Forecast";

const root = eachRoot();

// two weeks learned per hour of the week: 4 January 12:00 and its twin a week later are as busy
const hours = [
  { hour: "2027-01-04T12:00:00+00:00", expected: 2.5 },
  { hour: "2027-01-04T13:00:00+00:00", expected: 1.083 },
  { hour: "2027-01-11T12:00:00+00:00", expected: 2.5 },
  { hour: "2027-01-11T13:00:00+00:00", expected: 1.083 },
];
const forecast = { channel: null, tz: "UTC", days: 14, history_weeks: 2, items: hours };
const staffing = {
  ...forecast,
  inputs: {},
  items: hours.map((h) => ({ ...h, agents_needed: 2, service_level: 0.8, occupancy: 0.4, limited_by: "service_level",
                             usually_online: 0.333, short: true })),
};

function show(locale: "en" | "es" | "pt", more: Record<string, unknown> = {}, team?: string, policyTeam = team) {
  const api = { forecast: async () => forecast, staffing: async () => staffing, ...more } as unknown as Api;
  render(
    <AppContext.Provider value={testContext(new Store(api), locale)}>
      <ForecastAndStaffing team={team} policyTeam={policyTeam} />
    </AppContext.Provider>,
    root(),
  );
}

describe("the forecast and the staffing plan", () => {
  it("write days, hours and decimals in the agent's language, not as ISO text", async () => {
    show("es");
    await vi.waitFor(() => expect(root().querySelector("#staffing-summary")).not.toBeNull());
    const text = root().textContent ?? "";
    expect(text).not.toMatch(/2027-01-\d\d/);
    expect(text).not.toContain("1.083");
    const days = [...root().querySelectorAll("ul.bars .bar-label")].map((e) => e.textContent);
    expect(days).toEqual(["lun, 4 ene 2027", "lun, 11 ene 2027"]);
    expect([...root().querySelectorAll("ul.bars .bar-value")].map((e) => e.textContent)).toEqual(["3,6", "3,6"]);
    const plan = root().querySelector('table[aria-labelledby="staffing-title"]')!;
    const first = plan.querySelector("tbody tr")!;
    expect(first.querySelector("th")!.textContent).toBe("lun, 4 ene, 12:00");
    expect([...first.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["2,5", "2", "0,33", "Faltan 1,7"]);
    expect(root().querySelector("table tbody td")!.textContent).toBe("2,5"); // the hour by hour table too
  });

  it("says the busiest hour and day are the first of several as busy, not the one", async () => {
    show("en");
    await vi.waitFor(() => expect(root().querySelector("#forecast-summary")).not.toBeNull());
    expect(root().querySelector("#forecast-summary")!.textContent).toBe(
      "7.2 conversations expected over 14 days (learned from 2 weeks). " +
        "Busiest days: 2 with 3.6 each, the first Mon, Jan 4, 2027. " +
        "Busiest hours: 2 with 2.5 each, the first Mon, Jan 4, 12:00 PM.",
    );
  });
});

describe("the staffing plan's first-response target", () => {
  const policy = (id: string, name: string, normal: number, applies_to = {}) => ({
    id, name, targets: { normal: { first_response: normal }, urgent: { first_response: 600 } }, calendar_id: null,
    warning_fraction: 0.8, applies_to, rank: 0, version: 1,
  });
  const target = () =>
    [...root().querySelectorAll("label")].find((l) => l.textContent?.startsWith("First-response target"))!.querySelector("input")!;

  it("starts from the shop's SLA policy for normal priority (the one for the team shown), and says so", async () => {
    const asked: number[] = [];
    show("en", {
      staffing: async (p: { target_seconds: number }) => (asked.push(p.target_seconds), staffing),
      policies: async () => ({ items: [policy("std", "Standard", 4 * 3600), policy("vip", "VIP", 1800, { teams: ["vip"] })] }),
    });
    await vi.waitFor(() => expect(target().value).toBe("240"));
    expect(document.getElementById(target().getAttribute("aria-describedby")!)?.textContent).toBe(
      "From the SLA policy “Standard”: its first-response target for normal priority.",
    );
    await vi.waitFor(() => expect(asked).toEqual([4 * 3600])); // one plan, with the policy's target, never 60 minutes
    render(null, root());
    show("en", {
      policies: async () => ({ items: [policy("std", "Standard", 4 * 3600), policy("vip", "VIP", 1800, { teams: ["vip"] })] }),
    }, "vip");
    await vi.waitFor(() => expect(target().value).toBe("30"));
    // a supervisor of one team, no team picked: the whole scope is theirs, and so is the policy
    render(null, root());
    show("en", {
      policies: async () => ({ items: [policy("std", "Standard", 4 * 3600), policy("vip", "VIP", 1800, { teams: ["vip"] })] }),
    }, undefined, "vip");
    await vi.waitFor(() => expect(target().value).toBe("30"));
  });

  it("keeps the target the supervisor typed and planned", async () => {
    const asked: number[] = [];
    show("en", {
      staffing: async (p: { target_seconds: number }) => (asked.push(p.target_seconds), staffing),
      policies: async () => ({ items: [policy("std", "Standard", 4 * 3600)] }),
    });
    await vi.waitFor(() => expect(target().value).toBe("240"));
    target().value = "15";
    target().dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    target().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(asked.at(-1)).toBe(900));
    expect(target().value).toBe("15");
    expect(target().getAttribute("aria-describedby")).toBeNull();
  });

  it("says 60 minutes is a default when the policies cannot be read or set no normal-priority target", async () => {
    const { ApiError } = await import("../api");
    show("pt", { policies: async () => { throw new ApiError(403, "forbidden", null); } });
    await vi.waitFor(() => expect(root().querySelector("#staffing-target-from")).not.toBeNull());
    const input = [...root().querySelectorAll("label")].find((l) => l.textContent?.startsWith("Meta de primeira"))!.querySelector("input")!;
    expect(input.value).toBe("60");
    expect(root().querySelector("#staffing-target-from")!.textContent).toBe(
      "Um padrão de 60 minutos: nenhuma política de SLA lida dá uma meta de primeira resposta para prioridade normal.",
    );
  });
});
