import { describe, expect, it } from "vitest";
import type { Message } from "./api";
import { appendToDraft, articleInsertion, assistQuestion } from "./kbAssist";

const said = (id: string, direction: Message["direction"], author: string | null = null, text: string | null = "words") =>
  ({ id, direction, author, text }) as Pick<Message, "id" | "direction" | "author" | "text">;

describe("the question the assist panel answers", () => {
  it("is the customer's messages with words since an agent last answered, the latest three, as the API picks them", () => {
    expect(assistQuestion([])).toBe("");
    expect(assistQuestion([said("m1", "inbound"), said("m2", "outbound", null), said("m3", "outbound", "bot"),
      said("m4", "note", "bob"), said("m5", "system", "bob"), said("m6", "inbound", null, null)])).toBe("m1");
    expect(assistQuestion([said("m1", "inbound"), said("m2", "outbound", "alice")])).toBe("");
    expect(assistQuestion([said("m1", "inbound"), said("m2", "outbound", "alice"), said("m3", "inbound")])).toBe("m3");
    expect(assistQuestion(["m1", "m2", "m3", "m4"].map((id) => said(id, "inbound")))).toBe("m2,m3,m4");
  });
});


describe("agent assist insertion", () => {
  it("puts the article's link on its own line after the text", () => {
    expect(articleInsertion({ text: "Returns are free.", url: "https://help.example.com/returns" })).toBe(
      "Returns are free.\n\nhttps://help.example.com/returns",
    );
    expect(articleInsertion({ text: "Returns are free.", url: null })).toBe("Returns are free.");
  });

  it("adds to what the agent wrote, or replaces an empty draft", () => {
    expect(appendToDraft("Hi Ana,  \n", "Returns are free.")).toBe("Hi Ana,\n\nReturns are free.");
    expect(appendToDraft("   ", "Returns are free.")).toBe("Returns are free.");
  });
});
