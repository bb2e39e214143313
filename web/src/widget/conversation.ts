// What the visitor sees, worked out from what the widget API answered and what the visitor is still sending.
// Pure functions: the DOM (ui.ts) and the network (client.ts) are elsewhere.
import type { components } from "../api-types/widget";

/** A message as `GET /widget/messages` lists it. */
export type ServerItem = components["schemas"]["WidgetMessage"];

/** A file uploaded with the presigned POST, named in the message that carries it. */
export type UploadedFile = components["schemas"]["UploadedFile"];

/** A message the visitor wrote that the API has not listed yet. Kept (in the tab's storage) until it has: a
 * reload or a dropped connection sends it again with the same `client_message_id`, which the API stores once. */
export interface Pending {
  clientId: string;
  text: string | null;
  choice?: string;
  attachments: UploadedFile[];
  state: "sending" | "failed" | "sent";
  /** why it was refused (a 4xx the API explained): sending it again as it is would be refused again */
  reason?: string;
  messageId?: string | null;
  attempts: number;
}

export type Entry =
  | { kind: "message"; item: ServerItem }
  | { kind: "pending"; pending: Pending };

/** The listed messages, oldest first, then what is still on its way (each once: a message the API lists is no
 * longer pending). */
export function entries(items: readonly ServerItem[], pending: readonly Pending[]): Entry[] {
  const sorted = [...items].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  return [
    ...sorted.map((item): Entry => ({ kind: "message", item })),
    ...stillPending(items, pending).map((p): Entry => ({ kind: "pending", pending: p })),
  ];
}

/** The pending messages still worth keeping once the API listed `items`. */
export function stillPending(items: readonly ServerItem[], pending: readonly Pending[]): Pending[] {
  const listed = new Set(items.map((i) => i.id));
  return pending.filter((p) => !(p.messageId && listed.has(p.messageId)));
}

/** The agents' messages the visitor has not seen: listed after the last one they saw. */
export function unread(items: readonly ServerItem[], seen: ReadonlySet<string>): number {
  return items.filter((i) => i.from === "agent" && !seen.has(i.id)).length;
}

/** The buttons to offer: the choices of the newest message, when it is the agents' (once the visitor wrote,
 * the question is answered or moot). */
export function openChoices(items: readonly ServerItem[], pending: readonly Pending[]): { id: string; title: string }[] {
  const all = entries(items, pending);
  const last = all[all.length - 1];
  return last?.kind === "message" && last.item.from === "agent" ? last.item.choices ?? [] : [];
}

/** Seconds before trying again: 1, 2, 4 … up to a minute, or what the API asked for (Retry-After). */
export function retryDelay(attempt: number, retryAfter?: number): number {
  if (retryAfter !== undefined && retryAfter > 0) return Math.min(retryAfter, 300);
  return Math.min(2 ** Math.max(0, attempt - 1), 60);
}

/** The visitor a shop's token names (read, not verified: the API verifies it). Used only to tell that the page
 * now speaks for someone else (a sign-in or sign-out on a shared computer) and drop the old session. */
export function visitorOf(token: string): string | null {
  const payload = token.split(".")[0] ?? "";
  try {
    const padded = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const id = (claims as { visitor_id?: unknown }).visitor_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** A file's address when it is a web address (https or http); anything else (a `javascript:` link from a provider's
 * webhook, say) is no link: the file is named, not linked. */
export function webAddress(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const scheme = new URL(url).protocol;
    return scheme === "https:" || scheme === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Web addresses in a message, so they can be links: [text, isLink] runs (http and https only). */
export function linkRuns(text: string): [string, boolean][] {
  const runs: [string, boolean][] = [];
  let last = 0;
  for (const found of text.matchAll(/\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g)) {
    const start = found.index ?? 0;
    if (start > last) runs.push([text.slice(last, start), false]);
    runs.push([found[0], true]);
    last = start + found[0].length;
  }
  if (last < text.length) runs.push([text.slice(last), false]);
  return runs;
}
