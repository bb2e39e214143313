// @vitest-environment happy-dom
// The timeline in a DOM: who wrote each reply and note, by name.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { Api, type Message } from "../api";
import { AppContext } from "../context";
import { formatFull } from "../format";
import type { Locale } from "../i18n";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { Timeline } from "./Timeline";

const root = eachRoot();
const store = new Store({} as Api);
const context = testContext(store);

const message = (id: string, over: Partial<Message>): Message => ({
  id,
  direction: "outbound",
  channel: "sms",
  text: id,
  status: null,
  attachments: [],
  created_at: "2026-12-03T09:00:00Z",
  attempts: 0,
  possibly_duplicate: false,
  sender_unproven: false,
  stuck: false,
  ...over,
});

describe("Timeline", () => {
  it("names the agents who replied and wrote notes, an unknown one by id", () => {
    store.set({
      agents: [
        { id: "alice", name: "Alice Example", presence: "online", capacity: 3, active: 1, teams: ["default"] },
        { id: "bob", name: "Bob Example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      ],
    });
    const conv = testConversation("c1", {
      messages: [
        message("reply", { author: "alice", status: "sent" }),
        message("note", { direction: "note", channel: null, author: "bob" }),
        message("old", { author: "carol" }),
      ],
    });
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const heads = [...root().querySelectorAll(".msg-head strong")].map((e) => e.textContent);
    expect(heads).toEqual(["Alice Example", "Internal note · Bob Example", "carol"]);
  });

  it("says an agent the desk has no name for (none, or a blank one) as unnamed, in the agent's language, never by their id", () => {
    store.set({
      agents: [
        { id: "u_7f3a", name: null, presence: "online", capacity: 3, active: 1, teams: ["default"] },
        { id: "u_9c1d", name: "   ", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      ],
    });
    const conv = testConversation("c1", {
      messages: [
        message("reply", { author: "u_7f3a", status: "sent" }),
        message("note", { direction: "note", channel: null, author: "u_9c1d" }),
      ],
    });
    render(
      <AppContext.Provider value={testContext(store, "pt")}>
        <Timeline conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const heads = [...root().querySelectorAll(".msg-head strong")].map((e) => e.textContent);
    expect(heads).toEqual(["Agente sem nome", "Nota interna · Agente sem nome"]);
  });
});

describe("Timeline's delivery state", () => {
  it("says a failure and its reason as one run of text (the row's gap does not split off the colon)", () => {
    const failed = message("failed", { status: "failed", error: { code: "20400", message: "Bad Request" } });
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={testConversation("c1", { messages: [failed] })} />
      </AppContext.Provider>,
      root(),
    );
    const row = root().querySelector(".delivery")!;
    expect(row.firstElementChild?.textContent).toBe("Failed: Bad Request (20400)");
  });
});

describe("Timeline's keyboard access", () => {
  it("is a focusable region, so a long history scrolls from the keyboard when it holds no link or button", () => {
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={testConversation("c1", { messages: [message("m1", { direction: "inbound" })] })} />
      </AppContext.Provider>,
      root(),
    );
    const timeline = root().querySelector<HTMLElement>("ol.timeline")!;
    expect(timeline.tabIndex).toBe(0);
    expect(timeline.getAttribute("aria-label")).toBe("Timeline");
  });
});

describe("Timeline's Send again", () => {
  it("is offered on a failed reply until it was sent again, and not on one the provider took but did not deliver", () => {
    const failed = message("failed", { status: "failed", error: { code: "21211", message: "not a valid phone number" } });
    const undelivered = message("undelivered", { status: "undelivered", error: { code: "30003", message: "Unreachable" } });
    const show = (messages: Message[]) =>
      render(
        <AppContext.Provider value={context}>
          <Timeline conv={testConversation("c1", { messages })} />
        </AppContext.Provider>,
        root(),
      );
    const offered = () =>
      [...root().querySelectorAll(".msg")].filter((li) => [...li.querySelectorAll("button")].some((b) => b.textContent === "Send again")).map((li) => li.querySelector(".msg-text")?.textContent);
    show([failed, undelivered]);
    expect(offered()).toEqual(["failed"]);
    // once sent again (the API answers the new reply, naming the failed one), a second send is not offered
    show([failed, undelivered, message("again", { status: "queued", retry_of: "failed" })]);
    expect(offered()).toEqual([]);
    expect(root().querySelector(".msg-failed")?.textContent).toContain("Sent again below");
  });
});

describe("Timeline's Send again, pressed again after no answer", () => {
  it("sends the same Idempotency-Key until the API took it, and another failed reply's with another", async () => {
    // Given an API whose first answer to Send again is lost (the connection dropped), then answers
    const keys: (string | null)[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (!url.endsWith("/retry")) return { ok: true, status: 200, text: async () => "{}" };
        keys.push(new Headers(init.headers).get("Idempotency-Key"));
        if (keys.length === 1) throw new TypeError("Failed to fetch");
        return { ok: true, status: 202, text: async () => JSON.stringify(message(`again${keys.length}`, { status: "queued" })) };
      }),
    );
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live" });
    const failed = (id: string) => message(id, { status: "failed", error: { code: "21211", message: "not a valid phone number" } });
    render(
      <AppContext.Provider value={testContext(live)}>
        <Timeline conv={testConversation("c1", { messages: [failed("first"), failed("second")] })} />
      </AppContext.Provider>,
      root(),
    );
    const press = async (reply: string, count: number) => {
      const li = [...root().querySelectorAll(".msg")].find((e) => e.querySelector(".msg-text")?.textContent === reply)!;
      [...li.querySelectorAll("button")].find((b) => b.textContent === "Send again")!.click();
      await vi.waitFor(() => expect(keys).toHaveLength(count));
      await vi.waitFor(() => expect(li.querySelector("button")?.disabled).toBe(false));
    };

    // When Send again is pressed, its answer lost, and pressed again; then another failed reply's
    await press("first", 1);
    await press("first", 2);
    await press("second", 3);

    // Then the press again carries the first press's key (the API answers the new reply it took, not a 409)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    expect(live.retryKeys.size).toBe(0); // taken: nothing kept
    vi.unstubAllGlobals();
  });
});

describe("Timeline's stuck reply", () => {
  const stuck = message("stuck", { status: "queued", stuck: true, attempts: 2, error: { code: "20503", message: "Service unavailable; the reply will be retried" } });
  const gaveUp = message("gaveUp", { status: "failed", error: { code: "stuck", message: "Not sent: nothing tried to send this reply for an hour or more" } });
  const show = (locale: Locale, messages: Message[]) => {
    render(
      <AppContext.Provider value={testContext(store, locale)}>
        <Timeline conv={testConversation("c1", { messages })} />
      </AppContext.Provider>,
      root(),
    );
    return [...root().querySelectorAll(".msg")].map((li) => ({
      delivery: li.querySelector(".delivery span")?.textContent,
      sendAgain: [...li.querySelectorAll("button")].map((b) => b.textContent),
      failed: li.classList.contains("msg-failed"),
    }));
  };

  it.each([
    ["en", "Not sent: nothing has tried to send it for an hour or more, and it will not go by itself", "Send again", "Failed: it was stuck in the queue and will not be sent from there"],
    ["es", "No enviado: nada ha intentado enviarlo desde hace una hora o más, y no saldrá por sí solo", "Enviar de nuevo", "Fallido: se quedó atascado en la cola y no se enviará desde allí"],
    ["pt", "Não enviada: nada tentou enviá-la há uma hora ou mais, e ela não sairá sozinha", "Enviar de novo", "Falhou: ficou presa na fila e não será enviada de lá"],
  ] as const)("in %s says a reply nothing tries to send is not sent and offers to send it again", (locale, said, button, givenUp) => {
    // a queued reply the API says is stuck: not "Queued" with the provider's retry promise, but not sent, with Send again
    expect(show(locale, [stuck])).toEqual([{ delivery: said, sendAgain: [button], failed: true }]);
    // sent again: the stuck one is given up (failed, code stuck) and says why in the agent's language
    const again = message("again", { status: "queued", retry_of: "gaveUp" });
    expect(show(locale, [gaveUp, again])[0]).toMatchObject({ delivery: givenUp, sendAgain: [] });
  });
});

// A system entry's event (layers/shopdesk/shopdesk/logic/timeline.py) in the agent's language; its text otherwise.
const event = (kind: string, params: Record<string, unknown>, text = `stored: ${kind}`): Message =>
  message(kind, { direction: "system", channel: null, text, event: { kind, params } });

/** What the timeline shows of each system entry, in `locale`. */
function shown(locale: Locale, ...messages: Message[]): string[] {
  const local = new Store({} as Api);
  local.set({
    agents: [
      { id: "alice", name: "Alice Example", presence: "online", capacity: 3, active: 1, teams: ["default"] },
      { id: "bob", name: "Bob Example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      { id: "u_7f3a", name: null, email: "ana@shop.example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
    ],
    labels: [{ id: "vip", name: "Cliente VIP", color: "#aa0000", retired: false, version: 1 }],
  });
  render(
    <AppContext.Provider value={testContext(local, locale)}>
      <Timeline conv={testConversation("c1", { messages })} />
    </AppContext.Provider>,
    root(),
  );
  return [...root().querySelectorAll(".msg-system span")].map((e) => e.textContent ?? "");
}

describe("Timeline's system entries", () => {
  const at = (iso: string, locale: Locale) => formatFull(iso, locale, "UTC");

  it("names the agents of an assignment, a transfer with its note, a silence and an offline agent", () => {
    const entries = [
      event("assigned", { agent: "alice" }),
      event("transferred", { from: "alice", to: "bob", by: "alice", note: "VIP, call back" }),
      event("assignee_silent", { agent: "bob" }),
      event("agent_offline", { agent: "carol" }, "Carol went offline: back in the queue"), // not listed: as stored
    ];
    expect(shown("es", ...entries)).toEqual([
      "Asignada a Alice Example",
      "Transferida de Alice Example a Bob Example por Alice Example. Nota de traspaso: VIP, call back",
      "Bob Example no respondió a tiempo: de vuelta en la cola para el siguiente agente",
      "Carol went offline: back in the queue",
    ]);
    expect(shown("en", entries[1]!)).toEqual([
      "Transferred from Alice Example to Bob Example by Alice Example. Hand-off note: VIP, call back",
    ]);
  });

  it("says a status in the inbox's words and a snooze's end as the inbox writes times", () => {
    const until = "2030-01-02T09:00:00.000Z";
    const entries = [
      event("status_changed", { status: "resolved", by: "alice" }),
      event("reopened", { by: "bob" }),
      event("snoozed", { until, by: "alice" }),
      event("snooze_ended", {}),
      event("reopened_by_customer", {}),
      event("thanks_kept", {}),
    ];
    expect(shown("es", ...entries)).toEqual([
      "Marcada como resuelta por Alice Example",
      "Reabierta por Bob Example",
      `Pospuesta hasta el ${at(until, "es")} por Alice Example`,
      "Fin de la posposición: abierta de nuevo",
      "Reabierta por un mensaje del cliente",
      "El agradecimiento del cliente, guardado aquí: la conversación sigue resuelta",
    ]);
    expect(shown("en", entries[0]!, entries[2]!)).toEqual([
      "Marked resolved by Alice Example",
      `Snoozed until ${at(until, "en")} by Alice Example`,
    ]);
  });

  it("says a first response taken back, and the status a conversation was opened again from", () => {
    const entries = [event("first_response_lost", {}), event("first_response_lost", { reopened: "resolved" })];
    expect(shown("en", ...entries)).toEqual([
      "The reply never reached the customer: the first response is still due",
      "The reply never reached the customer: the first response is still due, and the conversation, resolved until now, is open again",
    ]);
    expect(shown("es", entries[1]!)).toEqual([
      "La respuesta nunca llegó al cliente: la primera respuesta sigue pendiente y la conversación, resuelta hasta ahora, está abierta de nuevo",
    ]);
  });

  it("says which conversation went into which when customers were merged, by an agent or by the customer's proof", () => {
    const entries = [
      event("folded", { conversation: "c_2", channel: "webchat", messages: 3, by: "alice" }),
      event("folded", { conversation: "c_2", channel: "webchat", messages: 1, by: "system" }),
      event("folded_into", { conversation: "c_1", by: "system" }),
      event("unfolded", { conversation: "c_2", by: "alice" }),
    ];
    expect(shown("en", ...entries)).toEqual([
      "The customer's other open conversation (Web chat, 3 messages) merged into this one with them by Alice Example: its messages show here",
      "The customer's other open conversation (Web chat, 1 message) merged into this one with them: its messages show here",
      "Merged into the customer's other open conversation with them: it goes on there",
      "The conversation merged with this one taken apart again: Alice Example undid the customers' merge",
    ]);
    expect(shown("pt", entries[2]!, entries[3]!)).toEqual([
      "Fundida na outra conversa aberta do cliente quando os registros foram fundidos: continua lá",
      "A conversa fundida nesta foi separada de novo: Alice Example desfez a fusão dos clientes",
    ]);
  });

  it("says what became of a message that asks nothing (STOP, START, an out-of-office), naming the channel", () => {
    const entries = [
      event("kept_resolved", { why: "opt_out", channel: "sms" }),
      event("kept_resolved", { why: "auto_reply", channel: "email" }),
      event("nothing_to_answer", { why: "opt_in", channel: "whatsapp" }),
      event("clocks_paused_unsubscribed", { channel: "sms" }),
      event("clocks_resumed_subscribed", { channel: "sms" }),
    ];
    expect(shown("es", ...entries)).toEqual([
      "El cliente se dio de baja de SMS (STOP): guardado aquí, la conversación sigue resuelta",
      "Una respuesta automática (fuera de la oficina): guardada aquí, la conversación sigue resuelta",
      "El cliente se volvió a suscribir en WhatsApp (START): nada que responder, resuelta",
      "El cliente se dio de baja de SMS y no tiene otro canal aquí: los relojes de SLA están en pausa",
      "El cliente se volvió a suscribir en SMS: los relojes de SLA corren de nuevo",
    ]);
    expect(shown("en", entries[3]!)).toEqual([
      "The customer unsubscribed from SMS and has no other channel here: the SLA clocks are paused",
    ]);
  });

  it("names SLA targets with the inbox's words, a sentence that starts with one in capitals", () => {
    const due = "2026-12-03T13:00:00.000Z";
    const entries = [
      event("sla_missed", { target: "first_response", due }),
      event("sla_warning", { target: "resolution", due }),
      event("sla_missed_reassigned", { target: "next_response", agent: "bob" }),
    ];
    expect(shown("en", ...entries)).toEqual([
      `First response target missed (due ${at(due, "en")})`,
      `Resolution target close: due ${at(due, "en")}`,
      "Next response target missed: taken from Bob Example for the next agent",
    ]);
    expect(shown("pt", entries[0]!)).toEqual([`Meta de primeira resposta não cumprida (vencia em ${at(due, "pt")})`]);
  });

  it("words priorities, routing, label and macro changes, labels by name", () => {
    const entries = [
      event("priority_raised", {
        from: "normal",
        to: "urgent",
        causes: [{ cause: "urgent", reasons: ["deadline"] }, { cause: "negative", emotion: "anger" }],
      }),
      event("routing_changed", {
        by: "alice",
        note: "double charge",
        changes: [
          { change: "team", from: "default", to: "billing" },
          { change: "skills", from: ["returns"], to: [] },
          { change: "not_in_team", agent: "alice", team: "billing", queued: true },
        ],
      }),
      event("labels_changed", { by: "bob", changes: [{ change: "labels_added", labels: ["vip", "gone"] }] }),
      event("macro_applied", {
        macro: "Escalate",
        macro_id: "escalate",
        by: "alice",
        changes: [
          { change: "priority", from: "normal", to: "high" },
          { change: "queued" },
          { change: "note" },
          { change: "reply", canned_response: "cr_01", title: "Where is my order?" },
          { change: "reply", canned_response: "cr_02" },
        ],
      }),
      event("macro_applied", { macro: "Noop", macro_id: "noop", by: "alice", changes: [] }),
    ];
    expect(shown("es", ...entries)).toEqual([
      "Prioridad subida de normal a urgente: mensaje urgente (plazo); mensaje negativo (enfadado)",
      "Enrutamiento cambiado por Alice Example: equipo default → billing; habilidades returns → ninguna; " +
        "Alice Example no está en billing: de vuelta en la cola. Nota: double charge",
      "Etiquetas cambiadas por Bob Example: etiquetas añadidas: Cliente VIP y gone",
      "Macro «Escalate» aplicada por Alice Example: prioridad normal → alta; de vuelta a la cola; una nota; " +
        "respuesta con «Where is my order?»; respuesta con cr_02",
      "Macro «Noop» aplicada por Alice Example: nada que cambiar",
    ]);
    expect(shown("en", entries[0]!)).toEqual([
      "Priority raised from normal to urgent: urgent message (deadline); negative message (angry)",
    ]);
  });

  it("says why the bot handed over or resolved", () => {
    expect(
      shown(
        "pt",
        event("bot_handoff", { reason: "low_confidence", article: "returns-policy", confidence: 0.41 }),
        event("bot_handoff", { reason: "legal" }),
        event("bot_resolved", { why: "no_reply" }),
      ),
    ).toEqual([
      "O bot passou para uma pessoa: nenhum artigo é suficientemente seguro (melhor artigo returns-policy, confiança 41%)",
      "O bot passou para uma pessoa: um assunto jurídico",
      "Resolvida pelo bot: o cliente não respondeu",
    ]);
  });

  it("words order actions with amounts in the shop's currency and the platform's own words for a refusal", () => {
    const entries = [
      event("order_cancelled", { order: "#1004", by: "alice", reason: "inventory" }),
      event("order_refunded", {
        order: "#1001",
        by: "alice",
        amount: "10.00",
        currency: "USD",
        items: [{ title: "Wool socks", quantity: 1 }],
      }),
      event("order_refunded", { order: "#1001", by: "bob", amount: "30.00", currency: "EUR" }),
      event("order_refund_failed", { order: "#1001", by: "alice", error: "The payment gateway declined the refund" }),
    ];
    expect(shown("es", ...entries)).toEqual([
      "Pedido #1004 cancelado por Alice Example (motivo: sin existencias)",
      `Reembolso de ${new Intl.NumberFormat("es", { style: "currency", currency: "USD" }).format(10)} en el pedido #1001 ` +
        "por Alice Example (1 × Wool socks)",
      `Reembolso de ${new Intl.NumberFormat("es", { style: "currency", currency: "EUR" }).format(30)} en el pedido #1001 ` +
        "por Bob Example (todo lo que quedaba por reembolsar)",
      "Alice Example intentó reembolsar el pedido #1001: The payment gateway declined the refund",
    ]);
  });

  it("says where a transcript went and why a survey or a transcript did not", () => {
    expect(
      shown(
        "es",
        event("transcript_sent", { to: "ana@example.com", language: "pt", messages: 1, by: "alice" }),
        event("transcript_sent", { to: "ana@example.com", language: "en", messages: 4 }),
        event("transcript_not_sent", { reason: "no_email" }),
        event("csat_skipped", { reason: "window_closed", channel: "instagram" }),
        event("csat_skipped", { reason: "no_template", template: "csat_survey" }),
      ),
    ).toEqual([
      "Transcripción enviada a ana@example.com (portugués, 1 mensaje) por Alice Example",
      "Transcripción enviada a ana@example.com (inglés, 4 mensajes) al resolver",
      "No se envió la transcripción al resolver: el cliente no tiene dirección de correo",
      "No se envió la encuesta de satisfacción: Instagram solo admite la respuesta de una persona pasadas 24 horas " +
        "desde el último mensaje del cliente",
      "No se envió la encuesta de satisfacción: la ventana de 24 horas de WhatsApp está cerrada y no hay ninguna " +
        "plantilla aprobada llamada csat_survey",
    ]);
  });

  it("words what providers report: reactions, edits, unsends and what the business sent elsewhere", () => {
    const entries = [
      event("reaction", { action: "added", emoji: "❤️" }),
      event("reaction", { action: "added", emoji: "🔥 ⭐", custom_emoji: 2 }),
      event("reaction", { action: "removed", emoji: "👍" }),
      event("reaction", { action: "removed" }),
      event("edit", { text: "Size 40, not 38" }),
      event("edit", {}),
      event("unsend", { channel: "instagram" }),
      event("unsend", { channel: "telegram" }),
      event("echo", { channel: "messenger", text: "We shipped it" }),
      event("echo", { channel: "whatsapp", content: "image" }),
      event("echo", { channel: "telegram", text: "Yes we do" }),
    ];
    expect(shown("es", ...entries)).toEqual([
      "Reaccionó con ❤️",
      "Reaccionó con 🔥 ⭐ 2 emojis personalizados",
      "Quitó la reacción 👍",
      "Quitó una reacción",
      "Editó un mensaje: Size 40, not 38",
      "Editó un mensaje: un archivo sin texto",
      "El cliente anuló el envío de un mensaje",
      "Se eliminó un mensaje en el chat de Telegram Business",
      "Enviado por la empresa: We shipped it",
      "Enviado desde la app WhatsApp Business: [image]",
      "La tienda escribió desde su cuenta de Telegram: «Yes we do»",
    ]);
    expect(shown("pt", ...entries)).toEqual([
      "Reagiu com ❤️",
      "Reagiu com 🔥 ⭐ 2 emojis personalizados",
      "Removeu a reação 👍",
      "Removeu uma reação",
      "Editou uma mensagem: Size 40, not 38",
      "Editou uma mensagem: mídia sem legenda",
      "O cliente cancelou o envio de uma mensagem",
      "Uma mensagem foi apagada no chat do Telegram Business",
      "Enviado pela empresa: We shipped it",
      "Enviado pelo app WhatsApp Business: [image]",
      "A loja escreveu pela sua conta do Telegram: “Yes we do”",
    ]);
    expect(shown("en", entries[0]!, entries[3]!, entries[8]!)).toEqual([
      "Reacted ❤️",
      "Removed a reaction",
      "Sent by the business: We shipped it",
    ]);
  });

  it("words how the customer arrived, opted in or changed account, the bot's membership and what it cannot show", () => {
    const entries = [
      event("referral", { source: "ads", ad_title: "Summer sale", ad_id: "42" }),
      event("referral", { source: "shortlink", ref: "summer" }),
      event("referral", { source: "instagram_story" }),
      event("optin", { notifications: "stopped" }),
      event("optin", { title: "Restock alerts" }),
      event("account_changed", { channel: "whatsapp", number: "+16505559999", detail: "User A changed…" }),
      event("account_changed", { channel: "whatsapp" }),
      event("chat_opened", { channel: "whatsapp" }),
      event("preference", { choice: "stop", category: "marketing_messages", detail: "User requested to stop" }),
      event("bot_blocked", {}),
      event("bot_status_changed", { to: "restricted" }),
      event("unknown", { channel: "messenger", name: "game_play" }),
      event("unknown", { channel: "telegram" }),
      event("unsupported", { reason: "invalid", detail: "shop_address: String should have at most 1024 characters" }),
    ];
    expect(shown("es", ...entries)).toEqual([
      "El cliente llegó desde un anuncio «Summer sale» (anuncio 42)",
      "El cliente llegó desde un enlace m.me (ref. summer)",
      "El cliente llegó desde instagram story",
      "El cliente dejó de recibir mensajes de notificación",
      "El cliente aceptó recibir mensajes: Restock alerts",
      "El cliente cambió su número a +16505559999",
      "WhatsApp informó de un cambio en la cuenta del cliente",
      "El cliente abrió un chat con la empresa",
      "El cliente dejó de recibir mensajes de marketing",
      "El cliente bloqueó el bot",
      "El estado del bot en el chat cambió de desconocido a restringido",
      "Evento de Messenger sin gestionar: game_play",
      "Evento vacío de Telegram sin gestionar",
      "[El cliente envió algo que esta bandeja no puede mostrar: un valor de un tipo o tamaño que la bandeja no espera " +
        "(shop_address: String should have at most 1024 characters)]",
    ]);
    expect(shown("pt", ...entries)).toEqual([
      "O cliente chegou por um anúncio “Summer sale” (anúncio 42)",
      "O cliente chegou por um link m.me (ref. summer)",
      "O cliente chegou por instagram story",
      "O cliente deixou de receber mensagens de notificação",
      "O cliente aceitou receber mensagens: Restock alerts",
      "O cliente mudou o número para +16505559999",
      "O WhatsApp informou uma mudança na conta do cliente",
      "O cliente abriu uma conversa com a empresa",
      "O cliente deixou de receber mensagens de marketing",
      "O cliente bloqueou o bot",
      "O status do bot no chat mudou de desconhecido para restrito",
      "Evento do Messenger não tratado: game_play",
      "Evento vazio do Telegram não tratado",
      "[O cliente enviou algo que esta caixa de entrada não consegue mostrar: um valor de tipo ou tamanho que a caixa " +
        "de entrada não espera (shop_address: String should have at most 1024 characters)]",
    ]);
    expect(shown("en", entries[0]!, entries[1]!)).toEqual([
      "The customer arrived via an ad “Summer sale” (ad 42)",
      "The customer arrived via an m.me link (ref summer)",
    ]);
  });

  it("shows the stored text of a provider's entry it cannot word", () => {
    expect(
      shown(
        "pt",
        event("unsupported", { reason: "brand_new_reason", detail: "x" }, "[The customer sent something: x]"),
        event("reaction", { action: "swapped", emoji: "👍" }, "Reacted 👍"),
        event("echo", { channel: "messenger" }, "Sent by the business: [attachment]"),
      ),
    ).toEqual(["[The customer sent something: x]", "Reacted 👍", "Sent by the business: [attachment]"]);
  });

  it("never says an agent the desk does not list by their id: the stored text says them (by name, else as an agent)", () => {
    expect(
      shown(
        "es",
        event("assigned", { agent: "u_gone" }, "Assigned to an agent"),
        event("status_changed", { status: "pending", by: "u_gone" }, "Marked pending by an agent"),
        event("transferred", { from: "alice", to: "u_gone", by: "bob" }, "Transferred from Alice Example to an agent by Bob Example"),
      ),
    ).toEqual(["Assigned to an agent", "Marked pending by an agent", "Transferred from Alice Example to an agent by Bob Example"]);
  });

  it("says a listed colleague with no name by their work email, which the stored text (the customer's too) never holds", () => {
    expect(
      shown(
        "es",
        event("assigned", { agent: "u_7f3a" }, "Assigned to an agent"),
        event("status_changed", { status: "pending", by: "u_7f3a" }, "Marked pending by an agent"),
      ),
    ).toEqual(["Asignada a ana@shop.example", "Marcada como pendiente por ana@shop.example"]);
  });

  it("shows the stored text of an entry without an event, of an unknown kind, or missing a param", () => {
    expect(
      shown(
        "es",
        message("old", { direction: "system", channel: null, text: "Assigned to alice" }),
        event("brand_new_kind", { agent: "alice" }, "Something new happened"),
        event("snoozed", { by: "alice" }, "Snoozed until 2030-01-02T09:00:00.000Z by alice"),
        event("status_changed", { status: "archived", by: "alice" }, "Marked archived by alice"),
        event("macro_applied", { macro: "X", by: "alice", changes: [{ change: "teleported" }] }, "Macro “X” applied"),
        event("assigned", { agent: 42 }, "Assigned to 42"),
      ),
    ).toEqual([
      "Assigned to alice",
      "Something new happened",
      "Snoozed until 2030-01-02T09:00:00.000Z by alice",
      "Marked archived by alice",
      "Macro “X” applied",
      "Assigned to 42",
    ]);
  });
});

describe("Timeline scrolling", () => {
  const show = (conv: ReturnType<typeof testConversation>) =>
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={conv} />
      </AppContext.Provider>,
      root(),
    );
  const effects = () => new Promise((resolve) => setTimeout(resolve, 60));
  const scrolledTo = (top: number) => {
    const list = root().querySelector<HTMLOListElement>("ol.timeline")!;
    Object.defineProperty(list, "scrollHeight", { configurable: true, value: 2000 });
    Object.defineProperty(list, "clientHeight", { configurable: true, value: 400 });
    Object.defineProperty(list, "scrollTop", { configurable: true, value: top });
    list.dispatchEvent(new Event("scroll"));
  };

  it("keeps an agent who scrolled up to read where they are as a customer's message arrives", async () => {
    const scroll = vi.fn();
    Element.prototype.scrollIntoView = scroll;
    const inbound = (id: string) => message(id, { direction: "inbound", author: null });
    const c1 = (n: number) => testConversation("c1", { messages: Array.from({ length: n }, (_, i) => inbound(`m${i}`)) });
    show(c1(3));
    await effects();
    expect(scroll).toHaveBeenCalledTimes(1); // opened: at the end
    scrolledTo(200); // reading the history
    show(c1(4));
    await effects();
    expect(scroll).toHaveBeenCalledTimes(1); // stays put
    show({ ...c1(5), messages: [...c1(4).messages!, message("mine", { author: "alice" })] });
    await effects();
    expect(scroll).toHaveBeenCalledTimes(2); // the agent's own reply: to the end
    show(c1(6));
    await effects();
    expect(scroll).toHaveBeenCalledTimes(3); // at the end: follows the new message
    scrolledTo(200);
    show(testConversation("c2", { messages: [inbound("x")] }));
    await effects();
    expect(scroll).toHaveBeenCalledTimes(4); // another conversation opens at its end
  });
});

describe("Timeline's unsent and edited messages", () => {
  const inbound = (id: string, over: Partial<Message>) => message(id, { direction: "inbound", channel: "messenger", ...over });
  const bodies = (locale: Locale, ...messages: Message[]) => {
    render(
      <AppContext.Provider value={testContext(new Store({} as Api), locale)}>
        <Timeline conv={testConversation("c1", { messages })} />
      </AppContext.Provider>,
      root(),
    );
    return [...root().querySelectorAll(".msg-inbound")].map((li) =>
      [...li.querySelectorAll(".msg-text, .msg-was")].map((e) => e.textContent),
    );
  };

  it("says a message was unsent in place of its words, and which side may have deleted it on Telegram", () => {
    const unsent = inbound("gone", { text: null, unsent_at: "2026-12-03T09:01:00Z" });
    const telegram = inbound("deleted", { channel: "telegram", text: null, unsent_at: "2026-12-03T09:02:00Z" });
    expect(bodies("en", unsent, telegram)).toEqual([["Unsent by the customer"], ["Deleted in the Telegram chat"]]);
    expect(bodies("es", unsent)).toEqual([["El cliente anuló el envío"]]);
    expect(bodies("pt", unsent)).toEqual([["O cliente cancelou o envio"]]);
  });

  it("shows an edited message's new words marked as edited, and its first words under them", () => {
    const edited = inbound("edited", { text: "Can I pay on delivery?", edited_text: "Can I pay by card?", edited_at: "2026-12-03T09:05:00Z" });
    const captionGone = inbound("caption", { text: "my receipt", edited_text: null, edited_at: "2026-12-03T09:06:00Z" });
    expect(bodies("en", edited, captionGone)).toEqual([
      ["Can I pay by card? (edited)", "was: Can I pay on delivery?"],
      ["(edited)", "was: my receipt"],
    ]);
    expect(root().querySelector(".edited-mark")?.getAttribute("title")).toContain("Edited");
    expect(bodies("es", edited)).toEqual([["Can I pay by card? (editado)", "antes: Can I pay on delivery?"]]);
  });

  it("says a contact form's message does not prove its sender's address, in the agent's language", () => {
    const form = inbound("form", { channel: "email", text: "Please refund me to another card", sender_unproven: true });
    const own = inbound("own", { channel: "email", text: "Where is my order?" });
    const notes = (locale: Locale) => {
      bodies(locale, form, own);
      return [...root().querySelectorAll(".msg-inbound")].map((li) => li.querySelector(".unproven-sender")?.textContent ?? null);
    };
    expect(notes("en")).toEqual(["Sent through a contact form: the sender's address is not proven", null]);
    expect(notes("es")).toEqual(["Enviado desde un formulario de contacto: la dirección del remitente no está comprobada", null]);
    expect(notes("pt")).toEqual(["Enviado por um formulário de contato: o endereço do remetente não foi comprovado", null]);
    expect(root().querySelector(".unproven-sender")?.getAttribute("role")).toBe("note");
  });

  it("says an edit of a message unsent since without its words", () => {
    expect(shown("en", event("edit", { unsent: true }, "Edited a message the customer unsent since"))).toEqual([
      "Edited a message the customer unsent since",
    ]);
    expect(shown("pt", event("edit", { text: "new words" }), event("edit", { unsent: true }))).toEqual([
      "Editou uma mensagem: new words",
      "Editou uma mensagem cujo envio o cliente cancelou depois",
    ]);
  });
});

describe("Timeline's files not kept", () => {
  it("names each file and says why once, for notes stored before the desk stopped saying 'not kept' too", () => {
    const conv = testConversation("c1", {
      messages: [
        message("in", {
          direction: "inbound",
          attachments: [
            { filename: "page.html", content_type: "text/html", note: "files named *.html are not accepted" },
            { filename: "clip.mp4", content_type: "video/mp4", note: "larger than 20 MB, not kept" },
            { filename: "old.svg", content_type: "image/svg+xml", note: "not kept: files of type image/svg+xml are not accepted" },
          ],
        }),
      ],
    });
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const notes = [...root().querySelectorAll(".attachment-note")].map((e) => e.textContent);
    expect(notes).toEqual([
      "page.html not kept: files named *.html are not accepted",
      "clip.mp4 not kept: larger than 20 MB",
      "old.svg not kept: files of type image/svg+xml are not accepted",
    ]);
  });
});
