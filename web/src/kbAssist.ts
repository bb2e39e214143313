// Agent assist: what one click on a suggested article puts into the reply.
import type { AssistArticle } from "./api";

/** The article's text, then its link on a line of its own (when it has one). */
export function articleInsertion(article: Pick<AssistArticle, "text" | "url">): string {
  return article.url ? `${article.text}\n\n${article.url}` : article.text;
}

/** The draft with the insertion added after what the agent already wrote (a blank line between). */
export function appendToDraft(draft: string, insertion: string): string {
  return draft.trim() ? `${draft.trimEnd()}\n\n${insertion}` : insertion;
}
