// @vitest-environment happy-dom
// A file input in the inbox's language, not the browser's.
import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { FilePick } from "./FilePick";

const root = eachRoot();
const context = testContext(new Store({} as Api), "es");
const show = (chosen?: string[]) =>
  render(
    <AppContext.Provider value={context}>
      <FilePick label="Archivos (.jsonl o .md)" chosen={chosen} onChange={() => undefined} />
    </AppContext.Provider>,
    root(),
  );


describe("FilePick", () => {
  it("offers to choose files in the inbox's words, says none is chosen, then names the chosen ones", () => {
    show([]);
    const input = root().querySelector<HTMLInputElement>("label input[type=file]")!;
    expect(input.multiple).toBe(true);
    expect(root().querySelector("label")!.textContent).toBe("Archivos (.jsonl o .md)Elegir archivosNingún archivo elegido");
    show(["faq.jsonl", "envios.md"]);
    expect(root().querySelector("label")!.textContent).toContain("faq.jsonl, envios.md");
  });

  it("leaves the files' names out where the form lists them itself", () => {
    show();
    expect(root().querySelector("label")!.textContent).toBe("Archivos (.jsonl o .md)Elegir archivos");
  });
});
