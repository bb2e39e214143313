import type { Conversation, ConversationStatus } from "../api";
import { useApp } from "../context";
import { SnoozeMenu } from "./SnoozeMenu";
import { TranscriptButton } from "./TranscriptButton";

/** Status changes of the open conversation: pending, snooze, resolve (then the next one), reopen. */
export function ConversationActions({ conv, onOpen }: { conv: Conversation; onOpen: (id: string | null) => void }) {
  const { store, t } = useApp();
  const set = async (status: ConversationStatus) => {
    const next = status === "resolved" ? store.nextId() : null;
    const ok = await store.setStatus(conv.id, status, t("statusChanged", { status: t(`status.${status}`) }));
    if (ok && status === "resolved") onOpen(next && next !== conv.id ? next : null);
  };
  if (conv.status === "resolved") {
    return (
      <div class="actions" role="group" aria-label={t("actions")}>
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
    <div class="actions" role="group" aria-label={t("actions")}>
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
