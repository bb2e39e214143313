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

describe("deleting a shared canned response", () => {
  it("says which macro still replies with it when the API refuses", async () => {
    const refusal = "canned response shipped is the reply of the shared macro 'Where is my order': change or delete it first";
    const deleteSharedCanned = vi.fn(async () => {
      throw new ApiError(409, refusal, {});
    });
    const api = { sharedCanned: async () => ({ items: [shipped] }), deleteSharedCanned };
    const store = new Store(api as unknown as Api);
    const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
    render(
      <AppContext.Provider value={context}>
        <CannedAdmin scope="shared" />
      </AppContext.Provider>,
      root(),
    );
    const remove = () => [...root().querySelectorAll("button")].find((b) => b.textContent?.trim() === "Delete: Shipped");
    await vi.waitFor(() => expect(remove()).toBeDefined());
    remove()!.click();
    await vi.waitFor(() => expect(root().textContent).toContain("'Where is my order'"));
    expect(deleteSharedCanned).toHaveBeenCalledWith("shipped");
    expect(root().textContent).not.toContain("Someone changed this meanwhile");
  });
});
