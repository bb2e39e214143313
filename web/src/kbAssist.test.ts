import { describe, expect, it } from "vitest";
import { appendToDraft, articleInsertion } from "./kbAssist";

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
