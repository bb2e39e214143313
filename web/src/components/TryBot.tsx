import { useEffect, useState } from "preact/hooks";
import type { Article, AssistAnswer } from "../api";
import { useApp } from "../context";
import { isMessageKey, type Translate } from "../i18n";

/** The reason the bot hands over, in words (an unknown one as the API names it). */
export function handoffReason(t: Translate, reason: string): string {
  const key = `handoff.${reason}`;
  return isMessageKey(key) ? t(key) : reason.replace(/_/g, " ");
}

/** "Try the bot": what it would do with a customer's question (POST /agent/assist/answer; nothing is sent), so an
 *  admin can check an article as customers would reach it. */
export function TryBot({ unpublished = [] }: { unpublished?: Article[] }) {
  const { store, t } = useApp();
  const [question, setQuestion] = useState("");
  const [withArticle, setWithArticle] = useState("");
  const chosen = unpublished.some((a) => a.id === withArticle) ? withArticle : "";
  useEffect(() => {
    if (chosen !== withArticle) setWithArticle(""); // published since: not chosen again when it is retired later
  }, [chosen, withArticle]);
  const [answer, setAnswer] = useState<AssistAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setAnswer(null);
    setBusy(true);
    try {
      setAnswer(await store.api.tryBot(question.trim(), chosen || undefined));
    } catch (failure) {
      setAnswer(null);
      setError(t("error", { detail: failure instanceof Error ? failure.message : String(failure) }));
    } finally {
      setBusy(false);
    }
  };
  const best = answer?.answer;
  return (
    <section class="card try-bot" aria-labelledby="try-bot-title">
      <h2 id="try-bot-title">{t("try.title")}</h2>
      <p class="muted small">{t("try.help")}</p>
      <form onSubmit={(e) => void submit(e)}>
        <label class="field">
          <span>{t("try.question")}</span>
          <textarea rows={2} value={question} onInput={(e) => setQuestion((e.target as HTMLTextAreaElement).value)} required maxLength={4000} />
        </label>
        {unpublished.length > 0 && (
          <label class="field">
            <span>{t("try.asIfPublished")}</span>
            <select value={chosen} onChange={(e) => setWithArticle((e.target as HTMLSelectElement).value)}>
              <option value="">{t("try.publishedOnly")}</option>
              {unpublished.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.title} ({t(a.draft ? "kb.status.draft" : `kb.status.${a.status}`)}, {a.id})
                </option>
              ))}
            </select>
          </label>
        )}
        <button class="btn" type="submit" disabled={busy}>
          {t("try.button")}
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div role="status" aria-live="polite" aria-label={t("try.result")}>
        {answer && (
          <>
            <dl class="try-facts">
              <dt>{t("language")}</dt>
              <dd>{answer.language}</dd>
              <dt>{t("try.intent")}</dt>
              <dd>{answer.intent ? answer.intent.replace(/_/g, " ") : t("none")}</dd>
              <dt>{t("try.sentiment")}</dt>
              <dd>{answer.sentiment}</dd>
              <dt>{t("try.urgent")}</dt>
              <dd>{answer.urgent ? t("yes") : t("no")}</dd>
            </dl>
            {best ? (
              <div class="try-answer">
                <p>
                  <strong>{t("try.wouldAnswer", { title: best.title, id: best.article_id })}</strong>{" "}
                  <span class="muted small">
                    {best.language} · {t("assist.confidence", { percent: Math.round(best.confidence * 100) })}
                  </span>
                </p>
                <p class="small kb-body">{best.text}</p>
                {best.url && <p class="small">{best.url}</p>}
              </div>
            ) : (
              <p>
                <strong>
                  {answer.handoff_reason ? t("try.wouldHandOff", { reason: handoffReason(t, answer.handoff_reason) }) : t("try.noAnswer")}
                </strong>
              </p>
            )}
            {answer.articles.length > 0 && (
              <>
                <h3>{t("try.considered")}</h3>
                <ul class="plain small">
                  {answer.articles.map((a) => (
                    <li key={a.article_id}>
                      {a.title} <span class="muted">({a.article_id}, {a.language}, {t("assist.confidence", { percent: Math.round(a.confidence * 100) })})</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}
