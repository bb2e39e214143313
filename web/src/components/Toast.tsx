import { useEffect } from "preact/hooks";
import { useApp } from "../context";
import { useStore } from "../store";

/** The answer to the last action, read out by screen readers; errors stay until the next action. */
export function Toast() {
  const { store, t } = useApp();
  const { toast } = useStore(store);
  useEffect(() => {
    if (toast?.kind !== "ok") return;
    const timer = setTimeout(() => store.set({ toast: null }), 4000);
    return () => clearTimeout(timer);
  }, [toast?.id]);
  return (
    <div class="toasts" role="status" aria-live="polite" aria-label={t("notifications")}>
      {toast && (
        <div class={`toast toast-${toast.kind}`}>
          <span>{toast.text}</span>
          <button class="btn btn-small" onClick={() => store.set({ toast: null })}>
            {t("close")}
          </button>
        </div>
      )}
    </div>
  );
}
