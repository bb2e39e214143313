import { describe, expect, it } from "vitest";
import { translator } from "./i18n";
import {
  bars,
  dayKey,
  dailyForecast,
  dayAndHour,
  figure,
  timeBasis,
  forecastFacts,
  forecastHour,
  policyTarget,
  normaliseTopic,
  periodDays,
  stars,
  staffingOf,
  staffingQuery,
  topicName,
  topicsOf,
  reportTeamChoices,
  weekOf,
  periodOf,
  whoseFigures,
  type StaffingHour,
} from "./reports";

describe("weekOf", () => {
  it("runs from the Monday of the week to the next Monday", () => {
    expect(weekOf(new Date(2026, 11, 3, 15, 0))).toEqual({ from: "2026-11-30", to: "2026-12-07" });
  });
  it("keeps a Sunday in the week that began the Monday before", () => {
    expect(weekOf(new Date(2026, 11, 6, 23, 59))).toEqual({ from: "2026-11-30", to: "2026-12-07" });
  });
  it("starts a week on Monday itself", () => {
    expect(weekOf(new Date(2026, 11, 7, 0, 1))).toEqual({ from: "2026-12-07", to: "2026-12-14" });
  });
});

describe("bars", () => {
  it("scales every bar to the largest figure", () => {
    const got = bars([
      { key: "alice", value: 4 },
      { key: "bob", value: 8 },
    ]);
    expect(got).toEqual([
      { label: "alice", value: 4, share: 0.5 },
      { label: "bob", value: 8, share: 1 },
    ]);
  });
  it("shows a duration's median and leaves out rows without a figure", () => {
    expect(figure({ key: "sms", count: 3, median_s: 90 })).toBe(90);
    expect(bars([{ key: null, median_s: null, count: 0 }, { key: "sms", median_s: 0 }])).toEqual([
      { label: "sms", value: 0, share: 0, other: null },
    ]);
  });
  it("draws a duration's median in business time when the rows have it, with calendar time beside it", () => {
    const rows = [
      { key: "alice", count: 4, median_s: 3 * 86400, business_median_s: 1800 }, // Friday evening to Monday
      { key: "bob", count: 2, median_s: 3600, business_median_s: 3600 },
    ];
    expect(timeBasis(rows)).toBe("business");
    expect(figure(rows[0]!)).toBe(1800);
    expect(bars(rows)).toEqual([
      { label: "alice", value: 1800, share: 0.5, other: 3 * 86400 },
      { label: "bob", value: 3600, share: 1, other: 3600 },
    ]);
  });
  it("draws every bar in calendar time when a row has no business time (one chart, one time)", () => {
    const rows = [
      { key: "alice", count: 4, median_s: 7200, business_median_s: 1800 },
      { key: "bob", count: 2, median_s: 3600, business_median_s: null },
    ];
    expect(timeBasis(rows)).toBe("calendar");
    expect(bars(rows)).toEqual([
      { label: "alice", value: 7200, share: 1, other: 1800 },
      { label: "bob", value: 3600, share: 0.5, other: null },
    ]);
  });
});

describe("topicsOf", () => {
  const row = (key: string, topic: string, conversations: number, previous: number) => ({
    key,
    topic,
    conversations,
    rank: 0,
    previous,
    change: conversations - previous,
    rising: conversations > previous,
  });
  it("lists the latest week's reasons by count and the rising ones by their rise", () => {
    const got = topicsOf([
      row("2026-11-23", "returns", 9, 1),
      row("2026-11-30", "returns", 4, 9),
      row("2026-11-30", "order_status", 7, 2),
      row("2026-11-30", "refund", 4, 1),
      row("2026-11-30", "damaged", 1, 0),
    ]);
    expect(got.week).toBe("2026-11-30");
    expect(got.top.map((r) => r.topic)).toEqual(["order_status", "refund", "returns", "damaged"]);
    expect(got.rising.map((r) => [r.topic, r.change])).toEqual([
      ["order_status", 5],
      ["refund", 3],
      ["damaged", 1],
    ]);
  });
  it("answers nothing for no rows and keeps at most the limit", () => {
    expect(topicsOf([])).toEqual({ week: null, top: [], rising: [] });
    const many = Array.from({ length: 8 }, (_, i) => row("2026-11-30", `t${i}`, i + 1, 0));
    expect(topicsOf(many, 3).top.map((r) => r.topic)).toEqual(["t7", "t6", "t5"]);
  });
  it("reads a topic with spaces", () => {
    expect(topicName("order_status")).toBe("order status");
    expect(topicName("returns_policy", translator("es"))).toBe("returns policy");
  });
  it("says the router's contact reasons in the agent's language", () => {
    expect(topicName("order_status", translator("es"))).toBe("estado del pedido");
    expect(topicName("payment_account", translator("pt"))).toBe("pagamento ou conta");
    expect(topicName("legal", translator("en"))).toBe("legal matter");
    expect(topicName("safety", translator("es"))).toBe("seguridad");
  });
  it("names a label's topic by the label, whose id the topic is normalised", () => {
    const labels = [
      { id: "damaged-goods", name: "Dañado" },
      { id: "order-status", name: "Where is it" },
    ];
    expect(topicName("damaged_goods", translator("es"), labels)).toBe("Dañado");
    expect(topicName("order_status", translator("es"), labels)).toBe("Where is it"); // the shop's own label first
    expect(topicName("refund", translator("es"), labels)).toBe("refund");
    expect(normaliseTopic("Returns & Refunds")).toBe("returns_refunds");
    expect(normaliseTopic("  Ação--Rápida ")).toBe("acao_rapida");
    expect(normaliseTopic("x".repeat(59) + "-y")).toBe("x".repeat(59));
  });
});

describe("CSAT", () => {
  it("shows a CSAT row's score as its figure", () => {
    expect(figure({ key: "alice", asked: 3, responses: 2, satisfied: 1, score: 0.5, response_rate: 0.6667 })).toBe(0.5);
    expect(figure({ key: "bob", asked: 1, responses: 0, satisfied: 0, score: null })).toBeNull();
  });
  it("draws a rating as five stars", () => {
    expect(stars(4)).toBe("★★★★☆");
    expect(stars(1)).toBe("★☆☆☆☆");
    expect(stars(null)).toBe("");
  });
});

describe("the forecast", () => {
  const items = [
    { hour: "2026-12-07T09:00:00+01:00", expected: 2 },
    { hour: "2026-12-07T10:00:00+01:00", expected: 1.25 },
    { hour: "2026-12-08T00:00:00+01:00", expected: 0.5 },
    { hour: "2026-12-08T15:00:00+01:00", expected: 3 },
  ];
  it("reads the day and hour as the API told them, in its zone", () => {
    expect(dayAndHour("2026-12-08T00:00:00+01:00")).toEqual({ day: "2026-12-08", hour: "00" });
  });
  it("adds the hours up per day, scaled to the busiest day", () => {
    expect(dailyForecast(items)).toEqual([
      { label: "2026-12-07", value: 3.3, share: 3.25 / 3.5 },
      { label: "2026-12-08", value: 3.5, share: 1 },
    ]);
  });
  it("names the total, the busiest day and the busiest hour for the text alternative", () => {
    const facts = forecastFacts(items);
    expect(facts.total).toBe(6.8);
    expect(facts.busiestDay?.label).toBe("2026-12-08");
    expect(facts.busiestHour?.hour).toBe("2026-12-08T15:00:00+01:00");
  });
  it("has no busiest day or hour when nothing is expected", () => {
    expect(forecastFacts([{ hour: "2026-12-07T09:00:00+01:00", expected: 0 }])).toEqual({
      total: 0,
      busiestDay: null,
      busiestDays: 0,
      busiestHour: null,
      busiestHours: 0,
    });
  });
  it("takes the earliest of days and hours as busy, and says how many are (a week's twin over 14 days)", () => {
    const twins = [
      { hour: "2026-12-07T09:00:00+01:00", expected: 2.5 },
      { hour: "2026-12-07T10:00:00+01:00", expected: 1 },
      { hour: "2026-12-14T09:00:00+01:00", expected: 2.5 },
      { hour: "2026-12-14T10:00:00+01:00", expected: 1 },
    ];
    const facts = forecastFacts(twins);
    expect(facts.busiestHour?.hour).toBe("2026-12-07T09:00:00+01:00");
    expect(facts.busiestHours).toBe(2);
    expect(facts.busiestDay?.label).toBe("2026-12-07");
    expect(facts.busiestDays).toBe(2);
    expect(forecastFacts(items).busiestHours).toBe(1);
  });
  it("starts the staffing target from the policy the SLA engine would choose, for normal priority", () => {
    const p = (id: string, applies_to: object, normal?: number, rank = 0) => ({
      id, name: id.toUpperCase(), rank, applies_to, targets: normal ? { normal: { first_response: normal } } : {},
    });
    const policies = [p("std", {}, 14400), p("late", {}, 7200, 5), p("vip", { teams: ["VIP"] }, 1800),
                      p("gold", { tiers: ["gold"] }, 600), p("wa", { channels: ["whatsapp"], teams: ["vip"] }, 900)];
    expect(policyTarget(policies, {})).toEqual({ seconds: 14400, policy: "STD" }); // lower rank first
    expect(policyTarget(policies, { team: "vip" })).toEqual({ seconds: 1800, policy: "VIP" }); // more specific
    expect(policyTarget(policies, { team: "vip", channel: "whatsapp" })).toEqual({ seconds: 900, policy: "WA" });
    expect(policyTarget([p("std", {})], {})).toBeNull(); // no normal-priority target
    expect(policyTarget([p("vip", { teams: ["vip"] }, 1800)], {})).toBeNull(); // none applies
    // a team's policy listing only high gives way to the next for normal, as the SLA engine does
    const highOnly = { id: "hi", name: "HI", rank: 0, applies_to: { teams: ["vip"] }, targets: { high: { first_response: 60 } } };
    expect(policyTarget([...policies.slice(0, 2), highOnly], { team: "vip" })).toEqual({ seconds: 14400, policy: "STD" });
  });
  it("writes an hour in the agent's language, in the zone it was asked in", () => {
    expect(forecastHour("2027-01-04T12:00:00+01:00", "es", "Europe/Madrid")).toBe("lun, 4 ene, 12:00");
    expect(forecastHour("2027-01-04T12:00:00+01:00", "en-US", "Europe/Madrid")).toBe("Mon, Jan 4, 12:00 PM");
  });
});

describe("the staffing plan", () => {
  const hour = (h: string, needed: number, online: number): StaffingHour => ({
    hour: h,
    expected: needed,
    agents_needed: needed,
    service_level: 1,
    occupancy: 0,
    limited_by: needed ? "service_level" : "none",
    usually_online: online,
    short: online < needed,
  });
  it("lists the hours someone is needed or online, and those short of agents", () => {
    const quiet = hour("2026-12-07T03:00:00+00:00", 0, 0);
    const covered = hour("2026-12-07T09:00:00+00:00", 1, 1.5);
    const short = hour("2026-12-07T10:00:00+00:00", 2, 0.625);
    const idle = hour("2026-12-07T20:00:00+00:00", 0, 1);
    expect(staffingOf([quiet, covered, short, idle])).toEqual({ rows: [covered, short, idle], short: [short] });
  });
  it("turns minutes and a percentage into the API's seconds and share", () => {
    expect(staffingQuery({ handleMinutes: "10", targetMinutes: "60", concurrency: "3", goalPercent: "80" })).toEqual({
      handle_seconds: 600,
      target_seconds: 3600,
      concurrency: 3,
      goal: 0.8,
    });
    expect(staffingQuery({ handleMinutes: "2.5", targetMinutes: "30", concurrency: "1", goalPercent: "95" })).toEqual({
      handle_seconds: 150,
      target_seconds: 1800,
      concurrency: 1,
      goal: 0.95,
    });
  });
  it.each([
    { handleMinutes: "0.25", targetMinutes: "60", concurrency: "3", goalPercent: "80" },
    { handleMinutes: "10", targetMinutes: "0.5", concurrency: "3", goalPercent: "80" },
    { handleMinutes: "10", targetMinutes: "60", concurrency: "1.5", goalPercent: "80" },
    { handleMinutes: "10", targetMinutes: "60", concurrency: "3", goalPercent: "100" },
    { handleMinutes: "ten", targetMinutes: "60", concurrency: "3", goalPercent: "80" },
  ])("refuses inputs outside the API's ranges (%o)", (form) => {
    expect(staffingQuery(form)).toBeNull();
  });
});

describe("periodDays", () => {
  it("writes a week's first and last day as the agent's language writes dates, the end day not included", () => {
    expect(periodDays({ from: "2026-11-30", to: "2026-12-07" }, "en")).toEqual({ from: "Nov 30, 2026", to: "Dec 6, 2026" });
    const es = periodDays({ from: "2026-11-30", to: "2026-12-07" }, "es");
    expect(es.from).toMatch(/^30 nov 2026$/);
    expect(es.to).toMatch(/^6 dic 2026$/);
  });

  it("crosses a month and a year", () => {
    expect(periodDays({ from: "2026-12-28", to: "2027-01-04" }, "en")).toEqual({ from: "Dec 28, 2026", to: "Jan 3, 2027" });
  });
});

describe("periodOf", () => {
  const thursday = new Date(2026, 11, 3, 15, 0); // 3 December 2026
  it.each([
    ["this_week", { from: "2026-11-30", to: "2026-12-07" }],
    ["last_week", { from: "2026-11-23", to: "2026-11-30" }],
    ["last_7", { from: "2026-11-27", to: "2026-12-04" }],
    ["last_30", { from: "2026-11-04", to: "2026-12-04" }],
    ["this_month", { from: "2026-12-01", to: "2027-01-01" }],
    ["last_month", { from: "2026-11-01", to: "2026-12-01" }],
  ] as const)("%s", (choice, days) => {
    expect(periodOf(choice, thursday)).toEqual(days);
  });

  it("in January, last month is December of the year before", () => {
    expect(periodOf("last_month", new Date(2027, 0, 15))).toEqual({ from: "2026-12-01", to: "2027-01-01" });
  });

  it("days of one's choice include the last, in either order, and wait for both", () => {
    expect(periodOf("custom", thursday, { first: "2026-02-27", last: "2026-02-28" })).toEqual({ from: "2026-02-27", to: "2026-03-01" });
    expect(periodOf("custom", thursday, { first: "2026-12-31", last: "2026-12-24" })).toEqual({ from: "2026-12-24", to: "2027-01-01" });
    expect(periodOf("custom", thursday, { first: "2026-12-31", last: "" })).toBeNull();
  });
});

describe("whoseFigures", () => {
  const named = [{ id: "returns", name: "Returns" }, { id: "vip", name: "VIP" }];
  it("says an admin's figures are the whole desk's", () => {
    expect(whoseFigures(null, named, translator("en"))).toBe("The whole desk");
  });
  it("names a supervisor's teams, and a team the desk does not list by its id", () => {
    expect(whoseFigures(["returns", "vip"], named, translator("en"))).toBe("Your teams: Returns, VIP");
    expect(whoseFigures(["gone"], named, translator("en"))).toBe("Your teams: gone");
  });
  it("says a supervisor of no team has no figures, not the desk's", () => {
    expect(whoseFigures([], named, translator("en"))).toBe("You are in no team: no figures to show");
  });
  it("says it in the agent's language", () => {
    expect(whoseFigures(null, named, translator("es"))).toBe("Todo el equipo de atención");
    expect(whoseFigures(["vip"], named, translator("pt"))).toBe("Suas equipes: VIP");
  });
});

describe("reportTeamChoices", () => {
  const desk = [{ id: "returns", name: "Returns" }, { id: "vip", name: "VIP" }, { id: "b2b", name: "B2B" }];
  it("offers an admin every team of the desk", () => {
    expect(reportTeamChoices(true, desk, null)).toEqual(desk);
  });
  it("offers a supervisor only their own teams, by name", () => {
    expect(reportTeamChoices(false, desk, ["vip", "returns"])).toEqual([{ id: "vip", name: "VIP" }, { id: "returns", name: "Returns" }]);
  });
  it("offers a supervisor of one team (or none yet known) nothing to choose", () => {
    expect(reportTeamChoices(false, desk, ["vip"])).toEqual([]);
    expect(reportTeamChoices(false, desk, null)).toEqual([]);
  });
  it("names a chosen team alone", () => {
    expect(whoseFigures(["vip"], desk, translator("en"), "vip")).toBe("Team: VIP");
  });
});

describe("dayKey", () => {
  it("writes a day's and a week's key as a date in the agent's language, and leaves other keys", () => {
    const weekOf = (day: string) => `Week of ${day}`;
    expect(dayKey("2026-12-05", "day", "en-US", weekOf)).toBe("Sat, Dec 5, 2026");
    expect(dayKey("2026-11-30", "week", "en-US", weekOf)).toBe("Week of Nov 30, 2026");
    expect(dayKey("2026-12-05", "day", "pt-BR", weekOf)).toMatch(/^sáb\.?, 5 de dez\.? de 2026$/);
    expect(dayKey("alice", "agent", "en-US", weekOf)).toBe("alice");
    expect(dayKey("14", "hour", "en-US", weekOf)).toBe("14");
  });
});
