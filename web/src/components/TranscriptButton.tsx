import type { Conversation } from "../api";
import { useApp } from "../context";

/** Email the customer a transcript of the conversation (the API refuses, in words, when they have no email). */
export function TranscriptButton({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const send = async () => {
    let to = "";
    const ok = await store.run(async () => {
      to = (await store.api.sendTranscript(conv.id)).to;
      await store.refreshOpen();
    });
    if (ok) store.notify("ok", t("transcriptSent", { to }));
  };
  return (
    <button class="btn" onClick={() => void send()}>
      {t("transcript")}
    </button>
  );
}
