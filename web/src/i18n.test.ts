import { describe, expect, it } from "vitest";
import { counted, format, isMessageKey, LOCALES, pickLocale, translator } from "./i18n";
import { DELIVERY_STATUSES } from "./store";
import { en } from "./i18n/en";
import { formatFull } from "./format";

describe("catalogues", () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  it.each(["es", "pt"] as const)("%s has every English message and no other, with the same placeholders", (locale) => {
    const catalogue = LOCALES[locale].catalogue;
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(catalogue[key], key).toBeTruthy();
      expect(placeholders(catalogue[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("pt is Brazilian Portuguese in every message, as Intl formats its dates (not a European word beside them)", () => {
    const at = "2026-11-15T14:30:00Z";
    expect(formatFull(at, "pt", "UTC")).toBe(formatFull(at, "pt-BR", "UTC")); // "15 de nov. de 2026, 14:30"
    expect(formatFull(at, "pt", "UTC")).not.toBe(formatFull(at, "pt-PT", "UTC")); // "15/11/2026, 14:30"
    const european =
      /(?<!\p{L})(encomendas?|equipas?|ficheiros?|partilhad[ao]s?|stock|telemóve(l|is)|ecrã|utilizador(es)?|contacto|registos?|feit[ao] a|em curso|repete-se|de o \p{L}+r)(?!\p{L})/iu;
    const { pt } = LOCALES;
    const found = Object.entries(pt.catalogue).filter(([, text]) => european.test(text));
    expect(found).toEqual([]);
    expect(pt.catalogue.orders).toBe("Pedidos");
    expect(format(pt.catalogue, "order.placed", { date: "15 de nov." })).toBe("Feito em 15 de nov.");
  });

  it("es and pt say the bot passed the conversation on alike in its header and its timeline", () => {
    const { es, pt } = LOCALES;
    expect(format(es.catalogue, "bot.handed_off", { reason: "x" })).toBe(format(es.catalogue, "timeline.event.bot_handoff", { reason: "x" }));
    expect(es.catalogue["bot.handed_off"]).toBe("El bot la pasó a una persona: {reason}"); // la conversación
    expect(format(pt.catalogue, "bot.handed_off", { reason: "x" })).toBe(format(pt.catalogue, "timeline.event.bot_handoff", { reason: "x" }));
  });

  it("names every delivery state a message can be in (an email's \"accepted\" showed as the raw English word)", () => {
    expect(DELIVERY_STATUSES).toContain("accepted");
    for (const status of DELIVERY_STATUSES) expect(isMessageKey(`delivery.${status}`), status).toBe(true);
  });

  it("follows the agent's choice, else the browser's first language we have, else English", () => {
    expect(pickLocale(null, ["pt-BR", "en-US"])).toBe("pt");
    expect(pickLocale("es", ["pt-BR"])).toBe("es");
    expect(pickLocale(null, ["de-DE", "es-MX"])).toBe("es");
    expect(pickLocale(null, ["fr"])).toBe("en");
  });

  it("says a count in the form its language gives that number", () => {
    const erase = (locale: "en" | "es" | "pt", count: number) => counted(translator(locale), locale, "privacy.severalErase", count);
    expect(erase("en", 1)).toBe("Erase 1 customer");
    expect(erase("en", 0)).toBe("Erase 0 customers");
    expect(erase("en", 2)).toBe("Erase 2 customers");
    expect(erase("es", 1)).toBe("Borrar 1 cliente");
    expect(erase("es", 1000000)).toBe("Borrar 1000000 clientes"); // Spanish's "many" takes the plural
    expect(erase("pt", 1)).toBe("Apagar 1 cliente");
    expect(erase("pt", 3)).toBe("Apagar 3 clientes");
  });

  it("has both forms of every counted message", () => {
    for (const key of Object.keys(en)) {
      if (key.endsWith(".one")) expect(isMessageKey(`${key.slice(0, -4)}.other`), key).toBe(true);
    }
  });

  it("fills placeholders", () => {
    expect(format(en, "load", { active: 2, capacity: 3 })).toBe("2 of 3 conversations");
    expect(translator("es")("signInAs", { name: "Alice" })).toBe("Entrar como Alice");
  });
});
