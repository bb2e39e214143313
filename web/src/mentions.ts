// @mentions in the note box: what is being typed after an @, and the text with the chosen agent put in.

/** The word typed after an "@" that ends at the caret ("@bo|" -> "bo"), or null when the caret is not in one.
 * An @ inside a word or an address ("bob@shop") starts no mention, as the API reads them. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|[^\w.+\-@])@([\w.\-]{0,40})$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}

/** Agents whose id, a word of whose name, or whose work email starts with the query (any case), ids first, at most
 * ``limit``. The email finds a colleague with no name as the list shows them (agentLabel). */
export function mentionCandidates<A extends { id: string; name?: string | null; email?: string | null }>(
  agents: A[],
  query: string,
  limit = 5,
): A[] {
  const q = query.toLowerCase();
  const byId = agents.filter((a) => a.id.toLowerCase().startsWith(q));
  const words = (a: A) => [...(a.name ?? "").toLowerCase().split(/\s+/), (a.email ?? "").trim().toLowerCase()].filter(Boolean);
  const byName = agents.filter((a) => !byId.includes(a) && words(a).some((w) => w.startsWith(q)));
  return [...byId, ...byName].slice(0, limit);
}

/** The text with "@<query>" at ``start`` replaced by "@<id> ", and where the caret goes after it: the id is the token
 * a note's mention is read by (the API's find_mentions), whatever the suggestion showed. */
export function insertMention(text: string, start: number, caret: number, id: string): { text: string; caret: number } {
  const inserted = `@${id} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}
