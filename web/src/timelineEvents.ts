// A system entry of the timeline in the agent's language. The back end gives each entry its English text and the same
// said structured (`event`: a kind and its params, layers/shopdesk/shopdesk/logic/timeline.py); the words come from
// the catalogue's `timeline.event.<kind>` messages, agents by name, times and amounts as the rest of the inbox writes
// them, statuses, priorities and SLA targets with the words the inbox has for them. The entries providers' webhooks
// cause (reactions, edits, echoes…: layers/shopdesk/shopdesk/channels/base.py `timeline_event`) carry the customer's
// or the provider's own words as they are, and name the provider as the inbox names channels. An entry without an
// event (stored before events existed), of a kind this inbox does not know, or with a param missing, shows its
// stored text.
import type { Message } from "./api";
import { channelName } from "./channels";
import { agentNamer, formatFull, labelName } from "./format";
import { countForm, isMessageKey, type MessageKey, type Translate } from "./i18n";
import { money } from "./orders";

export interface Wording {
  t: Translate;
  locale: string;
  timeZone: string;
  agents: readonly { id: string; name?: string | null }[];
  labels: readonly { id: string; name: string }[];
}

type Params = Record<string, unknown>;

/** A param missing, of the wrong type, or a value the catalogue has no words for: the entry keeps its text. */
class Unworded extends Error {}

/** The catalogue's key for a value the API named (`sla.first_response`), when the catalogue has words for it. */
function key(prefix: string, value: string): MessageKey {
  const made = `${prefix}.${value}`;
  if (!isMessageKey(made)) throw new Unworded(made);
  return made;
}

/** Reads one event's params as the words they stand for; throws `Unworded` when it cannot. */
class Reader {
  private readonly lowered: string[] = [];

  constructor(
    readonly params: Params,
    readonly w: Wording,
  ) {}

  has(name: string): boolean {
    return this.params[name] !== undefined && this.params[name] !== null;
  }

  text(name: string, from: Params = this.params): string {
    const value = from[name];
    if (typeof value !== "string" || value === "") throw new Unworded(name);
    return value;
  }

  count(name: string, from: Params = this.params): number {
    const value = from[name];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Unworded(name);
    return value;
  }

  strings(name: string, from: Params = this.params): string[] {
    const value = from[name];
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) throw new Unworded(name);
    return value;
  }

  records(name: string): Params[] {
    const value = this.params[name];
    if (!Array.isArray(value) || !value.every((v): v is Params => typeof v === "object" && v !== null)) {
      throw new Unworded(name);
    }
    return value;
  }

  /** An agent the desk lists, as the inbox names agents (name, else work email, else "Unnamed agent": agentLabel);
   * one it does not list (gone, or the agents still read) is never said by id: the entry shows its stored text, which
   * says them by name, else email, else "an agent". */
  agent(name: string, from: Params = this.params): string {
    const said = agentNamer(this.w.agents, null, null, this.say("unnamedAgent"))(this.text(name, from));
    if (said === null) throw new Unworded(name);
    return said;
  }

  /** A channel (or the provider that carries it) as the inbox names channels: brands as they are. */
  channel(name: string, from: Params = this.params): string {
    return channelName(this.text(name, from), (k, v) => this.say(k, v));
  }

  /** The words the catalogue has for `<prefix>.<value>`, else the value as the provider wrote it (`a_b` as "a b"). */
  wordOr(prefix: string, value: string): string {
    const made = `${prefix}.${value}`;
    return isMessageKey(made) ? this.say(made) : value.replace(/_/g, " ");
  }

  /** Whether `count` takes the singular in the agent's language. */
  one(count: number): boolean {
    return countForm(this.w.locale, count) === "one";
  }

  time(name: string, from: Params = this.params): string {
    const iso = this.text(name, from);
    if (Number.isNaN(Date.parse(iso))) throw new Unworded(name);
    return formatFull(iso, this.w.locale, this.w.timeZone);
  }

  label(id: string): string {
    return labelName(this.w.labels, id);
  }

  /** A value as the catalogue's `<prefix>.<value>` says it; `lower` for a word inside a sentence ("Resolved" ->
   *  "resolved", "Primera respuesta" -> "primera respuesta"): a sentence that starts with one gets its capital back. */
  word(prefix: string, name: string, lower = false, from: Params = this.params): string {
    const said = this.w.t(key(prefix, this.text(name, from)));
    if (!lower) return said;
    const word = said.toLocaleLowerCase(this.w.locale);
    this.lowered.push(word);
    return word;
  }

  say(key: MessageKey, values: Record<string, string | number> = {}): string {
    return this.w.t(key, values);
  }

  sentence(text: string): string {
    return this.lowered.some((word) => text.startsWith(word))
      ? text.charAt(0).toLocaleUpperCase(this.w.locale) + text.slice(1)
      : text;
  }

  /** The entry with the note an agent added, when there is one, worded by `key` ("{entry}. Note: {note}"). */
  withNote(entry: string, key: MessageKey): string {
    return this.has("note") ? this.say(key, { entry, note: this.text("note") }) : entry;
  }

  list(values: string[]): string {
    return new Intl.ListFormat(this.w.locale, { type: "unit" }).format(values);
  }
}

/** One change a routing edit, a label edit or a macro made (`timeline.change` on the back end). */
function change(p: Reader, c: Params): string {
  const kind = p.text("change", c);
  switch (kind) {
    case "priority":
      return p.say("timeline.change.priority", { from: p.word("priority", "from", true, c), to: p.word("priority", "to", true, c) });
    case "team":
      return "label" in c
        ? p.say("timeline.change.teamByLabel", { from: p.text("from", c), to: p.text("to", c), label: p.label(p.text("label", c)) })
        : p.say("timeline.change.team", { from: p.text("from", c), to: p.text("to", c) });
    case "skills": {
      const skills = (name: string) => p.strings(name, c).join(", ") || p.say("timeline.noSkills");
      return p.say("timeline.change.skills", { from: skills("from"), to: skills("to") });
    }
    case "not_in_team":
      return p.say(c.queued === true ? "timeline.change.not_in_team.queued" : "timeline.change.not_in_team", {
        agent: p.agent("agent", c),
        team: p.text("team", c),
      });
    case "labels_added":
    case "labels_removed":
      return p.say(`timeline.change.${kind}`, { labels: p.list(p.strings("labels", c).map((id) => p.label(id))) });
    case "status":
      return "until" in c
        ? p.say("timeline.change.statusUntil", { status: p.word("status", "status", true, c), until: p.time("until", c) })
        : p.say("timeline.change.status", { status: p.word("status", "status", true, c) });
    case "assigned":
      return p.say("timeline.change.assigned", { agent: p.agent("agent", c) });
    case "queued":
      return p.say("timeline.change.queued");
    case "note":
      return p.say("timeline.change.note");
    case "reply":
      return "title" in c
        ? p.say("timeline.change.replyTitled", { title: p.text("title", c) })
        : p.say("timeline.change.reply", { response: p.text("canned_response", c) });
    default:
      throw new Unworded(kind);
  }
}

function changes(p: Reader): string {
  return p.records("changes").map((c) => change(p, c)).join("; ") || p.say("timeline.nothingChanged");
}

function cause(p: Reader, c: Params): string {
  if (c.cause === "urgent") {
    const reasons = p.strings("reasons", c).map((r) => p.say(key("timeline.urgency", r)));
    return p.say("timeline.cause.urgent", { reasons: p.list(reasons) });
  }
  if (c.cause !== "negative") throw new Unworded("cause");
  return "emotion" in c
    ? p.say("timeline.cause.negativeEmotion", { emotion: p.word("emotion", "emotion", true, c) })
    : p.say("timeline.cause.negative");
}

function refunded(p: Reader): string {
  if (!p.has("items")) return p.say("timeline.refundedEverything");
  const line = (i: Params) => p.say("timeline.refundedItem", { quantity: p.count("quantity", i), title: p.text("title", i) });
  return p.list(p.records("items").map(line));
}

function messages(p: Reader): string {
  const count = p.count("messages");
  return p.say(p.one(count) ? "timeline.messages.one" : "timeline.messages.other", { count });
}

function language(p: Reader): string {
  const code = p.text("language");
  try {
    return new Intl.DisplayNames(p.w.locale, { type: "language" }).of(code) ?? code;
  } catch {
    return code; // not a language tag Intl reads
  }
}

type Words = (p: Reader) => string;

/** An entry with the details that follow it in brackets ("… (ad 42, ref summer)"), when there are any. */
function detailed(p: Reader, entry: string, details: string[]): string {
  return details.length ? p.say("timeline.details", { entry, details: details.join(", ") }) : entry;
}

/** A provider's detail param (its own words), as a list of at most one for `detailed`. */
function detail(p: Reader, name = "detail"): string[] {
  return p.has(name) ? [p.text(name)] : [];
}

/** A reaction's emoji, custom ones (which have no character) counted in words; "" for none. */
function emoji(p: Reader): string {
  const said = p.has("emoji") ? [p.text("emoji")] : [];
  if (p.has("custom_emoji")) {
    const count = p.count("custom_emoji");
    said.push(p.say(p.one(count) ? "timeline.customEmoji.one" : "timeline.customEmoji.other", { count }));
  }
  return said.join(" ");
}

/** The words of an entry a provider words its own way (`timeline.event.echo.whatsapp`), else the common ones. */
function ofChannel(p: Reader, key: MessageKey): MessageKey {
  const own = p.has("channel") ? `${key}.${p.text("channel")}` : "";
  return isMessageKey(own) ? own : key;
}

/** A Telegram status of the bot in a chat (member, kicked…) in the inbox's words; "unknown" when there is none. */
function botStatus(p: Reader, name: string): string {
  return p.has(name) ? p.wordOr("timeline.botStatus", p.text(name)) : p.say("timeline.botStatus.unknown");
}

/** What providers' webhooks put on the timeline (layers/shopdesk/shopdesk/channels/base.py `timeline_event`). */
const PROVIDER_KINDS: Record<string, Words> = {
  reaction: (p) => {
    const action = p.text("action");
    if (action !== "added" && action !== "removed") throw new Unworded("action");
    const shown = emoji(p);
    return shown
      ? p.say(`timeline.event.reaction.${action}`, { emoji: shown })
      : p.say(`timeline.event.reaction.${action}.none`);
  },
  // an edit of a message the customer unsent since keeps no words (`unsent`: layers/shopdesk/shopdesk/logic/amend.py)
  edit: (p) =>
    p.has("unsent")
      ? p.say("timeline.event.edit.unsent")
      : p.has("text")
        ? p.say("timeline.event.edit", { text: p.text("text") })
        : p.say("timeline.event.edit.media"),
  unsend: (p) => p.say(ofChannel(p, "timeline.event.unsend"), p.has("channel") ? { channel: p.channel("channel") } : {}),
  echo: (p) =>
    p.say(ofChannel(p, "timeline.event.echo"), {
      channel: p.channel("channel"),
      text: p.has("text") ? p.text("text") : `[${p.text("content")}]`,
    }),
  referral: (p) => {
    const source = p.has("source") ? p.text("source") : "link";
    const via = isMessageKey(`timeline.referralSource.${source}`)
      ? p.say(key("timeline.referralSource", source))
      : p.say("timeline.referralSource.other", { source: source.replace(/_/g, " ") });
    const entry = p.say("timeline.event.referral", { source: via });
    const titled = p.has("ad_title") ? p.say("timeline.referral.titled", { entry, title: p.text("ad_title") }) : entry;
    return detailed(p, titled, [
      ...(p.has("ad_id") ? [p.say("timeline.referral.ad", { id: p.text("ad_id") })] : []),
      ...(p.has("ref") ? [p.say("timeline.referral.ref", { ref: p.text("ref") })] : []),
    ]);
  },
  optin: (p) => {
    if (p.has("notifications")) return p.say(key("timeline.event.optin", p.text("notifications")));
    return p.has("title") ? p.say("timeline.event.optin.titled", { title: p.text("title") }) : p.say("timeline.event.optin");
  },
  account_changed: (p) =>
    p.has("number")
      ? p.say("timeline.event.account_changed.number", { number: p.text("number") })
      : detailed(p, p.say("timeline.event.account_changed", { channel: p.channel("channel") }), detail(p)),
  chat_opened: (p) => p.say("timeline.event.chat_opened"),
  preference: (p) => {
    const category = p.wordOr("timeline.preferenceCategory", p.text("category"));
    const choice = p.text("choice");
    if (choice === "stop" || choice === "resume") return p.say(`timeline.event.preference.${choice}`, { category });
    return detailed(p, p.say("timeline.event.preference", { category }), detail(p));
  },
  bot_blocked: (p) => p.say("timeline.event.bot_blocked"),
  bot_unblocked: (p) => p.say("timeline.event.bot_unblocked"),
  bot_status_changed: (p) =>
    p.say("timeline.event.bot_status_changed", { from: botStatus(p, "from"), to: botStatus(p, "to") }),
  unknown: (p) =>
    p.has("name")
      ? p.say("timeline.event.unknown", { channel: p.channel("channel"), name: p.text("name") })
      : p.say("timeline.event.unknown.empty", { channel: p.channel("channel") }),
  unsupported: (p) =>
    p.say("timeline.event.unsupported", {
      reason: detailed(p, p.say(key("timeline.unsupported", p.text("reason"))), detail(p)),
    }),
};

/** A missed or close SLA target with its due time. */
const slaTarget = (key: "timeline.event.sla_missed" | "timeline.event.sla_warning"): Words => (p) =>
  p.say(key, { target: p.word("sla", "target", true), due: p.time("due") });

/** A customer's message that asks nothing (a STOP, a START, an out-of-office) and what became of it. */
const quiet = (base: "timeline.event.kept_resolved" | "timeline.event.nothing_to_answer"): Words => (p) =>
  p.say(key(base, p.text("why")), p.text("why") === "auto_reply" ? {} : { channel: p.channel("channel") });

/** An order action the platform refused, in its words. */
const refused = (key: "timeline.event.order_cancel_failed" | "timeline.event.order_refund_failed"): Words => (p) =>
  p.say(key, { by: p.agent("by"), order: p.text("order"), error: p.text("error") });

const KINDS: Record<string, Words> = {
  assigned: (p) => p.say("timeline.event.assigned", { agent: p.agent("agent") }),
  assigned_by: (p) =>
    p.withNote(p.say("timeline.event.assigned_by", { agent: p.agent("agent"), by: p.agent("by") }), "timeline.handoffNote"),
  transferred: (p) =>
    p.withNote(
      p.say("timeline.event.transferred", { from: p.agent("from"), to: p.agent("to"), by: p.agent("by") }),
      "timeline.handoffNote",
    ),
  assignee_silent: (p) => p.say("timeline.event.assignee_silent", { agent: p.agent("agent") }),
  agent_offline: (p) => p.say("timeline.event.agent_offline", { agent: p.agent("agent") }),
  status_changed: (p) => p.say("timeline.event.status_changed", { status: p.word("status", "status", true), by: p.agent("by") }),
  reopened: (p) => p.say("timeline.event.reopened", { by: p.agent("by") }),
  reopened_by_customer: (p) => p.say("timeline.event.reopened_by_customer"),
  folded: (p) => {
    const values = { channel: p.channel("channel"), messages: messages(p) };
    return p.text("by") === "system"
      ? p.say("timeline.event.folded.auto", values)
      : p.say("timeline.event.folded", { ...values, by: p.agent("by") });
  },
  folded_into: (p) =>
    p.text("by") === "system" ? p.say("timeline.event.folded_into.auto") : p.say("timeline.event.folded_into", { by: p.agent("by") }),
  customer_waits: (p) => p.say("timeline.event.customer_waits"),
  first_response_lost: (p) =>
    p.has("reopened")
      ? p.say("timeline.event.first_response_lost.reopened", { status: p.word("status", "reopened", true) })
      : p.say("timeline.event.first_response_lost"),
  unfolded: (p) =>
    p.text("by") === "system" ? p.say("timeline.event.unfolded.auto") : p.say("timeline.event.unfolded", { by: p.agent("by") }),
  thanks_kept: (p) => p.say("timeline.event.thanks_kept"),
  kept_resolved: quiet("timeline.event.kept_resolved"),
  nothing_to_answer: quiet("timeline.event.nothing_to_answer"),
  clocks_paused_unsubscribed: (p) => p.say("timeline.event.clocks_paused_unsubscribed", { channel: p.channel("channel") }),
  clocks_resumed_subscribed: (p) => p.say("timeline.event.clocks_resumed_subscribed", { channel: p.channel("channel") }),
  snoozed: (p) => p.say("timeline.event.snoozed", { until: p.time("until"), by: p.agent("by") }),
  snooze_ended: (p) => p.say("timeline.event.snooze_ended"),
  sla_missed: slaTarget("timeline.event.sla_missed"),
  sla_warning: slaTarget("timeline.event.sla_warning"),
  sla_missed_reassigned: (p) =>
    p.say("timeline.event.sla_missed_reassigned", { target: p.word("sla", "target", true), agent: p.agent("agent") }),
  priority_raised: (p) =>
    p.say("timeline.event.priority_raised", {
      from: p.word("priority", "from", true),
      to: p.word("priority", "to", true),
      causes: p.records("causes").map((c) => cause(p, c)).join("; "),
    }),
  routing_changed: (p) =>
    p.withNote(p.say("timeline.event.routing_changed", { by: p.agent("by"), changes: changes(p) }), "timeline.note"),
  labels_changed: (p) => p.say("timeline.event.labels_changed", { by: p.agent("by"), changes: changes(p) }),
  macro_applied: (p) => p.say("timeline.event.macro_applied", { macro: p.text("macro"), by: p.agent("by"), changes: changes(p) }),
  bot_handoff: (p) => {
    const entry = p.say("timeline.event.bot_handoff", { reason: p.word("handoff", "reason") });
    if (!p.has("article") || !p.has("confidence")) return entry;
    const confidence = new Intl.NumberFormat(p.w.locale, { style: "percent" }).format(p.count("confidence"));
    return p.say("timeline.bestArticle", { entry, article: p.text("article"), confidence });
  },
  bot_resolved: (p) => p.say("timeline.event.bot_resolved", { why: p.word("timeline.botResolved", "why") }),
  order_cancelled: (p) =>
    p.say("timeline.event.order_cancelled", {
      order: p.text("order"),
      by: p.agent("by"),
      reason: p.word("timeline.cancelReason", "reason"),
    }),
  order_refunded: (p) =>
    p.say("timeline.event.order_refunded", {
      amount: money(p.text("amount"), p.has("currency") ? p.text("currency") : null, p.w.locale),
      order: p.text("order"),
      by: p.agent("by"),
      items: refunded(p),
    }),
  order_cancel_failed: refused("timeline.event.order_cancel_failed"),
  order_refund_failed: refused("timeline.event.order_refund_failed"),
  transcript_sent: (p) => {
    const values = { to: p.text("to"), language: language(p), messages: messages(p) };
    return p.has("by")
      ? p.say("timeline.event.transcript_sent", { ...values, by: p.agent("by") })
      : p.say("timeline.event.transcript_sent.auto", values);
  },
  transcript_not_sent: (p) => p.say(key("timeline.event.transcript_not_sent", p.text("reason"))),
  csat_skipped: (p) => {
    const reason = p.text("reason");
    return p.say(key("timeline.event.csat_skipped", reason), {
      ...(reason === "no_template" ? { template: p.text("template") } : {}),
      ...(reason === "window_closed" ? { channel: p.channel("channel") } : {}),
    });
  },
  ...PROVIDER_KINDS,
};

/** What a system entry says in the agent's language: its event worded, else its stored text. */
export function systemText(m: Pick<Message, "text" | "event">, w: Wording): string {
  const fallback = m.text ?? "";
  const word = m.event ? KINDS[m.event.kind] : undefined;
  if (!m.event || !word) return fallback;
  const reader = new Reader(m.event.params ?? {}, w);
  try {
    return reader.sentence(word(reader));
  } catch (e) {
    if (e instanceof Unworded) return fallback;
    throw e;
  }
}
