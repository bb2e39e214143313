import { useEffect, useRef } from "preact/hooks";
import type { Conversation, ConversationStatus } from "../api";
import { useApp } from "../context";
import { SnoozeMenu } from "./SnoozeMenu";
import { TranscriptButton } from "./TranscriptButton";

/** Status changes of the open conversation: pending, snooze, resolve (then the next one), reopen. */
export function ConversationActions(props: { conv: Conversation; onOpen: (id: string | null, toList?: boolean) => void }) {
  const { conv, onOpen } = props;
  const { store, t } = useApp();
  // the button pressed goes with the status it set (Mark pending, Reopen), and a keyboard user's focus with it, to the
  // page: it stays in these actions instead, on the first of them, once they show the new status
  const actions = useRef<HTMLDivElement>(null);
  const keepFocus = useRef(false);
  useEffect(() => {
    if (!keepFocus.current) return;
    keepFocus.current = false;
    if (!document.activeElement || document.activeElement === document.body) actions.current?.querySelector("button")?.focus();
  }, [conv.status]);
  const set = async (status: ConversationStatus) => {
    const next = status === "resolved" ? store.nextId() : null;
    keepFocus.current = status !== "resolved"; // a resolve opens the next conversation
    const ok = await store.setStatus(conv.id, status, t("statusChanged", { status: t(`status.${status}`) }));
    if (!ok) keepFocus.current = false;
    // the next one opens, and the keyboard goes on from its item in the list, as after `e` (not to the page)
    if (ok && status === "resolved") onOpen(next && next !== conv.id ? next : null, true);
  };
  if (conv.status === "resolved") {
    return (
      <div class="actions" role="group" aria-label={t("actions")} ref={actions}>
        {/* a conversation merged into the customer's other one goes on there (its header links it) */}
        {!conv.merged_into && (
          <button class="btn" onClick={() => set("open")}>
            {t("do.open")}
          </button>
        )}
        <TranscriptButton conv={conv} />
      </div>
    );
  }
  return (
    <div class="actions" role="group" aria-label={t("actions")} ref={actions}>
      {conv.status !== "pending" && (
        <button class="btn" onClick={() => set("pending")}>
          {t("do.pending")}
        </button>
      )}
      <SnoozeMenu conv={conv} />
      {conv.status !== "open" && (
        <button class="btn" onClick={() => set("open")}>
          {t("do.open")}
        </button>
      )}
      <TranscriptButton conv={conv} />
      <button class="btn btn-primary" onClick={() => set("resolved")} aria-keyshortcuts="e">
        {t("do.resolved")}
      </button>
    </div>
  );
}
