import { describe, expect, it } from "vitest";
import { commandFor } from "./keyboard";

const on = (key: string, tagName = "BUTTON") => ({ key, target: { tagName } });

describe("commandFor", () => {
  it("means the shortcuts' commands on the list and the page, not in a text field but for Escape", () => {
    expect(commandFor(on("e"), false)).toBe("resolve");
    expect(commandFor(on("3", "BODY"), true)).toBe("viewAll");
    expect(commandFor(on("Enter", "LI"), true)).toBe("open");
    expect(commandFor(on("e", "TEXTAREA"), false)).toBeNull();
    expect(commandFor(on("Escape", "TEXTAREA"), false)).toBe("escape");
  });

  it("means nothing while a dialog is open over the inbox: the conversation behind it is not resolved", () => {
    for (const key of ["e", "3", "j", "x", "r", "?", "Escape"]) expect(commandFor(on(key), false, true)).toBeNull();
  });
});
