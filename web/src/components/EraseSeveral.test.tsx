// @vitest-environment happy-dom
// Several customers erased at once: whom the names find first, a confirmation by their number, then their jobs.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api, EraseRow } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import type { Locale } from "../i18n";
import { eachRoot, testContext } from "../testContext";
import { EraseSeveral } from "./EraseSeveral";

const root = eachRoot();

describe("erasing several customers", () => {
  it("shows whom the names find, erases exactly those customers by id once the number is typed, and follows them", async () => {
    const eraseSeveral = vi.fn(async (customers: string[], start: boolean): Promise<{ items: EraseRow[] }> => {
      if (!start)
        return {
          items: [
            { input: "ada@customer.example", outcome: "found", customer_id: "u_1", name: "Ada" },
            { input: "+31 6 1234 5678", outcome: "found", customer_id: "u_2", name: "Bea" },
            { input: "nobody@customer.example", outcome: "not_found" },
            { input: "06 12345678", outcome: "same_customer", customer_id: "u_2", name: "Bea" },
          ],
        };
      return { items: customers.map((id, i) => ({ input: id, outcome: "started", customer_id: id, job_id: `j_${i}` })) };
    });
    const privacyJob = vi.fn(async (jobId: string) => ({
      job_id: jobId,
      kind: "erase" as const,
      customer_id: jobId === "j_0" ? "u_1" : "u_2",
      status: "done" as const,
    }));
    const store = new Store({ eraseSeveral, privacyJob } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "root", name: "Root", groups: ["admins"] } }}>
        <EraseSeveral />
      </AppContext.Provider>,
      root(),
    );
    const box = root().querySelector("textarea")!;
    box.value = "ada@customer.example\n+31 6 1234 5678, nobody@customer.example\n06 12345678\n\nada@customer.example";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector<HTMLButtonElement>("form button")!.disabled).toBe(false));
    root().querySelector("form")!.requestSubmit();
    // each name once, and nothing erased yet
    await vi.waitFor(() => expect(root().textContent).toContain("Erase 2 customers"));
    expect(eraseSeveral).toHaveBeenCalledWith(
      ["ada@customer.example", "+31 6 1234 5678", "nobody@customer.example", "06 12345678"],
      false,
    );
    expect(root().textContent).toContain("no customer");
    expect(root().textContent).toContain("Bea (u_2), named above");
    const open = [...root().querySelectorAll("button")].find((b) => b.textContent === "Erase 2 customers")!;
    open.click();
    const dialog = root().querySelector("dialog")!;
    const confirm = dialog.querySelector<HTMLButtonElement>("button.btn-danger")!;
    const typed = dialog.querySelector("input")!;
    typed.value = "3";
    typed.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(confirm.disabled).toBe(true); // the wrong number erases nothing
    typed.value = "2";
    typed.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(confirm.disabled).toBe(false));
    dialog.querySelector("form")!.requestSubmit();
    // the customers seen, by id: not the words pasted, which could find someone else by now
    await vi.waitFor(() => expect(eraseSeveral).toHaveBeenLastCalledWith(["u_1", "u_2"], true));
    await vi.waitFor(() => expect(root().textContent).toContain("Ada (u_1) · done"), { timeout: 4000 });
    expect(root().textContent).toContain("Bea (u_2) · done");
  });

  it("says which erases the privacy queue refused, and puts those customers back to erase again", async () => {
    const eraseSeveral = vi.fn(async (customers: string[], start: boolean): Promise<{ items: EraseRow[] }> => {
      if (!start)
        return { items: customers.map((id, i) => ({ input: id, outcome: "found", customer_id: id, name: ["Ada", "Bea", "Cas"][i] })) };
      return {
        items: [
          { input: "u_1", outcome: "started", customer_id: "u_1", job_id: "j_1" },
          { input: "u_2", outcome: "not_queued", customer_id: "u_2", job_id: "j_2" },
          { input: "u_3", outcome: "not_queued", customer_id: "u_3" },
        ],
      };
    });
    const privacyJob = vi.fn(async (jobId: string) => ({ job_id: jobId, kind: "erase" as const, customer_id: "u_1", status: "done" as const }));
    const store = new Store({ eraseSeveral, privacyJob } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "root", name: "Root", groups: ["admins"] } }}>
        <EraseSeveral />
      </AppContext.Provider>,
      root(),
    );
    const box = root().querySelector("textarea")!;
    box.value = "u_1\nu_2\nu_3";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector<HTMLButtonElement>("form button")!.disabled).toBe(false));
    root().querySelector("form")!.requestSubmit();
    await vi.waitFor(() => expect(root().textContent).toContain("Erase 3 customers"));
    [...root().querySelectorAll("button")].find((b) => b.textContent === "Erase 3 customers")!.click();
    const dialog = root().querySelector("dialog")!;
    await vi.waitFor(() => expect(dialog.open).toBe(true));
    const typed = dialog.querySelector("input")!;
    typed.value = "3";
    typed.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(dialog.querySelector<HTMLButtonElement>("button.btn-danger")!.disabled).toBe(false));
    dialog.querySelector("form")!.requestSubmit();
    // each row says what became of its customer: the one the queue took is followed, the two it did not say so
    await vi.waitFor(() => expect(root().textContent).toContain("Ada (u_1) · done"), { timeout: 4000 });
    expect(root().textContent).toContain("Bea (u_2): not started, the privacy queue refused it; nothing was done");
    expect(root().textContent).toContain("Cas (u_3): not started, the privacy queue refused it; nothing was done");
    expect(privacyJob).toHaveBeenCalledTimes(1);
    // and Erase others puts the two not started back in the list, to find and erase again
    [...root().querySelectorAll("button")].find((b) => b.textContent === "Erase others")!.click();
    await vi.waitFor(() => expect(root().querySelector("textarea")!.value).toBe("u_2\nu_3"));
  });

  it("says which ids were merged into another customer or erased already, and erases neither", async () => {
    const eraseSeveral = vi.fn(async (): Promise<{ items: EraseRow[] }> => ({
      items: [
        { input: "u_1", outcome: "merged", customer_id: "u_1", name: "Ada", merged_into: "u_9" },
        { input: "u_2", outcome: "already_erased", customer_id: "u_2", job_id: "j_7" },
        { input: "u_3", outcome: "found", customer_id: "u_3", name: "Cas" },
      ],
    }));
    const store = new Store({ eraseSeveral } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "root", name: "Root", groups: ["admins"] } }}>
        <EraseSeveral />
      </AppContext.Provider>,
      root(),
    );
    const box = root().querySelector("textarea")!;
    box.value = "u_1\nu_2\nu_3";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector<HTMLButtonElement>("form button")!.disabled).toBe(false));
    root().querySelector("form")!.requestSubmit();
    await vi.waitFor(() => expect(root().textContent).toContain("Erase 1 customer"));
    expect(root().textContent).toContain(
      "Ada (u_1): merged into u_9, who holds their conversations now; erase u_9, or undo the merge first");
    expect(root().textContent).toContain("u_2: erased already (job j_7)");
  });

  it.each([
    ["en", "Erase 1 customer", "Erase 1 customer?"],
    ["es", "Borrar 1 cliente", "¿Borrar 1 cliente?"],
    ["pt", "Apagar 1 cliente", "Apagar 1 cliente?"],
  ] as [Locale, string, string][])("one customer found: %s says one customer, not one customers", async (locale, button, title) => {
    const eraseSeveral = vi.fn(async () => ({
      items: [{ input: "ada@customer.example", outcome: "found", customer_id: "u_1", name: "Ada" }] as EraseRow[],
    }));
    render(
      <AppContext.Provider value={testContext(new Store({ eraseSeveral } as unknown as Api), locale)}>
        <EraseSeveral />
      </AppContext.Provider>,
      root(),
    );
    const box = root().querySelector("textarea")!;
    box.value = "ada@customer.example";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(root().querySelector<HTMLButtonElement>("form button")!.disabled).toBe(false));
    root().querySelector("form")!.requestSubmit();
    await vi.waitFor(() => expect(root().querySelector("button.btn-danger")?.textContent).toBe(button));
    (root().querySelector("button.btn-danger") as HTMLButtonElement).click();
    const dialog = root().querySelector("dialog")!;
    await vi.waitFor(() => expect(dialog.textContent).toContain(title));
    expect(dialog.querySelector("button.btn-danger")!.textContent).toBe(button);
  });
});
