import { describe, expect, it } from "vitest";
import type { Article } from "./api";
import {
  articleForm,
  articleFromForm,
  botForm,
  botFromForm,
  filterArticles,
  headVersion,
  importContentType,
  importProblems,
  languageName,
  originalsFor,
  translationsOf,
  translationsOfOriginal,
} from "./kb";

const article = (a: Partial<Article> & { id: string }): Article => ({
  title: a.id,
  body: "",
  language: "en",
  tags: [],
  status: "published",
  version: 1,
  outdated: false,
  answering: true,
  ...a,
});

const shipping = article({ id: "ship", title: "Shipping times", body: "Delivery takes 2-4 days", tags: ["delivery"] });
const envio = article({ id: "ship_es", title: "Plazos de envío", language: "es", translation_of: "ship", status: "draft" });
const envioPt = article({ id: "ship_pt", title: "Prazos de envio", language: "pt", translation_of: "ship" });
const returns = article({ id: "returns", title: "Returns", status: "retired", tags: ["refund"] });
const all = [shipping, envio, envioPt, returns];

describe("the article filter", () => {
  it("keeps articles with every word, accents and case aside, in id, title, body or tags", () => {
    expect(filterArticles(all, { language: "", status: "", text: "ENVIO" }).map((a) => a.id)).toEqual(["ship_es", "ship_pt"]);
    expect(filterArticles(all, { language: "", status: "", text: "days delivery" }).map((a) => a.id)).toEqual(["ship"]);
    expect(filterArticles(all, { language: "", status: "", text: "refund" }).map((a) => a.id)).toEqual(["returns"]);
    expect(filterArticles(all, { language: "", status: "", text: "refund days" })).toEqual([]);
  });

  it("filters by language and status", () => {
    expect(filterArticles(all, { language: "es", status: "", text: "" })).toEqual([envio]);
    expect(filterArticles(all, { language: "", status: "retired", text: "" })).toEqual([returns]);
    expect(filterArticles(all, { language: "en", status: "published", text: "" })).toEqual([shipping]);
  });
});

describe("translations", () => {
  it("groups an original with its translations, from either side", () => {
    expect(translationsOf(all, shipping).map((a) => a.id)).toEqual(["ship_es", "ship_pt"]);
    expect(translationsOf(all, envio).map((a) => a.id)).toEqual(["ship", "ship_pt"]);
    expect(translationsOf(all, returns)).toEqual([]);
  });

  it("offers only originals other than the article itself to translate", () => {
    expect(originalsFor(all, "returns").map((a) => a.id)).toEqual(["ship"]);
    expect(originalsFor(all, "new").map((a) => a.id)).toEqual(["ship", "returns"]);
  });
});

describe("import files", () => {
  it("sends JSON Lines and Markdown with their content types and nothing else", () => {
    expect(importContentType("faq.jsonl")).toBe("application/x-ndjson");
    expect(importContentType("FAQ.NDJSON")).toBe("application/x-ndjson");
    expect(importContentType("returns.md")).toBe("text/markdown");
    expect(importContentType("faq.json")).toBeNull();
    expect(importContentType("faq.csv")).toBeNull();
  });

  it("reads the refused lines from a 422, with the article's id when the line had one", () => {
    const body = {
      status: 422,
      detail: "2 line(s) of the import are not valid articles; nothing was written",
      errors: [
        { loc: ["body", 2], msg: "not JSON: Expecting value", type: "invalid_article" },
        { loc: ["body", 5, "faq_x"], msg: "language: String should match pattern", type: "invalid_article" },
      ],
    };
    expect(importProblems(body)).toEqual([
      { line: 2, id: null, msg: "not JSON: Expecting value" },
      { line: 5, id: "faq_x", msg: "language: String should match pattern" },
    ]);
    expect(importProblems({ detail: "at most 50 articles per import" })).toEqual([]);
    expect(importProblems(null)).toEqual([]);
  });
});

describe("the article form", () => {
  it("sends trimmed text, tags as a list, and no url or original as null", () => {
    const form = { ...articleForm(null), title: " Gift wrap ", body: " We wrap it. ", language: "ES", tags: "gift, , wrap" };
    expect(articleFromForm(form)).toEqual({
      title: "Gift wrap",
      body: "We wrap it.",
      language: "es",
      tags: ["gift", "wrap"],
      url: null,
      translation_of: null,
    });
  });

  it("round-trips an article", () => {
    const a = article({ id: "x", title: "T", body: "B", language: "pt", tags: ["a", "b"], url: "https://s.example/x", translation_of: "ship" });
    expect(articleFromForm(articleForm(a))).toEqual({ title: "T", body: "B", language: "pt", tags: ["a", "b"], url: "https://s.example/x", translation_of: "ship" });
  });
});

describe("the bot form", () => {
  const settings = {
    enabled: true,
    channels: ["whatsapp"],
    teams: null,
    when: "outside_business_hours" as const,
    confidence_threshold: 0.42,
    fallback_language: "en",
    resolve_after_seconds: 7200,
  };

  it("shows the threshold as a percentage and the resolve time in hours, and sends them back as the API has them", () => {
    const form = botForm(settings);
    expect(form).toMatchObject({ threshold: "42", resolve_after_hours: "2", channels: ["whatsapp"], teams: [] });
    expect(botFromForm(form)).toEqual(settings);
  });

  it("sends no ticked channel or team as every one, and an empty threshold as the tuned default", () => {
    const form = { ...botForm(settings), channels: [], threshold: "", fallback_language: "" };
    expect(botFromForm(form)).toMatchObject({ channels: null, teams: null, confidence_threshold: null, fallback_language: null });
  });

  it("refuses a threshold that is not a percentage, or hours that are not a number, in words", () => {
    expect(() => botFromForm({ ...botForm(settings), threshold: "120" })).toThrow(/not a percentage/);
    expect(() => botFromForm({ ...botForm(settings), threshold: "high" })).toThrow(/not a percentage/);
    expect(() => botFromForm({ ...botForm(settings), resolve_after_hours: "" })).toThrow(/hours/);
    expect(botFromForm({ ...botForm(settings), threshold: "33,5" }).confidence_threshold).toBe(0.335);
  });
});

describe("language names", () => {
  it("names a language in the interface's language after its code, and keeps an unknown code as it is", () => {
    expect(languageName("es", "en")).toBe("es · Spanish");
    expect(languageName("de", "pt")).toBe("de · alemão");
    expect(languageName("zz", "en")).toBe("zz");
  });
});

describe("a published article's draft", () => {
  it("is what the editor shows, and its version what a save goes over", () => {
    const live = article({ id: "gift", body: "Two years.", version: 1 });
    const withDraft = { ...live, draft: { title: "Gift", body: "Three years.", language: "en", tags: ["g"], version: 2 } };
    expect(articleForm(withDraft).body).toBe("Three years.");
    expect(articleForm(withDraft).tags).toBe("g");
    expect(headVersion(withDraft)).toBe(2);
    expect(headVersion(live)).toBe(1);
    expect(translationsOfOriginal([live, article({ id: "gift_es", translation_of: "gift" })], live).map((a) => a.id)).toEqual(["gift_es"]);
  });
});
