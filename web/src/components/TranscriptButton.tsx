import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation } from "../api";
import { useApp } from "../context";

/** Email the customer a transcript of the conversation (the API refuses, in words, when they have no email). One
 * at a time: a press while one is on its way sends nothing more (a double click sent the customer two emails). */
export function TranscriptButton({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const [busy, setBusy] = useState(false);
  const sending = useRef(false); // holds a second press before the button can show itself disabled
  const button = useRef<HTMLButtonElement>(null);
  // disabled while it went, the button dropped a keyboard user's focus to the page: it takes it back once enabled
  const sent = useRef(false);
  useEffect(() => {
    if (busy || !sent.current) return;
    sent.current = false;
    if (!document.activeElement || document.activeElement === document.body) button.current?.focus();
  }, [busy]);
  const send = async () => {
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    let to = "";
    const ok = await store.run(async () => {
      to = (await store.api.sendTranscript(conv.id)).to;
      await store.refreshOpen();
    });
    sending.current = false;
    sent.current = true;
    setBusy(false);
    if (ok) store.notify("ok", t("transcriptSent", { to }));
  };
  return (
    <button class="btn" ref={button} onClick={() => void send()} disabled={busy}>
      {t("transcript")}
    </button>
  );
}
