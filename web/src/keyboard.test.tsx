// @vitest-environment happy-dom
import { render } from "preact";
import { describe, expect, it } from "vitest";
import { ShortcutsHelp } from "./components/ShortcutsHelp";
import { AppContext } from "./context";
import { commandFor } from "./keyboard";
import { Store } from "./store";
import { testContext } from "./testContext";

const on = (key: string, tagName = "BUTTON") => ({ key, target: { tagName } });

describe("commandFor", () => {
  it("means the shortcuts' commands on the list and the page, not in a text field but for Escape", () => {
    expect(commandFor(on("e"), false)).toBe("resolve");
    expect(commandFor(on("3", "BODY"), true)).toBe("viewAll");
    expect(commandFor(on("Enter", "LI"), true)).toBe("open");
    expect(commandFor(on("e", "TEXTAREA"), false)).toBeNull();
    expect(commandFor(on("Escape", "TEXTAREA"), false)).toBe("escape");
  });

  it("leaves the arrows to what has the focus off the list: the timeline scrolls with them, j and k still move", () => {
    expect(commandFor(on("ArrowDown", "LI"), true)).toBe("next");
    expect(commandFor(on("ArrowDown", "OL"), false)).toBeNull();
    expect(commandFor(on("ArrowUp", "OL"), false)).toBeNull();
    expect(commandFor(on("j", "OL"), false)).toBe("next");
  });

  it("means nothing while a dialog is open over the inbox: the conversation behind it is not resolved", () => {
    for (const key of ["e", "3", "j", "x", "r", "?", "Escape"]) expect(commandFor(on(key), false, true)).toBeNull();
  });
});

describe("the shortcuts' help", () => {
  it("names the keys in the agent's language, as the rest of the inbox does (Ctrl+Intro in Spanish)", () => {
    const root = document.createElement("div");
    render(
      <AppContext.Provider value={testContext(new Store({} as never), "es")}>
        <ShortcutsHelp open={false} onClose={() => undefined} />
      </AppContext.Provider>,
      root,
    );
    const keys = [...root.querySelectorAll("kbd")].map((k) => k.textContent);
    expect(keys).toEqual(expect.arrayContaining(["j", "Flecha abajo", "Flecha arriba", "Intro", "Esc"]));
    expect(keys).not.toContain("ArrowDown");
    expect(keys).not.toContain("Enter");
  });
});
