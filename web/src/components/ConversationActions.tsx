import { useState } from "preact/hooks";
import type { Conversation, ConversationStatus } from "../api";
import { useApp } from "../context";
import { localInputValue } from "../format";

/** Status changes of the open conversation: pending, snooze, resolve (then the next one), reopen. */
export function ConversationActions({ conv, onOpen }: { conv: Conversation; onOpen: (id: string | null) => void }) {
  const { store, t } = useApp();
  const [snoozing, setSnoozing] = useState(false);
  const [until, setUntil] = useState("");
  const set = async (status: ConversationStatus, untilIso?: string) => {
    const next = status === "resolved" ? store.nextId() : null;
    const ok = await store.setStatus(conv.id, status, t("statusChanged", { status: t(`status.${status}`) }), untilIso);
    if (ok) setSnoozing(false);
    if (ok && status === "resolved") onOpen(next && next !== conv.id ? next : null);
  };
  const openSnooze = () => {
    setUntil(localInputValue(new Date(Date.now() + 4 * 3_600_000)));
    setSnoozing(!snoozing);
  };
  if (conv.status === "resolved") {
    return (
      <div class="actions" role="group" aria-label={t("actions")}>
        <button class="btn" onClick={() => set("open")}>
          {t("do.open")}
        </button>
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
      {conv.status !== "snoozed" && (
        <button class="btn" aria-expanded={snoozing} aria-controls="snooze-form" onClick={openSnooze}>
          {t("do.snoozed")}…
        </button>
      )}
      {snoozing && (
        <form
          id="snooze-form"
          class="snooze"
          onSubmit={(e) => {
            e.preventDefault();
            void set("snoozed", until ? new Date(until).toISOString() : undefined);
          }}
        >
          <label class="field inline">
            <span>{t("snoozeUntil")}</span>
            <input type="datetime-local" value={until} required onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
          </label>
          <button class="btn btn-primary" type="submit">
            {t("do.snoozed")}
          </button>
        </form>
      )}
      {conv.status !== "open" && (
        <button class="btn" onClick={() => set("open")}>
          {t("do.open")}
        </button>
      )}
      <button class="btn btn-primary" onClick={() => set("resolved")} aria-keyshortcuts="e">
        {t("do.resolved")}
      </button>
    </div>
  );
}
