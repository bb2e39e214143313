import { useRef, useState } from "preact/hooks";
import type { Conversation, SnoozePreset } from "../api";
import { useApp } from "../context";
import { formatFull, localInputValue } from "../format";

const PRESETS: SnoozePreset[] = ["later_today", "tomorrow_morning", "next_week"];

/** Snooze the open conversation: a preset (computed by the API from the shop's business hours) or a chosen time;
 * a snoozed one shows when it comes back. */
export function SnoozeMenu({ conv }: { conv: Conversation }) {
  const { store, t, locale, timeZone } = useApp();
  const [open, setOpen] = useState(false);
  const [until, setUntil] = useState("");
  const snooze = async (untilIso?: string, preset?: SnoozePreset) => {
    let when = "";
    const ok = await store.run(async () => {
      const changed = await store.api.setStatus(conv.id, "snoozed", untilIso, preset);
      when = changed.snoozed_until ? formatFull(changed.snoozed_until, locale, timeZone) : "";
      await store.refresh();
      await store.refreshOpen();
    });
    if (ok) {
      const changed = t("statusChanged", { status: t("status.snoozed") });
      store.notify("ok", when ? `${changed} · ${t("snoozedUntil", { time: when })}` : changed);
      setOpen(false);
    }
  };
  if (conv.status === "snoozed") {
    return conv.snoozed_until ? (
      <span class="chip status-snoozed snoozed-until">{t("snoozedUntil", { time: formatFull(conv.snoozed_until, locale, timeZone) })}</span>
    ) : null;
  }
  const toggle = () => {
    setUntil(localInputValue(new Date(Date.now() + 4 * 3_600_000)));
    setOpen(!open);
  };
  // Escape closes it, from its button or its form, and the focus goes back to its button (not the inbox's own Escape,
  // which left it open and took the focus to the list)
  const button = useRef<HTMLButtonElement>(null);
  const closeOnEscape = (e: KeyboardEvent) => {
    if (e.key !== "Escape" || !open) return;
    e.preventDefault();
    setOpen(false);
    button.current?.focus();
  };
  return (
    <>
      <button class="btn" ref={button} aria-expanded={open} aria-controls="snooze-form" onClick={toggle} onKeyDown={closeOnEscape}>
        {t("do.snoozed")}…
      </button>
      {open && (
        <form
          id="snooze-form"
          class="snooze"
          onKeyDown={closeOnEscape}
          onSubmit={(e) => {
            e.preventDefault();
            void snooze(until ? new Date(until).toISOString() : undefined);
          }}
        >
          <div role="group" aria-label={t("snooze.presets")} class="snooze-presets">
            {PRESETS.map((p) => (
              <button key={p} type="button" class="btn" onClick={() => void snooze(undefined, p)}>
                {t(`snooze.${p}`)}
              </button>
            ))}
          </div>
          <label class="field inline">
            <span>{t("snoozeUntil")}</span>
            <input
              type="datetime-local"
              value={until}
              min={localInputValue(new Date())}
              required
              onInput={(e) => setUntil((e.target as HTMLInputElement).value)}
            />
          </label>
          <button class="btn btn-primary" type="submit">
            {t("do.snoozed")}
          </button>
        </form>
      )}
    </>
  );
}
