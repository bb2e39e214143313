// @vitest-environment happy-dom
// Two admins editing one article: a save goes over the version the admin edited, and one over a stale version is
// refused and shows the latest.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { KbAdmin } from "./KbAdmin";

const root = eachRoot();

const gift = { id: "gift", title: "Gift cards", body: "Valid for two years.", language: "en", tags: [], url: null,
               translation_of: null, status: "published", version: 1, updated_at: "2026-12-01T10:00:00Z",
               updated_by: "alice" };

function showKb(afterSomeoneElse: typeof gift | null) {
  let listed = [gift];
  const putArticle = vi.fn(async (_id: string, content: { body: string }, _draft?: boolean, version?: number) => {
    if (afterSomeoneElse && version !== afterSomeoneElse.version) {
      listed = [afterSomeoneElse];
      throw new ApiError(409, "article gift changed meanwhile (now version 2); reload it and apply your change again", {});
    }
    return { ...gift, ...content, version: (version ?? 0) + 1 };
  });
  const api = { articles: async () => ({ items: listed }), putArticle };
  const store = new Store(api as unknown as Api);
  const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
  render(
    <AppContext.Provider value={context}>
      <KbAdmin />
    </AppContext.Provider>,
    root(),
  );
  return putArticle;
}

const button = (name: string) =>
  [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
const body = () => root().querySelector<HTMLTextAreaElement>("form.kb-form textarea")!;

async function editAndSave(words: string) {
  await vi.waitFor(() => expect(button("Edit: Gift cards")).toBeDefined());
  button("Edit: Gift cards")!.click();
  await vi.waitFor(() => expect(body().value).toBe("Valid for two years."));
  body().value = words;
  body().dispatchEvent(new Event("input", { bubbles: true }));
  await new Promise((resolve) => setTimeout(resolve, 10));
  root().querySelector<HTMLFormElement>("form.kb-form")!.requestSubmit();
}

describe("editing an article", () => {
  it("saves over the version the admin edited", async () => {
    const putArticle = showKb(null);
    await editAndSave("Valid for three years.");
    await vi.waitFor(() => expect(putArticle).toHaveBeenCalled());
    expect(putArticle.mock.calls[0]![3]).toBe(1);
  });

  it("refuses a save over someone else's newer version, and shows that version", async () => {
    const theirs = { ...gift, body: "Valid for five years.", version: 2 };
    const putArticle = showKb(theirs);
    await editAndSave("Valid for three years.");
    await vi.waitFor(() => expect(root().textContent).toContain("Someone changed this meanwhile."));
    expect(root().textContent).not.toContain("now version 2"); // the API's English detail is not shown
    expect(putArticle.mock.calls[0]![3]).toBe(1);
    await vi.waitFor(() => expect(body().value).toBe("Valid for five years."));
  });
});
