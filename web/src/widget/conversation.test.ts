import { describe, expect, it } from "vitest";
import type { Pending, ServerItem } from "./conversation";
import { entries, linkRuns, openChoices, retryDelay, stillPending, unread, visitorOf, webAddress } from "./conversation";
import { WIDGET_WORDS, sayer, widgetLanguage } from "./words";

const item = (id: string, from: "visitor" | "agent", at: string, extra: Partial<ServerItem> = {}): ServerItem =>
  ({ id, from, text: id, created_at: at, attachments: [], choices: [], ...extra });
const pending = (clientId: string, extra: Partial<Pending> = {}): Pending =>
  ({ clientId, text: clientId, attachments: [], state: "sending", attempts: 0, ...extra });

describe("what the visitor sees", () => {
  it("lists the messages oldest first, then what is on its way, and a message listed is no longer pending", () => {
    const items = [item("m2", "agent", "2026-12-04T10:00:02Z"), item("m1", "visitor", "2026-12-04T10:00:01Z")];
    const shown = entries(items, [pending("c1", { state: "sent", messageId: "m1" }), pending("c2")]);
    expect(shown.map((e) => (e.kind === "message" ? e.item.id : e.pending.clientId))).toEqual(["m1", "m2", "c2"]);
    expect(stillPending(items, [pending("c1", { state: "sent", messageId: "m1" }), pending("c2")]).map((p) => p.clientId))
      .toEqual(["c2"]);
  });

  it("counts the agents' messages not seen, never the visitor's own", () => {
    const items = [item("a1", "agent", "1"), item("v1", "visitor", "2"), item("a2", "agent", "3")];
    expect(unread(items, new Set(["a1"]))).toBe(1);
    expect(unread(items, new Set())).toBe(2);
  });

  it("offers the newest message's buttons only while it is the agents' and nothing was written since", () => {
    const asked = item("a1", "agent", "1", { choices: [{ id: "yes", title: "Yes" }] });
    expect(openChoices([asked], [])).toEqual([{ id: "yes", title: "Yes" }]);
    expect(openChoices([asked], [pending("c1")])).toEqual([]);
    expect(openChoices([asked, item("v1", "visitor", "2")], [])).toEqual([]);
  });

  it("makes links of web addresses only, without the sentence's punctuation", () => {
    expect(linkRuns("See https://shop.example/a?b=1. Or javascript:alert(1)")).toEqual([
      ["See ", false], ["https://shop.example/a?b=1", true], [". Or javascript:alert(1)", false]]);
    expect(linkRuns("no link")).toEqual([["no link", false]]);
  });

  it("links a file only at a web address: a javascript: or data: link from a provider is no link", () => {
    expect(webAddress("https://media.example/a.jpg")).toBe("https://media.example/a.jpg");
    expect(webAddress("http://media.example/a.jpg")).toBe("http://media.example/a.jpg");
    for (const bad of ["javascript:alert(document.domain)//", " JavaScript:alert(1)", "data:text/html,<b>x</b>", "not a url", "", null]) {
      expect(webAddress(bad)).toBeUndefined();
    }
  });
});

describe("trying again", () => {
  it("waits 1, 2, 4 … seconds up to a minute, or what the API asked", () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelay(n))).toEqual([1, 2, 4, 8, 60]);
    expect(retryDelay(1, 7)).toBe(7);
    expect(retryDelay(1, 10_000)).toBe(300);
  });
});

describe("the shop's token", () => {
  it("names its visitor (read, not verified), and anything else names nobody", () => {
    const payload = btoa(JSON.stringify({ visitor_id: "customer:ana@example.com", exp: 1 }))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(visitorOf(`${payload}.signature`)).toBe("customer:ana@example.com");
    expect(visitorOf("not-a-token")).toBeNull();
    expect(visitorOf("")).toBeNull();
  });
});

describe("the widget's words", () => {
  it("speaks the page's chosen language, else the browser's, else English, with the same words in each", () => {
    expect(widgetLanguage(null, ["pt-BR", "en"])).toBe("pt");
    expect(widgetLanguage("es", ["pt-BR"])).toBe("es");
    expect(widgetLanguage(null, ["de-DE"])).toBe("en");
    const keys = Object.keys(WIDGET_WORDS.en).sort();
    for (const words of Object.values(WIDGET_WORDS)) expect(Object.keys(words).sort()).toEqual(keys);
    expect(sayer("es")("unread", { count: 3 })).toBe("3 mensajes nuevos");
  });
});
