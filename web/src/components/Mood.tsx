import type { Translate } from "../i18n";

/** What the router understood of a customer's message: its tone and whether it is time-critical.
 * Small chips with words (never colour alone); neutral or not yet understood shows nothing. */
export function Mood({ sentiment, emotion, urgent, t }: {
  sentiment?: "negative" | "neutral" | "positive" | null;
  emotion?: string | null;
  urgent?: boolean | null;
  t: Translate;
}) {
  const tone = sentiment === "negative" || sentiment === "positive" ? sentiment : null;
  const feeling = tone === "negative" && (emotion === "anger" || emotion === "frustration") ? emotion : null;
  if (!tone && !urgent) return null;
  return (
    <>
      {tone && (
        <span class={`chip mood-${tone}`} title={t("mood.title")} aria-label={t("mood.label", { mood: t(feeling ? `emotion.${feeling}` : `sentiment.${tone}`) })}>
          {t(feeling ? `emotion.${feeling}` : `sentiment.${tone}`)}
        </span>
      )}
      {urgent && (
        <span class="chip mood-urgent" title={t("urgentMessage.title")}>
          {t("urgentMessage")}
        </span>
      )}
    </>
  );
}
