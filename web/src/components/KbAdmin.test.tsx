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

function showList(items: object[], extra: Record<string, unknown> = {}) {
  const api = { articles: async () => ({ items }), ...extra };
  const store = new Store(api as unknown as Api);
  const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
  render(
    <AppContext.Provider value={context}>
      <KbAdmin />
    </AppContext.Provider>,
    root(),
  );
}

describe("a published article's draft", () => {
  const draft = { title: "Gift cards", body: "Valid for three years.", language: "en", tags: [], url: null,
                  translation_of: null, version: 2, updated_at: "2026-12-02T10:00:00Z", updated_by: "alice" };
  const withDraft = { ...gift, draft, outdated: false, answering: true };

  it("is listed beside the live version, edited over its own version, and published or discarded", async () => {
    const putArticle = vi.fn(async () => ({ ...withDraft, draft: { ...draft, version: 3 } }));
    const publishArticle = vi.fn(async () => ({ ...gift, ...draft, version: 3 }));
    const discardArticleDraft = vi.fn(async () => ({ ...gift, version: 3 }));
    showList([withDraft], { putArticle, publishArticle, discardArticleDraft });
    await vi.waitFor(() => expect(root().textContent).toContain("Draft pending (version 2)"));
    expect(root().querySelector(".kb-published")).not.toBeNull(); // the live version still answers
    button("Edit: Gift cards")!.click();
    await vi.waitFor(() => expect(body().value).toBe("Valid for three years.")); // the editor shows the draft
    expect(root().textContent).toContain("Editing the draft (version 2); the published version 1 answers");
    root().querySelectorAll<HTMLButtonElement>("form.kb-form button")[1]!.click(); // Save as draft
    await vi.waitFor(() => expect(putArticle).toHaveBeenCalled());
    expect(putArticle.mock.calls[0]).toEqual(["gift", expect.objectContaining({ body: "Valid for three years." }), true, 2]);
    await vi.waitFor(() => expect(root().textContent).toContain("The published version goes on answering"));

    button("Publish draft: Gift cards")!.click();
    await vi.waitFor(() => expect(publishArticle).toHaveBeenCalledWith("gift", 2));
    button("Discard draft: Gift cards")!.click();
    await vi.waitFor(() => expect(discardArticleDraft).toHaveBeenCalledWith("gift", 2));
  });
});

describe("translations", () => {
  const original = { ...gift, outdated: false, answering: true };
  const es = { ...gift, id: "gift_es", title: "Tarjetas regalo", language: "es", translation_of: "gift",
               outdated: true, answering: true };
  const pt = { ...gift, id: "gift_pt", title: "Cartões presente", language: "pt", translation_of: "gift",
               outdated: false, answering: false };

  it("are marked out of date or not answering", async () => {
    showList([{ ...original, status: "retired" }, es, pt]);
    await vi.waitFor(() => expect(root().textContent).toContain("Out of date"));
    const row = (title: string) =>
      [...root().querySelectorAll("tbody tr")].find((r) => r.querySelector("th")!.textContent!.startsWith(title))!.textContent;
    expect(row("Tarjetas regalo")).toContain("Out of date");
    expect(row("Tarjetas regalo")).not.toContain("Not answering");
    expect(row("Cartões presente")).toContain("Not answering");
    expect(row("Gift cards")).not.toContain("Out of date");
  });

  it("stop answering with their original, and the retire dialog says so", async () => {
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.open = true;
    };
    showList([original, { ...es, outdated: false }, { ...pt, answering: true }]);
    await vi.waitFor(() => expect(button("Retire: Gift cards")).toBeDefined());
    button("Retire: Gift cards")!.click();
    await vi.waitFor(() =>
      expect(root().querySelector("#kb-retire-text")!.textContent).toContain("Its translations (es, pt) stop answering too."),
    );
    button("Retire: Tarjetas regalo")!.click();
    await vi.waitFor(() => expect(root().querySelector("#kb-retire-title")!.textContent).toContain("Tarjetas regalo"));
    expect(root().querySelector("#kb-retire-text")!.textContent).not.toContain("translations");
  });
});
