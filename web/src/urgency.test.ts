import { describe, expect, it } from "vitest";
import type { Conversation } from "./api";
import { byRisk, byUrgency, listedIn, matches, riskPercent, slaState } from "./urgency";

const NOW = Date.parse("2026-12-03T10:00:00Z");
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();

function conv(id: string, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    status: "open",
    priority: "normal",
    team: "default",
    assignee: null,
    customer: { id: "cu_" + id, name: id },
    channel: "sms",
    channels: ["sms"],
    sla: { breaches: [], deadlines: null, paused: false },
    created_at: at(-60),
    updated_at: at(-1),
    message_count: 1,
    urgent: false,
    ...over,
  };
}

describe("slaState", () => {
  it("gives the time left per running target, a warning after warn_at, and breaches", () => {
    const s = slaState(
      conv("a", {
        sla: {
          breaches: ["first_response"],
          paused: false,
          deadlines: {
            first_response: { due_at: at(-5) },
            resolution: { due_at: at(90), warn_at: at(-1) },
          },
        },
      }),
      NOW,
    );
    expect(s.targets.map((x) => [x.target, x.state, Math.round(x.leftMs / 60_000)])).toEqual([
      ["first_response", "breached", -5],
      ["resolution", "warning", 90],
    ]);
    expect(s.breached).toBe(true);
    expect(s.nextDueMs).toBe(-5 * 60_000);
  });

  it("falls back to first_response_due_at and counts nothing while paused", () => {
    const s = slaState(conv("b", { sla: { first_response_due_at: at(30), breaches: [], paused: true } }), NOW);
    expect(s.targets).toHaveLength(1);
    expect(s.paused).toBe(true);
    expect(s.nextDueMs).toBeNull();
  });
});

describe("byUrgency", () => {
  it("puts breached first, then the soonest due, then priority, then the longest waiting", () => {
    const list = [
      conv("calm"),
      conv("low-due-later", { sla: { breaches: [], paused: false, deadlines: { first_response: { due_at: at(120) } } } }),
      conv("due-soon", { sla: { breaches: [], paused: false, deadlines: { first_response: { due_at: at(10) } } } }),
      conv("breached", { sla: { breaches: ["first_response"], paused: false, deadlines: null } }),
      conv("urgent-no-clock", { priority: "urgent" }),
      conv("waited-longest", { waiting_since: at(-500) }),
    ];
    expect(list.sort(byUrgency(NOW)).map((c) => c.id)).toEqual([
      "breached",
      "due-soon",
      "low-due-later",
      "urgent-no-clock",
      "waited-longest",
      "calm",
    ]);
  });
});

describe("matches", () => {
  it("filters by status, team, channel (any of the conversation's) and priority; hides resolved by default", () => {
    const c = conv("x", { channel: "sms", channels: ["sms", "whatsapp"], team: "returns", priority: "high" });
    expect(matches(c, {})).toBe(true);
    expect(matches(c, { channel: "whatsapp" })).toBe(true);
    expect(matches(c, { channel: "email" })).toBe(false);
    expect(matches(c, { team: "default" })).toBe(false);
    expect(matches(c, { priority: "high", team: "returns" })).toBe(true);
    expect(matches(conv("r", { status: "resolved" }), {})).toBe(false);
    expect(matches(conv("r", { status: "resolved" }), { status: "resolved" })).toBe(true);
  });

  it("lists a mention in a conversation resolved since: the mentions badge counts it, and reading it clears it", () => {
    const resolved = conv("r", { status: "resolved" });
    expect(matches(resolved, {}, "mentions")).toBe(true);
    expect(matches(resolved, { status: "open" }, "mentions")).toBe(false);
    expect(matches(resolved, {}, "mine")).toBe(false);
  });
});

describe("byRisk", () => {
  it("puts the highest breach risk first, then those without one most urgent first", () => {
    const list = [
      conv("no-risk-calm"),
      conv("low", { breach_risk: 0.12 }),
      conv("no-risk-urgent", { priority: "urgent" }),
      conv("high", { breach_risk: 0.91 }),
      conv("zero", { breach_risk: 0 }),
    ];
    expect(list.sort(byRisk(NOW)).map((c) => c.id)).toEqual(["high", "low", "zero", "no-risk-urgent", "no-risk-calm"]);
  });
  it("reads a risk as a whole percentage", () => {
    expect(riskPercent(0.734)).toBe(73);
    expect(riskPercent(1)).toBe(100);
  });
});

describe("listedIn", () => {
  const agent = { id: "bob", admin: false, teams: ["billing"] };
  const admin = { id: "alice", admin: true, teams: ["default"] };

  it("lists in Unassigned only an open conversation no one holds, of the caller's teams (all while they are unknown)", () => {
    expect(listedIn("unassigned", conv("a", { team: "billing" }), agent)).toBe(true);
    expect(listedIn("unassigned", conv("a", { team: "billing", assignee: "carol" }), agent)).toBe(false);
    expect(listedIn("unassigned", conv("a", { team: "returns" }), agent)).toBe(false);
    expect(listedIn("unassigned", conv("a", { team: "returns" }), { ...agent, teams: null })).toBe(true);
    // an admin's queue is their own teams', as the API's (not every team's)
    expect(listedIn("unassigned", conv("a", { team: "billing" }), admin)).toBe(false);
    expect(listedIn("unassigned", conv("a", { team: "default" }), admin)).toBe(true);
  });

  it.each(["pending", "snoozed", "resolved"] as const)("leaves a %s conversation out of Unassigned: only open ones wait", (status) => {
    expect(listedIn("unassigned", conv("a", { team: "billing", status }), agent)).toBe(false);
  });

  it.each(["granted", "mentions"])("keeps a conversation in %s whoever holds it and whatever its team or status", (view) => {
    for (const over of [{ assignee: "carol", team: "returns" }, { assignee: null, team: "returns", status: "resolved" as const }]) {
      expect(listedIn(view, conv("a", over), agent)).toBe(true);
    }
  });
});
