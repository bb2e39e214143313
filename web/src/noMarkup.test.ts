import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// What puts a string into the page as markup. The app and the widget put every text in as text (Preact's children,
// the DOM's text nodes and attributes): none of these may appear in their source. Tests are exempt (they may build a
// page to test against, as revealForm.test.ts does).
const MARKUP_SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|createContextualFragment|document\.write(ln)?|srcdoc)\b/;

const SRC = new URL("./", import.meta.url);

/** Every source file under web/src, tests left out: paths relative to web/src. */
function sources(dir: URL = SRC, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return sources(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    const name = `${prefix}${entry.name}`;
    return /\.(ts|tsx|js|jsx)$/.test(name) && !/\.test\.(ts|tsx)$/.test(name) ? [name] : [];
  });
}

describe("web/src", () => {
  it("has source files to look at, the widget's and the app's", () => {
    const found = sources();
    expect(found).toEqual(expect.arrayContaining(["main.tsx", "widget/ui.ts", "components/App.tsx"]));
  });

  it("puts nothing into the page as markup outside its tests", () => {
    const offending = sources().flatMap((name) => readFileSync(new URL(name, SRC), "utf8").split("\n")
      .map((line, index) => [line, index] as const)
      .filter(([line]) => MARKUP_SINKS.test(line))
      .map(([line, index]) => `${name}:${index + 1}: ${line.trim()}`));
    expect(offending).toEqual([]);
  });

  it("would notice each of them", () => {
    for (const sink of ["el.innerHTML = x", "el.outerHTML = x", "el.insertAdjacentHTML('beforeend', x)",
                        "<div dangerouslySetInnerHTML={{ __html: x }} />", "range.createContextualFragment(x)",
                        "document.write(x)", "document.writeln(x)", "<iframe srcdoc={x} />"])
      expect(MARKUP_SINKS.test(sink), sink).toBe(true);
    expect(MARKUP_SINKS.test("el.textContent = x")).toBe(false);
  });
});
