// @vitest-environment happy-dom
// Deleting a canned response a macro replies with: the API refuses (409) and the page says why, in the API's
// words, not as "someone changed this meanwhile" (a save's 409).
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { CannedAdmin } from "./CannedAdmin";

const root = eachRoot();

const shipped = { id: "shipped", scope: "shared", title: "Shipped", shortcode: "shipped", bodies: { en: "On its way." },
                  attachments: [], uses: 3, last_used_at: null, updated_at: "2026-12-01T10:00:00Z", updated_by: "alice" };

/** The shared canned responses page, as an admin sees it, over ``api``. */
function showShared(api: object) {
  const store = new Store(api as unknown as Api);
  const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
  render(
    <AppContext.Provider value={context}>
      <CannedAdmin scope="shared" />
    </AppContext.Provider>,
    root(),
  );
}

const button = (name: string) => [...root().querySelectorAll("button")].find((b) => b.textContent?.trim() === name);

describe("deleting a shared canned response", () => {
  it("says which macro still replies with it when the API refuses", async () => {
    const refusal = "canned response shipped is the reply of the shared macro 'Where is my order': change or delete it first";
    const deleteSharedCanned = vi.fn(async () => {
      throw new ApiError(409, refusal, {});
    });
    const api = { sharedCanned: async () => ({ items: [shipped] }), deleteSharedCanned };
    showShared(api);
    await vi.waitFor(() => expect(button("Delete: Shipped")).toBeDefined());
    button("Delete: Shipped")!.click();
    await vi.waitFor(() => expect(root().textContent).toContain("'Where is my order'"));
    expect(deleteSharedCanned).toHaveBeenCalledWith("shipped");
    expect(root().textContent).not.toContain("Someone changed this meanwhile");
  });
});

describe("saving a shared canned response someone else saved meanwhile", () => {
  it("saves over the version edited, and after a refusal shows the latest and saves over that", async () => {
    let current = { ...shipped, version: 1 };
    const putSharedCanned = vi.fn(async (_id: string, content: { title: string }, version?: number) => {
      if (version !== current.version) throw new ApiError(409, `canned response shipped changed meanwhile (now version ${current.version})`, {});
      current = { ...current, ...content, version: current.version + 1 };
      return current;
    });
    const api = { sharedCanned: async () => ({ items: [current] }), putSharedCanned };
    showShared(api);
    const title = () => [...root().querySelectorAll<HTMLInputElement>("input")].find((i) => i.value.startsWith("Shipped"))!;
    await vi.waitFor(() => expect(button("Edit: Shipped")).toBeDefined());
    button("Edit: Shipped")!.click();
    await vi.waitFor(() => expect(title()).toBeDefined());
    // someone else saves version 2 meanwhile
    current = { ...current, title: "Shipped (theirs)", version: 2 };
    title().value = "Shipped (mine)";
    title().dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    title().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(root().textContent).toContain("Someone changed this meanwhile."));
    expect(root().textContent).not.toContain("now version"); // the API's English detail is not shown
    expect(putSharedCanned.mock.calls[0]![2]).toBe(1);
    // the form now holds their version; a save goes over version 2
    await vi.waitFor(() => expect(title().value).toBe("Shipped (theirs)"));
    title().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(putSharedCanned).toHaveBeenCalledTimes(2));
    expect(putSharedCanned.mock.calls[1]![2]).toBe(2);
  });
});

describe("saving a shared canned response with a shortcode another has", () => {
  it("says which response has it, in the admin's words, not as a change made meanwhile", async () => {
    const detail = "canned response wis-1 has the shortcode 'wis' already: choose another shortcode, or edit wis-1";
    const putSharedCanned = vi.fn(async () => {
      throw new ApiError(409, detail, { code: "shortcode_taken", params: { shortcode: "wis", id: "wis-1" } });
    });
    const api = { sharedCanned: async () => ({ items: [{ ...shipped, version: 1 }] }), putSharedCanned };
    showShared(api);
    // the shortcode's field (the id's holds "shipped" too, read-only while editing)
    const shortcode = () => [...root().querySelectorAll<HTMLInputElement>("input")].find((i) => i.value === "shipped" && !i.readOnly);
    await vi.waitFor(() => expect(button("Edit: Shipped")).toBeDefined());
    button("Edit: Shipped")!.click();
    await vi.waitFor(() => expect(shortcode()).toBeDefined());
    const field = shortcode()!;
    field.value = "wis";
    field.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    field.closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(putSharedCanned).toHaveBeenCalled());
    await vi.waitFor(() => expect(root().textContent).toContain("Another canned response (wis-1) has the shortcode /wis"));
    expect(root().textContent).not.toContain("Someone changed this meanwhile");
    expect(root().textContent).not.toContain("or edit wis-1"); // the API's English detail is not shown
  });
});
