import { describe, expect, it } from "vitest";
import { routingChange } from "./routing";

const conv = { priority: "normal" as const, team: "default", skills: ["returns"] };
const form = { priority: "normal" as const, team: "default", skills: "returns", note: "" };

describe("routingChange", () => {
  it("is nothing when the form changes nothing, also with a note or the skills typed with spaces", () => {
    expect(routingChange(conv, form)).toBeNull();
    expect(routingChange(conv, { ...form, note: "checked" })).toBeNull();
    expect(routingChange(conv, { ...form, skills: " returns, " })).toBeNull();
  });

  it("carries only what changed, and the note with it", () => {
    expect(routingChange(conv, { ...form, priority: "high", note: " VIP " })).toEqual({ priority: "high", note: "VIP" });
    expect(routingChange(conv, { ...form, team: "returns-team" })).toEqual({ team: "returns-team" });
    expect(routingChange(conv, { ...form, skills: "returns, spanish" })).toEqual({ skills: ["returns", "spanish"] });
    expect(routingChange({ ...conv, skills: undefined }, { ...form, skills: "" })).toBeNull();
    expect(routingChange(conv, { ...form, skills: "" })).toEqual({ skills: [] });
  });
});
