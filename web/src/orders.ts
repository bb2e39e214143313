// The order panel's helpers: amounts, platform statuses in words, the two-step order actions.
import { isMessageKey, type Translate } from "./i18n";

/** An amount in the shop's currency in the agent's language ("$45.00"); as given when it is not a number. */
export function money(amount: string | null | undefined, currency: string | null | undefined, locale: string): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = Number(amount);
  if (!currency || !Number.isFinite(value)) return [amount, currency].filter(Boolean).join(" ");
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
  } catch {
    return `${amount} ${currency}`; // a code Intl does not know
  }
}

/** A platform status as words in the agent's language ("PARTIALLY_FULFILLED" -> "partially fulfilled", "enviado en
 *  parte"); one the inbox has no words for as the platform names it, lower case; none -> "—". */
export function statusWords(status: string | null | undefined, t?: Translate): string {
  if (!status) return "—";
  const key = `orderStatus.${status.toLowerCase()}`;
  return t && isMessageKey(key) ? t(key) : status.replace(/_/g, " ").toLowerCase();
}

/** The chosen quantities as the refund's `line_items` (only those above zero, whole numbers). */
/** How many of a line may still be refunded: the platform's count when it gives one, else bought less refunded. */
export function leftToRefund(line: { quantity: number; refunded_quantity?: number; refundable_quantity?: number | null }): number {
  if (line.refundable_quantity != null) return Math.max(0, line.refundable_quantity);
  return Math.max(0, line.quantity - (line.refunded_quantity ?? 0));
}

export function refundLines(quantities: Record<string, number>): { line_item_id: string; quantity: number }[] {
  return Object.entries(quantities)
    .filter(([, q]) => Number.isFinite(q) && q >= 1)
    .map(([id, q]) => ({ line_item_id: id, quantity: Math.floor(q) }));
}

/** The first step's answer: a 409 `confirmation_required` carries what the confirmed call would do. Its
 * summary is shown to the agent (not the detail's advice to resend with `confirm`); null for any other answer. */
export function actionPreview(status: number, body: unknown): string | null {
  if (status !== 409 || !body || typeof body !== "object") return null;
  const b = body as { code?: unknown; preview?: { summary?: unknown }; detail?: unknown };
  if (b.code !== "confirmation_required") return null;
  if (typeof b.preview?.summary === "string" && b.preview.summary) return b.preview.summary + ".";
  return typeof b.detail === "string" ? b.detail : null;
}

/** The panel's order: the orders the customer named in their messages first (the one they are asking
 * about), then the rest as the API gives them (newest first). */
export function namedFirst<T extends { matched_by?: string[] }>(orders: readonly T[]): T[] {
  const named = (o: T) => (o.matched_by ?? []).includes("number");
  return [...orders.filter(named), ...orders.filter((o) => !named(o))];
}

/** Whether the order is the customer's own: found by their email or phone, not only by a number they wrote (which
 * may be someone else's order: the API refuses to cancel or refund those, as the bot refuses to tell them). */
export function customersOwn(order: { matched_by?: string[] }): boolean {
  return (order.matched_by ?? []).some((m) => m === "email" || m === "phone");
}
