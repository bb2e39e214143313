import { describe, expect, it } from "vitest";
import { ACTION_TYPES, blankAction, move, nextLanguage, rowErrors, toAction, toBodies, toDraft } from "./tools";

describe("macro actions", () => {
  it("builds the API's action from each draft and back", () => {
    const drafts = [
      { type: "reply", value: " refund-ok " },
      { type: "note", value: "checked the order" },
      { type: "add_labels", value: "vip, refund ,," },
      { type: "remove_labels", value: "spam" },
      { type: "set_priority", value: "high" },
      { type: "set_team", value: "billing" },
      { type: "set_status", value: "pending" },
      { type: "snooze", value: "P1D" },
      { type: "assign", value: "" },
    ] as const;
    const actions = drafts.map((d) => toAction(d));
    expect(actions).toEqual([
      { type: "reply", canned_response_id: "refund-ok" },
      { type: "note", text: "checked the order" },
      { type: "add_labels", labels: ["vip", "refund"] },
      { type: "remove_labels", labels: ["spam"] },
      { type: "set_priority", priority: "high" },
      { type: "set_team", team: "billing" },
      { type: "set_status", status: "pending" },
      { type: "snooze", duration: "P1D" },
      { type: "assign", agent_id: null },
    ]);
    expect(actions.map(toDraft).map((d) => d.value)).toEqual([
      "refund-ok", "checked the order", "vip, refund", "spam", "high", "billing", "pending", "P1D", "",
    ]);
    expect(toAction({ type: "assign", value: "agent-7" })).toEqual({ type: "assign", agent_id: "agent-7" });
  });

  it("starts each type with a valid value where the choice is fixed", () => {
    expect(ACTION_TYPES).toHaveLength(9);
    expect(blankAction("set_priority").value).toBe("normal");
    expect(blankAction("set_status").value).toBe("resolved");
    expect(blankAction("snooze").value).toBe("PT4H");
    expect(blankAction("note")).toEqual({ type: "note", value: "" });
  });

  it("reorders, and leaves the list as it is past either end", () => {
    expect(move(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(move(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(move(["a", "b", "c"], 0, -1)).toEqual(["a", "b", "c"]);
    expect(move(["a", "b", "c"], 2, 1)).toEqual(["a", "b", "c"]);
  });
});

describe("canned response bodies", () => {
  it("makes one body per language, and names a language written twice", () => {
    expect(toBodies([{ language: "EN ", text: "Hi" }, { language: "es", text: "Hola" }])).toEqual({
      bodies: { en: "Hi", es: "Hola" },
    });
    expect(toBodies([{ language: "en", text: "Hi" }, { language: " en", text: "Hello" }])).toEqual({ duplicate: "en" });
  });

  it("offers the next language not yet used", () => {
    expect(nextLanguage([{ language: "en", text: "" }])).toBe("es");
    expect(nextLanguage([{ language: "en", text: "" }, { language: "es", text: "" }, { language: "pt", text: "" }])).toBe("");
  });
});

describe("a 422 on its rows", () => {
  it("puts each field error on the action or language it names", () => {
    const body = {
      status: 422,
      detail: "label nope does not exist",
      errors: [
        { loc: ["body", "actions", 1, "labels"], msg: "label nope does not exist", type: "unknown_reference" },
        { loc: ["body", "actions", 1, "add_labels", "labels"], msg: "too short", type: "too_short" },
        { loc: ["body", "name"], msg: "String should have at least 1 character", type: "string_too_short" },
      ],
    };
    const { rows, rest } = rowErrors(body, "actions");
    expect([...rows.keys()]).toEqual(["1"]);
    expect(rows.get("1")).toEqual(["label nope does not exist", "too short"]);
    expect(rest).toEqual(["name: String should have at least 1 character"]);
    expect(rowErrors({ errors: [{ loc: ["body", "bodies", "xx"], msg: "bad" }] }, "bodies").rows.get("xx")).toEqual(["bad"]);
    expect(rowErrors(null, "bodies").rows.size).toBe(0);
  });
});
