import { describe, expect, it } from "vitest";
import { hasVariables, insertAt, missingVariables, moveActive, rankCanned, replyBody, slashTrigger, suggestedBody } from "./assist";

describe("slashTrigger", () => {
  it("finds a slash at the start of the box", () => {
    expect(slashTrigger("/whe", 4)).toEqual({ start: 0, end: 4, query: "whe" });
  });
  it("finds a slash after a space or a new line, with an empty query", () => {
    expect(slashTrigger("Hi /", 4)).toEqual({ start: 3, end: 4, query: "" });
    expect(slashTrigger("Hi\n/tr", 6)).toEqual({ start: 3, end: 6, query: "tr" });
  });
  it("ignores a slash inside a word or a URL", () => {
    expect(slashTrigger("and/or", 6)).toBeNull();
    expect(slashTrigger("https://x.io/track", 18)).toBeNull();
  });
  it("looks only up to the caret", () => {
    expect(slashTrigger("/track me", 6)).toEqual({ start: 0, end: 6, query: "track" });
    expect(slashTrigger("/track me", 9)).toBeNull();
  });
  it("accepts letters of any language and refuses a caret outside the text", () => {
    expect(slashTrigger("/pedído", 7)?.query).toBe("pedído");
    expect(slashTrigger("/a", 5)).toBeNull();
  });
});

describe("insertAt", () => {
  it("replaces the trigger and puts the caret after the insertion", () => {
    const text = "Hello /whe, bye";
    const trigger = slashTrigger(text, 10)!;
    expect(insertAt(text, trigger, "Your order ships today")).toEqual({
      text: "Hello Your order ships today, bye",
      caret: 28,
    });
  });
});

describe("rankCanned", () => {
  const items = [
    { id: "1", shortcode: "thanks", title: "Where is my order" },
    { id: "2", shortcode: "myorder", title: "Order status" },
    { id: "3", shortcode: "order", title: "Tracking" },
    { id: "4", shortcode: "refund", title: "Order refund" },
  ];
  it("puts shortcode prefixes first, then shortcodes containing it, then titles", () => {
    expect(rankCanned(items, "order").map((c) => c.id)).toEqual(["3", "2", "4", "1"]);
  });
  it("keeps the API's order without a query", () => {
    expect(rankCanned(items, "").map((c) => c.id)).toEqual(["1", "2", "3", "4"]);
  });
});

describe("hasVariables", () => {
  it("sees variables and tags, not plain braces", () => {
    expect(hasVariables("Hi {{ customer.first_name }}!")).toBe(true);
    expect(hasVariables("{% if order.name %}x{% endif %}")).toBe(true);
    expect(hasVariables("A set {a, b} and { {x} }")).toBe(false);
  });
});

describe("missingVariables", () => {
  it("reads the names from a 422 problem, else none", () => {
    expect(missingVariables({ code: "missing_variables", missing: ["order.tracking_url"] })).toEqual(["order.tracking_url"]);
    expect(missingVariables({ detail: "x" })).toEqual([]);
    expect(missingVariables(null)).toEqual([]);
  });
});

describe("replyBody", () => {
  it("sends an unchanged canned response by its id, an edited one as text", () => {
    const inserted = { id: "where", text: "Hi Dana, #1001 is on its way" };
    expect(replyBody("Hi Dana, #1001 is on its way\n", inserted)).toEqual({ canned_response_id: "where" });
    expect(replyBody("Hi Dana, #1001 is on its way!", inserted)).toEqual({ text: "Hi Dana, #1001 is on its way!" });
    expect(replyBody("  plain  ", null)).toEqual({ text: "plain" });
  });
});

describe("moveActive", () => {
  it("wraps around and starts from either end", () => {
    expect(moveActive(-1, 1, 3)).toBe(0);
    expect(moveActive(-1, -1, 3)).toBe(2);
    expect(moveActive(2, 1, 3)).toBe(0);
    expect(moveActive(0, -1, 3)).toBe(2);
    expect(moveActive(0, 1, 0)).toBe(-1);
  });
});

describe("suggestedBody", () => {
  const returns = { bodies: { en: "Hi there, returns are free for 30 days.", es: "Hola, las devoluciones son gratis 30 días." } };
  it("shows the body inserting the response puts in: the conversation's language, not the first written", () => {
    expect(suggestedBody({ ...returns, language: "es" })).toBe("Hola, las devoluciones son gratis 30 días.");
    expect(suggestedBody({ bodies: { es: "Hola", en: "Hi" }, language: "en" })).toBe("Hi");
  });
  it("without the API's word, English, else the first; long ones shortened", () => {
    expect(suggestedBody({ bodies: { es: "Hola", en: "Hi" } })).toBe("Hi");
    expect(suggestedBody({ bodies: { de: "Hallo" }, language: null })).toBe("Hallo");
    expect(suggestedBody({ bodies: { en: "x".repeat(80) }, language: "en" })).toBe("x".repeat(57) + "…");
  });
});
