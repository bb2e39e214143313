// The channels a conversation can be on, with the names agents know them by.
import type { Translate } from "./i18n";
export const CHANNELS = ["sms", "whatsapp", "messenger", "instagram", "telegram", "email", "webchat"] as const;

const NAMES: Record<string, string> = {
  sms: "SMS",
  whatsapp: "WhatsApp",
  messenger: "Messenger",
  instagram: "Instagram",
  telegram: "Telegram",
  email: "Email",
  webchat: "Web chat",
};

export function channelName(channel: string | null | undefined): string {
  if (!channel) return "";
  return NAMES[channel] ?? channel;
}

/** What kind of identity an address is, in the agent's words: phone, email, or the channel's name (Messenger…). */
export function identityKind(kind: string, t: Translate): string {
  if (kind === "phone") return t("identity.phone");
  if (kind === "email") return t("identity.email");
  return channelName(kind);
}

/** What to call a customer: their name, else their first identity (phone, email), else `unknown`. */
export function customerLabel(customer: { name?: string | null; identities?: { address: string }[] }, unknown: string): string {
  return customer.name || customer.identities?.[0]?.address || unknown;
}
