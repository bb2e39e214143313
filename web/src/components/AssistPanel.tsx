import { useEffect, useState } from "preact/hooks";
import type { AssistSuggestion, Conversation } from "../api";
import { articleInsertion, assistQuestion } from "../kbAssist";
import { useApp } from "../context";
import { handoffReason } from "./TryBot";

/** Agent assist: the knowledge base's best articles for the customer's latest messages, each inserted into the
 * reply with one click (its text and its link). Read again when those messages change (the customer writes, an
 * agent answers: kbAssist.assistQuestion); none, without a read, once an agent has answered them. */
export function AssistPanel({ conv, onInsert }: { conv: Conversation; onInsert: (text: string) => void }) {
  const { store, t } = useApp();
  const [suggestion, setSuggestion] = useState<AssistSuggestion | null>(null);
  const [loaded, setLoaded] = useState(false);
  const question = assistQuestion(conv.messages ?? []);
  useEffect(() => {
    let current = true;
    if (!question) {
      // nothing of the customer's since an agent answered: the API would answer no suggestion
      setSuggestion(null);
      setLoaded(true);
      return;
    }
    setLoaded(false);
    store.api
      .assist(conv.id, question)
      .then((answer) => current && setSuggestion(answer.suggestion))
      .catch(() => current && setSuggestion(null))
      .finally(() => current && setLoaded(true));
    return () => {
      current = false;
    };
  }, [conv.id, question]);

  const articles = suggestion?.articles ?? [];
  return (
    <section class="card assist" aria-labelledby="assist-title">
      <h3 id="assist-title">{t("assist.title")}</h3>
      {!loaded && <p class="muted">{t("loading")}</p>}
      {loaded && suggestion?.handoff_reason && (
        <p class="muted small">{t("assist.wouldHandOff", { reason: handoffReason(t, suggestion.handoff_reason) })}</p>
      )}
      {loaded && !articles.length && <p class="muted">{t("assist.none")}</p>}
      <ul class="plain assist-list">
        {articles.map((a) => (
          <li key={a.article_id}>
            <p>
              <strong>{a.title}</strong>{" "}
              <span class="muted small">
                {a.language} · {t("assist.confidence", { percent: Math.round(a.confidence * 100) })}
              </span>
            </p>
            <p class="small assist-text">{a.text}</p>
            <button
              type="button"
              class="btn btn-small"
              aria-label={t("assist.insertLabel", { title: a.title })}
              onClick={() => onInsert(articleInsertion(a))}
            >
              {t("assist.insert")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
