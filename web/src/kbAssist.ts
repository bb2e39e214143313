// Agent assist: what one click on a suggested article puts into the reply, and which of the customer's messages the
// suggestions answer.
import type { AssistArticle, Message } from "./api";

/** As many of the customer's latest messages as the assist panel asks the knowledge base about. */
export const LATEST = 3;

/** The customer's messages the assist panel's suggestions answer, as the API picks them (shopdesk.bot.assist,
 * ``Assistant.for_conversation``): those with words since an agent last answered (an acknowledgement's or the bot's
 * answer does not count), the latest LATEST of them, by id; "" when there are none, and the API answers no
 * suggestion. The panel reads again only when this changes: not for an acknowledgement, the bot's answer, a note or
 * a timeline entry, which leave the question as it was, and not at all once an agent has answered it. */
export function assistQuestion(messages: readonly Pick<Message, "id" | "direction" | "author" | "text">[]): string {
  const ids: string[] = [];
  for (let i = messages.length - 1; i >= 0 && ids.length < LATEST; i--) {
    const m = messages[i]!;
    if (m.direction === "outbound" && m.author != null && m.author !== "bot") break;
    if (m.direction === "inbound" && m.text) ids.unshift(m.id);
  }
  return ids.join(",");
}

/** The article's text, then its link on a line of its own (when it has one). */
export function articleInsertion(article: Pick<AssistArticle, "text" | "url">): string {
  return article.url ? `${article.text}\n\n${article.url}` : article.text;
}

/** The draft with the insertion added after what the agent already wrote (a blank line between). */
export function appendToDraft(draft: string, insertion: string): string {
  return draft.trim() ? `${draft.trimEnd()}\n\n${insertion}` : insertion;
}
