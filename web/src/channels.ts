// The channels a conversation can be on, with the names agents know them by.
import { isMessageKey, type Translate } from "./i18n";
export const CHANNELS = ["sms", "whatsapp", "messenger", "instagram", "telegram", "email", "webchat"] as const;

/** Names that are the same in every language (brands); the others are in the catalogues (`channel.email`). */
const BRANDS: Record<string, string> = {
  sms: "SMS",
  whatsapp: "WhatsApp",
  messenger: "Messenger",
  instagram: "Instagram",
  telegram: "Telegram",
};

/** A channel in the agent's words: a brand as it is, email and web chat in the agent's language, else its id. */
export function channelName(channel: string | null | undefined, t: Translate): string {
  if (!channel) return "";
  const key = `channel.${channel}`;
  return BRANDS[channel] ?? (isMessageKey(key) ? t(key) : channel);
}

/** What kind of identity an address is, in the agent's words: phone, email, or the channel's name (Messenger…). */
export function identityKind(kind: string, t: Translate): string {
  if (kind === "phone") return t("identity.phone");
  if (kind === "email") return t("identity.email");
  return channelName(kind, t);
}

/** What to call a customer: their name, else their first identity (phone, email), else `unknown`. */
export function customerLabel(customer: { name?: string | null; identities?: { address: string }[] }, unknown: string): string {
  return customer.name || customer.identities?.[0]?.address || unknown;
}
