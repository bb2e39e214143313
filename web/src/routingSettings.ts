// The routing settings' form (Settings → Routing) both ways: the settings as the admin edits them (durations in
// minutes, a text per language and situation, rows of a map) and back to the body of `PUT /admin/routing`, and where
// the API's refusals land in the form.
import type { RoutingSettings } from "./api";
import type { Translate } from "./i18n";
import { CHANNELS } from "./channels";
import { KB_LANGUAGES } from "./kb";

/** The languages shopdesk writes its own messages in (acknowledgements: shopdesk.models.admin.CUSTOMER_LANGUAGES). */
export const CUSTOMER_LANGUAGES = KB_LANGUAGES;
/** When an acknowledgement is sent (shopdesk.logic.expectations.SITUATIONS). */
export const SITUATIONS = ["open_now", "after_hours", "queue_busy"] as const;
export type Situation = (typeof SITUATIONS)[number];
export const PRIORITY_CHANGES = ["off", "urgent", "high", "normal", "low"] as const;
export type PriorityChange = (typeof PRIORITY_CHANGES)[number];

/** The shipped acknowledgements (layers/shopdesk/shopdesk/templates/acknowledgements.json; a test keeps the two the
 *  same), shown greyed where the shop has no text of its own. */
export const SHIPPED_ACKNOWLEDGEMENTS: Record<string, Record<Situation, string>> = {
  en: {
    open_now: "Hi {name}, thanks for contacting {shop}! We will reply {eta}.",
    after_hours: "Hi {name}, thanks for contacting {shop}! We are closed right now and will reply {eta}.",
    queue_busy: "Hi {name}, thanks for contacting {shop}! We are busier than usual right now, but we will reply {eta}.",
  },
  es: {
    open_now: "Hola, {name}, gracias por escribir a {shop}. Te responderemos {eta}.",
    after_hours: "Hola, {name}, gracias por escribir a {shop}. Ahora estamos fuera del horario de atención; te responderemos {eta}.",
    queue_busy: "Hola, {name}, gracias por escribir a {shop}. Ahora tenemos más consultas de lo habitual; te responderemos {eta}.",
  },
  pt: {
    open_now: "Olá, {name}! Recebemos sua mensagem e vamos responder {eta}.\nEquipe {shop}",
    after_hours: "Olá, {name}! Recebemos sua mensagem. No momento estamos fora do horário de atendimento e vamos responder {eta}.\nEquipe {shop}",
    queue_busy: "Olá, {name}! Recebemos sua mensagem. No momento o volume de atendimentos está maior do que o normal, mas vamos responder {eta}.\nEquipe {shop}",
  },
  de: {
    open_now: "Hallo {name}, vielen Dank für Ihre Nachricht an {shop}. Wir antworten Ihnen {eta}.",
    after_hours: "Hallo {name}, vielen Dank für Ihre Nachricht an {shop}. Sie schreiben uns außerhalb unserer Servicezeiten; wir antworten Ihnen {eta}.",
    queue_busy: "Hallo {name}, vielen Dank für Ihre Nachricht an {shop}. Derzeit erreichen uns besonders viele Anfragen; wir antworten Ihnen {eta}.",
  },
  tr: {
    open_now: "Merhaba {name}, mesajınız için teşekkür ederiz. Size {eta} yanıt vereceğiz.\n{shop} Ekibi",
    after_hours: "Merhaba {name}, mesajınız için teşekkür ederiz. Şu anda çalışma saatlerimiz dışındayız; size {eta} yanıt vereceğiz.\n{shop} Ekibi",
    queue_busy: "Merhaba {name}, mesajınız için teşekkür ederiz. Şu anda yoğunluk yaşıyoruz; size {eta} yanıt vereceğiz.\n{shop} Ekibi",
  },
  id: {
    open_now: "Halo {name}, terima kasih sudah menghubungi {shop}. Kami akan membalas pesan Anda {eta}.",
    after_hours: "Halo {name}, terima kasih sudah menghubungi {shop}. Saat ini kami di luar jam operasional dan akan membalas pesan Anda {eta}.",
    queue_busy: "Halo {name}, terima kasih sudah menghubungi {shop}. Saat ini antrean pesan sedang ramai, tetapi kami akan membalas pesan Anda {eta}.",
  },
  sk: {
    open_now: "Dobrý deň, {name}, ďakujeme za Vašu správu. Odpovieme Vám {eta}.\nTím {shop}",
    after_hours: "Dobrý deň, {name}, ďakujeme za Vašu správu. Momentálne sme mimo pracovného času; odpovieme Vám {eta}.\nTím {shop}",
    queue_busy: "Dobrý deň, {name}, ďakujeme za Vašu správu. Momentálne máme viac požiadaviek ako zvyčajne; odpovieme Vám {eta}.\nTím {shop}",
  },
};

export interface RoutingSettingsForm {
  shop_name: string;
  default_team: string;
  /** Channel → team; "" (or left out): the default team. */
  team_by_channel: Record<string, string>;
  team_by_label: { label: string; team: string }[];
  default_language: string;
  acknowledgements: boolean;
  burst_minutes: string;
  /** Language → situation → the shop's own text; "" (or left out): the shipped one. */
  templates: Record<string, Partial<Record<string, string>>>;
  skill_keywords: { skill: string; words: string }[]; // words as typed, comma-separated
  sticky_days: string;
  offline_grace_minutes: string;
  silence_minutes: string; // "": never
  reassign_on_breach: boolean;
  handle_minutes: string;
  transcript_on_resolve: boolean;
  priority_on_negative: PriorityChange;
  priority_on_urgent: PriorityChange;
}

const minutes = (seconds: number) => String(Math.round((seconds / 60) * 100) / 100);
const seconds = (typed: string) => Math.round(Number(typed) * 60);

export function routingForm(s: RoutingSettings): RoutingSettingsForm {
  return {
    shop_name: s.shop_name ?? "",
    default_team: s.default_team,
    team_by_channel: { ...s.team_by_channel },
    team_by_label: Object.entries(s.team_by_label ?? {}).map(([label, team]) => ({ label, team })),
    default_language: s.default_language,
    acknowledgements: s.acknowledgements,
    burst_minutes: minutes(s.acknowledgement_burst_seconds),
    templates: Object.fromEntries(Object.entries(s.acknowledgement_templates).map(([l, texts]) => [l, { ...texts }])),
    skill_keywords: Object.entries(s.skill_keywords).map(([skill, words]) => ({ skill, words: words.join(", ") })),
    sticky_days: String(s.sticky_days),
    offline_grace_minutes: minutes(s.offline_grace_seconds),
    silence_minutes: s.reassign_after_silence_seconds == null ? "" : minutes(s.reassign_after_silence_seconds),
    reassign_on_breach: s.reassign_on_breach,
    handle_minutes: minutes(s.average_handle_seconds),
    transcript_on_resolve: s.transcript_on_resolve,
    priority_on_negative: s.priority_on_negative,
    priority_on_urgent: s.priority_on_urgent,
  };
}

/** The body of `PUT /admin/routing`: every setting the form shows, times in seconds; a channel without a team, a row
 *  without a label or a skill, and a text left empty (the shipped one) are left out. */
export function routingFromForm(f: RoutingSettingsForm): RoutingSettings {
  const templates: Record<string, Record<string, string>> = {};
  for (const [language, texts] of Object.entries(f.templates)) {
    for (const [situation, text] of Object.entries(texts)) {
      if (text?.trim()) (templates[language] ??= {})[situation] = text;
    }
  }
  return {
    shop_name: f.shop_name.trim(),
    default_team: f.default_team,
    team_by_channel: Object.fromEntries(Object.entries(f.team_by_channel).filter(([, team]) => team)),
    team_by_label: Object.fromEntries(
      f.team_by_label.filter((r) => r.label.trim() && r.team).map((r) => [r.label.trim(), r.team]),
    ),
    default_language: f.default_language,
    acknowledgements: f.acknowledgements,
    acknowledgement_burst_seconds: seconds(f.burst_minutes),
    acknowledgement_templates: templates,
    skill_keywords: Object.fromEntries(
      f.skill_keywords
        .filter((r) => r.skill.trim())
        .map((r) => [r.skill.trim(), r.words.split(",").map((w) => w.trim()).filter(Boolean)]),
    ),
    sticky_days: Number(f.sticky_days),
    offline_grace_seconds: seconds(f.offline_grace_minutes),
    reassign_after_silence_seconds: f.silence_minutes.trim() === "" ? null : seconds(f.silence_minutes),
    reassign_on_breach: f.reassign_on_breach,
    average_handle_seconds: seconds(f.handle_minutes),
    transcript_on_resolve: f.transcript_on_resolve,
    priority_on_negative: f.priority_on_negative,
    priority_on_urgent: f.priority_on_urgent,
  };
}

/** The settings that are maps, where a refusal names the entry ("team_by_channel.whatsapp") rather than the map. */
const MAPS = new Set(["team_by_channel", "team_by_label", "skill_keywords"]);
/** Where a refusal's path lands in the form: its field ("sticky_days"), a map's entry ("team_by_channel.whatsapp",
 *  of "team_by_channel.whatsapp.[key]" too), a template ("acknowledgement_templates.es.open_now"); "" for the body
 *  itself or a setting the form does not show. */
export function routingErrorAt(path: string): string {
  const [field = "", ...rest] = path.split(".");
  if (field === "acknowledgement_templates") return rest.length >= 2 ? `${field}.${rest[0]}.${rest[1]}` : field;
  if (MAPS.has(field)) return rest.length ? `${field}.${rest[0]}` : field;
  return ROUTING_FIELDS.has(field) ? field : "";
}
const ROUTING_FIELDS = new Set([
  "shop_name", "default_team", "team_by_channel", "team_by_label", "default_language", "acknowledgements",
  "acknowledgement_burst_seconds", "acknowledgement_templates", "skill_keywords", "sticky_days", "offline_grace_seconds",
  "reassign_after_silence_seconds", "reassign_on_breach", "average_handle_seconds", "transcript_on_resolve",
  "priority_on_negative", "priority_on_urgent",
]);

/** A template the API refused (a 400 whose detail names it: "acknowledgement_templates: template overrides:
 *  es/open_now: the template must say when we will answer: add {eta}"), as the path of its field and the words;
 *  null for any other answer. */
export function templateRefusal(detail: string): { path: string; message: string } | null {
  const found = /^acknowledgement_templates: template overrides: ([^/:]+)\/([^/:]+): (.+)$/s.exec(detail);
  return found ? { path: `acknowledgement_templates.${found[1]}.${found[2]}`, message: found[3]! } : null;
}

/** The channels with a row: every channel shopdesk has, and any other the settings name. */
export function channelRows(form: RoutingSettingsForm): string[] {
  return [...new Set([...CHANNELS, ...Object.keys(form.team_by_channel)])];
}

/** The team conversations go to when the routing settings were never saved (and agents are in when never put in one). */
export const DEFAULT_TEAM = "default";

/** The teams the settings send conversations to (those the API takes even when no longer a team of the desk). */
export function routedTeams(s: Pick<RoutingSettings, "default_team" | "team_by_channel" | "team_by_label">): string[] {
  return [...new Set([s.default_team, ...Object.values(s.team_by_channel ?? {}), ...Object.values(s.team_by_label ?? {})])];
}

/** The refusals people meet most in the admin's words (a team the desk does not have, a text without {eta}); the
 *  others as the API says them. */
export function routingRefusalWords(msg: string, t: Translate): string {
  const team = /^'(.*)' is not a team of this desk\b/s.exec(msg)?.[1];
  if (team !== undefined) return t("routing.refused.team", { team });
  if (/[Tt]he template must say when we will answer: add \{eta\}\.?$/.test(msg)) return t("routing.refused.eta"); // (as a sentence too)
  return msg;
}
