import { describe, expect, it } from "vitest";
import { ApiError, NoAnswer, type Api } from "./api";
import { translator } from "./i18n";
import { changedMeanwhile, failureWords, problemWords, sentence } from "./problems";
import { Store } from "./store";

const refusal = (body: unknown) => new ApiError(409, "the API's English words", body);

describe("problemWords", () => {
  it("says a refusal the API names in the agent's language, with its values", () => {
    const noRoom = refusal({ code: "no_capacity", params: { agent: "Bob Example", active: "3", capacity: "3" } });
    expect(problemWords(noRoom, translator("es"))).toBe(
      "Bob Example no tiene capacidad libre (3 de 3 conversaciones): elige a alguien con espacio o aumenta su capacidad en Ajustes → Agentes.",
    );
    expect(problemWords(refusal({ code: "opted_out", params: { channel: "sms" } }), translator("pt"))).toContain(
      "cancelou a inscrição no SMS",
    );
    expect(problemWords(refusal({ code: "window_closed_7_days", params: { channel: "messenger" } }), translator("en"))).toBe(
      "Messenger allows no message more than 7 days after the customer's last one: wait until they write again.",
    );
  });

  it("says a save that kept meeting another admin's (503 busy) was not made, in the agent's language", () => {
    const busy = new ApiError(503, "the API's English words", { status: 503, code: "busy", params: {} });
    expect(problemWords(busy, translator("es"))).toBe(
      "Otra persona guardaba la misma configuración en ese momento: no se guardó nada. Vuelve a intentarlo.",
    );
    expect(problemWords(busy, translator("en"))).toContain("nothing was saved");
  });

  it("says a read that met the store busy (503 store_busy) read nothing and may be sent again", () => {
    const busy = new ApiError(503, "busy for a moment: nothing was read; try again", { status: 503, code: "store_busy" });
    expect(problemWords(busy, translator("en"))).toBe("shopdesk is busy for a moment: nothing was read. Try again in a few seconds.");
    expect(problemWords(busy, translator("pt"))).toContain("nada foi lido");
  });

  it("says a refusal (4xx) in the API's words as a sentence, and only a fault as something that went wrong", () => {
    const en = translator("en");
    expect(failureWords(new ApiError(400, "from is after to", { detail: "from is after to" }), en)).toBe("From is after to.");
    expect(failureWords(new ApiError(500, "Internal Server Error", null), en)).toBe("Something went wrong: Internal Server Error");
    expect(failureWords(new ApiError(0, "network error", null), en)).toBe("Something went wrong: network error");
    expect(sentence("Value error, not a valid regular expression")).toBe("Not a valid regular expression.");
    expect(sentence("Done already.")).toBe("Done already.");
  });

  it("says a request that got no answer in the agent's words, never the browser's: a change may have been made or not", () => {
    const write = new NoAnswer("POST", new TypeError("Failed to fetch"));
    const read = new NoAnswer("GET", new TypeError("Failed to fetch"));
    expect(failureWords(write, translator("en"))).toBe(
      "No answer from shopdesk: is your connection down? This may or may not have been done: check before doing it again.",
    );
    expect(failureWords(read, translator("en"))).toBe("No answer from shopdesk: is your connection down? Try again in a moment.");
    expect(failureWords(write, translator("es"))).toContain("compruébalo antes de repetirlo");
    expect(failureWords(read, translator("pt"))).toContain("Sem resposta do shopdesk");
    for (const language of ["en", "es", "pt"] as const) {
      expect(failureWords(write, translator(language))).not.toContain("Failed to fetch");
    }
    // the inbox's actions (a reply, a resolve) say it so too
    const store = new Store({} as Api, { error: (d) => d, problem: (e) => problemWords(e, translator("en")) });
    return store.run(async () => { throw write; }).then((ok) => {
      expect(ok).toBe(false);
      expect(store.state.toast?.text).toContain("may or may not have been done");
    });
  });

  it("leaves the API's words for a refusal it does not name, or names without words here", () => {
    expect(problemWords(refusal({ detail: "x" }), translator("es"))).toBeNull();
    expect(problemWords(refusal({ code: "something_new" }), translator("es"))).toBeNull();
    expect(problemWords(new Error("network"), translator("es"))).toBeNull();
  });

  it("is what the inbox shows when an action is refused", async () => {
    const t = translator("es");
    const api = { retry: async () => { throw refusal({ code: "sent_again_already", params: {} }); } } as unknown as Api;
    const store = new Store(api, { error: (detail) => t("error", { detail }), problem: (e) => problemWords(e, t) });
    expect(await store.run(() => api.retry("c1", "m1"))).toBe(false);
    expect(store.state.toast?.text).toBe("Esta respuesta ya se volvió a enviar; si esa también falla, vuelve a enviarla.");
  });
});

describe("a label that would move the conversation", () => {
  const refused = new ApiError(403, "the label Shipping moves the conversation to team logistics, and only …", {
    status: 403,
    code: "label_moves_team",
    params: { label: "Shipping", team: "logistics" },
  });

  it("is said in each language with the label and the team", () => {
    expect(problemWords(refused, translator("en"))).toBe(
      "The label Shipping moves the conversation to logistics, and only its assignee, supervisors and admins may change its team: ask one of them.",
    );
    for (const locale of ["es", "pt"] as const) {
      const words = problemWords(refused, translator(locale));
      expect(words).toContain("Shipping");
      expect(words).toContain("logistics");
      expect(words).not.toMatch(/\{\w+\}/);
    }
  });

  it("is what the labels menu shows when the label change is refused", async () => {
    const t = translator("pt");
    const api = { changeLabels: async () => { throw refused; } } as unknown as Api;
    const store = new Store(api, { error: (detail) => t("error", { detail }), problem: (e) => problemWords(e, t) });
    await store.changeLabels("c1", { add: ["shipping"] }, t("labelsChanged"));
    expect(store.state.toast?.text).toBe(
      "A etiqueta Shipping passa a conversa para logistics, e só quem a atende, os supervisores e os administradores podem mudar sua equipe: peça a um deles.",
    );
  });
});

describe("changedMeanwhile", () => {
  const conflict = (body: unknown) => new ApiError(409, "sla-policy std changed meanwhile (now version 2)", body);

  it("is a version conflict (a 409 without a code) or a problem named changed_meanwhile", () => {
    expect(changedMeanwhile(conflict({ detail: "sla-policy std changed meanwhile (now version 2)" }))).toBe(true);
    expect(changedMeanwhile(conflict(null))).toBe(true);
    expect(changedMeanwhile(conflict({ code: "changed_meanwhile", params: {} }))).toBe(true);
  });

  it("is not another refusal: an id taken, another status, another error", () => {
    expect(changedMeanwhile(conflict({ code: "exists", params: { id: "std" } }))).toBe(false);
    expect(changedMeanwhile(new ApiError(422, "bad", { errors: [] }))).toBe(false);
    expect(changedMeanwhile(new Error("network"))).toBe(false);
  });

  it("is said in the agent's language alone, without the API's English", () => {
    for (const locale of ["en", "es", "pt"] as const) {
      const words = translator(locale)("conflict", { detail: "sla-policy std changed meanwhile (now version 2)" });
      expect(words).not.toContain("sla-policy");
      expect(words).not.toMatch(/\(\s*\)|\{detail\}/);
    }
  });
});
