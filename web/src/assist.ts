// The reply box's helpers, kept free of the DOM so they are unit-tested: the `/` trigger of canned
// responses, their order, inserting one, when a reply needs a preview, and what a send carries.

/** `/` typed at the start of the box or after a space, then letters: the query up to the caret. */
export interface SlashTrigger {
  start: number; // where the `/` is
  end: number; // the caret
  query: string; // what follows the `/` (may be empty)
}

const SLASH = /(^|\s)\/([\p{L}\p{N}_-]{0,40})$/u;

/** The `/query` just before the caret, or null when the caret is not right after one. */
export function slashTrigger(text: string, caret: number): SlashTrigger | null {
  if (caret < 0 || caret > text.length) return null;
  const before = text.slice(0, caret);
  const match = SLASH.exec(before);
  if (!match) return null;
  const query = match[2] ?? "";
  return { start: caret - query.length - 1, end: caret, query };
}

/** The box's text with the trigger replaced by the inserted text, and where the caret goes after it. */
export function insertAt(text: string, trigger: SlashTrigger, inserted: string): { text: string; caret: number } {
  const next = text.slice(0, trigger.start) + inserted + text.slice(trigger.end);
  return { text: next, caret: trigger.start + inserted.length };
}

export interface CannedLike {
  id: string;
  shortcode: string;
  title: string;
}

/** Shortcode matches first (a shortcode that starts with the query before one that only contains it), then
 * titles; otherwise the API's order (a stable sort). The API orders the same way; this keeps the list right
 * while an older answer is still shown for a longer query. */
export function rankCanned<T extends CannedLike>(items: readonly T[], query: string): T[] {
  const q = query.toLowerCase();
  const score = (c: T) => {
    const code = c.shortcode.toLowerCase();
    const title = c.title.toLowerCase();
    if (!q) return 0;
    if (code.startsWith(q)) return 0;
    if (code.includes(q)) return 1;
    if (title.startsWith(q)) return 2;
    if (title.includes(q)) return 3;
    return 4;
  };
  return items
    .map((item, index) => ({ item, index, score: score(item) }))
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .map((x) => x.item);
}

/** Whether the text uses a variable (`{{customer.first_name}}`, `{% if %}`): then the agent sees it rendered. */
export function hasVariables(text: string): boolean {
  return /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/.test(text);
}

/** The variables a 422 names (`missing`), from a problem body; empty when it names none. */
export function missingVariables(body: unknown): string[] {
  if (!body || typeof body !== "object") return [];
  const missing = (body as { missing?: unknown }).missing;
  return Array.isArray(missing) ? missing.filter((m): m is string => typeof m === "string") : [];
}

/** An inserted canned response the agent has not changed is sent by its id (so its use is counted and it is
 * rendered once more at send time); once edited, the box's text is sent. */
export function replyBody(
  text: string,
  inserted: { id: string; text: string } | null,
): { text: string } | { canned_response_id: string } {
  const trimmed = text.trim();
  if (inserted && trimmed === inserted.text.trim()) return { canned_response_id: inserted.id };
  return { text: trimmed };
}

/** The next active option of a listbox of `count` options, wrapping around (-1: none). */
export function moveActive(active: number, delta: number, count: number): number {
  if (count <= 0) return -1;
  if (active < 0) return delta > 0 ? 0 : count - 1;
  return (active + delta + count) % count;
}

/** The body a suggestion shows: the one inserting it puts in the reply (`language`, as the API found it for the
 * conversation: the customer's language, else the shop's default, else English, else the first), shortened. */
export function suggestedBody(item: { bodies: Record<string, string>; language?: string | null }, max = 60): string {
  const body = (item.language ? item.bodies[item.language] : undefined) ?? item.bodies.en ?? Object.values(item.bodies)[0] ?? "";
  return body.length > max ? body.slice(0, max - 3) + "…" : body;
}
