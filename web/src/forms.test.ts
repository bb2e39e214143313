import { describe, expect, it } from "vitest";
import { calendarFromForm, holidaysText, listOf, parseHolidays, parseWindows, windowsText } from "./adminForms";
import { problemText, query } from "./api";
import { agentTimeZone, formatDuration, formatTime } from "./format";
import { commandFor } from "./keyboard";
import { lastInboundAt, windowState } from "./windows";

describe("calendar forms", () => {
  it("reads opening hours and holidays, and writes them back the same", () => {
    expect(parseWindows("9:00-12:30, 13:30 - 17:00")).toEqual([
      { start: "09:00", end: "12:30" },
      { start: "13:30", end: "17:00" },
    ]);
    const holidays = parseHolidays("2026-12-24\n 2026-12-31 09:00-12:00 \n");
    expect(holidays).toEqual(["2026-12-24", { date: "2026-12-31", windows: [{ start: "09:00", end: "12:00" }] }]);
    expect(holidaysText(holidays)).toBe("2026-12-24\n2026-12-31 09:00-12:00");
    expect(windowsText(parseWindows("09:00-17:00"))).toBe("09:00-17:00");
    expect(calendarFromForm(" Europe/Berlin ", { mon: "09:00-17:00", tue: "" }, "")).toEqual({
      time_zone: "Europe/Berlin",
      weekly: { mon: [{ start: "09:00", end: "17:00" }] },
      holidays: [],
    });
  });

  it("says which part is wrong", () => {
    expect(() => parseWindows("9-5")).toThrow('"9-5" is not a window');
    expect(() => parseHolidays("24.12.2026")).toThrow('"24.12.2026" is not a date');
    expect(listOf(" a, b ,,c ")).toEqual(["a", "b", "c"]);
  });
});

describe("API errors in words", () => {
  it("shows a problem's detail, 422 field errors, or the older message", () => {
    expect(problemText(409, { type: "about:blank", title: "Conflict", status: 409, detail: "reopen it first" })).toBe("reopen it first");
    expect(problemText(422, { detail: [{ loc: ["body", "text"], msg: "String should have at least 1 character" }] })).toBe(
      "text: String should have at least 1 character",
    );
    expect(problemText(422, { title: "Unprocessable", errors: [{ loc: ["query", "limit"], msg: "too big" }] })).toBe("query.limit: too big");
    expect(problemText(404, { message: "conversation c_1 does not exist" })).toBe("conversation c_1 does not exist");
    expect(problemText(502, null)).toBe("HTTP 502");
  });

  it("builds query strings without empty values", () => {
    expect(query({ view: "all", status: undefined, cursor: null, limit: 50 })).toBe("?view=all&limit=50");
    expect(query({})).toBe("");
  });
});

describe("windows", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  const msg = (channel: string, hoursAgo: number, direction: "inbound" | "outbound" = "inbound") => ({
    id: `m${hoursAgo}`,
    direction,
    channel,
    text: "x",
    status: null,
    attachments: [],
    created_at: new Date(now - hoursAgo * 3_600_000).toISOString(),
    attempts: 0,
    possibly_duplicate: false,
    sender_unproven: false,
    stuck: false,
  });

  it("follows WhatsApp's 24 hours and Messenger's 24 hours / 7 days from the customer's last message", () => {
    const messages = [msg("whatsapp", 30), msg("whatsapp", 1, "outbound"), msg("messenger", 50)];
    expect(windowState("whatsapp", lastInboundAt(messages, "whatsapp"), now)).toBe("closed");
    expect(windowState("whatsapp", lastInboundAt([msg("whatsapp", 23)], "whatsapp"), now)).toBe("open");
    expect(windowState("messenger", lastInboundAt(messages, "messenger"), now)).toBe("human_agent");
    expect(windowState("instagram", lastInboundAt([msg("instagram", 24 * 8)], "instagram"), now)).toBe("closed");
    expect(windowState("sms", null, now)).toBe("none");
  });
});

describe("keyboard", () => {
  const key = (k: string, tagName = "BODY", extra = {}) => ({ key: k, target: { tagName }, ...extra });
  it("maps keys to commands outside text fields only", () => {
    expect(commandFor(key("j"), true)).toBe("next");
    expect(commandFor(key("k"), true)).toBe("prev");
    expect(commandFor(key("e"), false)).toBe("resolve");
    expect(commandFor(key("?"), false)).toBe("help");
    expect(commandFor(key("2"), false)).toBe("viewUnassigned");
    expect(commandFor(key("j", "TEXTAREA"), true)).toBeNull();
    expect(commandFor(key("Escape", "TEXTAREA"), false)).toBe("escape");
    expect(commandFor(key("r", "BODY", { ctrlKey: true }), true)).toBeNull();
    expect(commandFor(key("Enter", "BODY"), true)).toBe("open");
    expect(commandFor(key("Enter", "BUTTON"), true)).toBeNull(); // the button's own click
    expect(commandFor({ key: "j", target: { tagName: "INPUT", type: "checkbox" } }, true)).toBe("next");
  });
});

describe("times", () => {
  it("shows today's time, then weekday, then date, in the given zone", () => {
    const now = new Date("2026-12-03T12:00:00Z");
    expect(formatTime("2026-12-03T09:05:00Z", "en-GB", now, "UTC")).toBe("09:05");
    expect(formatTime("2026-12-03T09:05:00Z", "en-GB", now, "America/Sao_Paulo")).toBe("06:05");
    expect(formatTime("2026-12-01T09:05:00Z", "en-GB", now, "UTC")).toMatch(/^Tue/);
    expect(formatTime("2026-10-01T09:05:00Z", "en-GB", now, "UTC")).toMatch(/1 Oct/);
    expect(agentTimeZone()).toBeTruthy();
  });

  it("says durations in the two largest units", () => {
    expect([30_000, 45 * 60_000, 125 * 60_000, 3 * 86_400_000 + 4 * 3_600_000, -90_000].map(formatDuration)).toEqual([
      "30 s",
      "45 min",
      "2 h 5 min",
      "3 d 4 h",
      "1 min",
    ]);
  });
});
