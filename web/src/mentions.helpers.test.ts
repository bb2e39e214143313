import { describe, expect, it } from "vitest";
import { insertMention, mentionCandidates, mentionQuery } from "./mentions";

const agents = [
  { id: "alice", name: "Alice Example" },
  { id: "bob", name: "Bob Example" },
  { id: "ana", name: "Ana Lima" },
];

describe("@mentions in the note box", () => {
  it("finds the word after an @ at the caret, not in an address", () => {
    expect(mentionQuery("ask @bo", 7)).toEqual({ start: 4, query: "bo" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("mail bob@sh", 11)).toBeNull();
    expect(mentionQuery("ask @bob now", 12)).toBeNull();
  });

  it("offers agents by id first, then by a word of their name", () => {
    expect(mentionCandidates(agents, "a").map((a) => a.id)).toEqual(["alice", "ana"]);
    expect(mentionCandidates(agents, "li").map((a) => a.id)).toEqual(["ana"]);
    expect(mentionCandidates(agents, "").map((a) => a.id)).toEqual(["alice", "bob", "ana"]);
  });

  it("offers an agent with no name by their work email", () => {
    const desk = [...agents, { id: "u_7f3a", name: null, email: "dora@shop.example" }];
    expect(mentionCandidates(desk, "dor").map((a) => a.id)).toEqual(["u_7f3a"]);
    expect(mentionCandidates(desk, "shop").map((a) => a.id)).toEqual([]);
  });

  it("puts the chosen agent's id in place of what was typed", () => {
    expect(insertMention("ask @bo please", 4, 7, "bob")).toEqual({ text: "ask @bob  please", caret: 9 });
  });
});
