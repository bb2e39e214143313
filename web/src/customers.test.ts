import { describe, expect, it } from "vitest";
import { undoableMerges } from "./customers";

describe("undoableMerges", () => {
  it("offers to undo a merge until it is undone", () => {
    const merged = { id: "e1", kind: "merged", merge_id: "m1" };
    expect([...undoableMerges([merged])]).toEqual(["e1"]);
    expect([...undoableMerges([merged, { id: "e2", kind: "unmerged", merge_id: "m1" }])]).toEqual([]);
  });
  it("only on the customer that remains, and never for a link", () => {
    expect([...undoableMerges([{ id: "e1", kind: "merged_into", merge_id: "m1" }])]).toEqual([]);
    expect([...undoableMerges([{ id: "e1", kind: "linked", merge_id: null }])]).toEqual([]);
  });
  it("a second merge after an undone one can be undone again", () => {
    const events = [
      { id: "e1", kind: "merged", merge_id: "m1" },
      { id: "e2", kind: "unmerged", merge_id: "m1" },
      { id: "e3", kind: "merged", merge_id: "m2" },
    ];
    expect([...undoableMerges(events)]).toEqual(["e3"]);
  });
});
