import { useEffect } from "preact/hooks";
import { useApp } from "../context";
import { useStore } from "../store";

/** The answer to the last action, read out by screen readers: an error (a refusal, a failure: the agent has to act on
 * it) as an alert, at once; what went well as a polite status, after what is being read. Both regions are always in
 * the page, so that what comes into them is read out; errors stay until the next action or Close. */
export function Toast() {
  const { store, t } = useApp();
  const { toast } = useStore(store);
  useEffect(() => {
    if (toast?.kind !== "ok") return;
    const timer = setTimeout(() => store.set({ toast: null }), 4000);
    return () => clearTimeout(timer);
  }, [toast?.id]);
  // Only the words are in the live regions: the Close button sits beside them in the toast, outside both, so a screen
  // reader says the error and not "… Close" after it.
  return (
    <div class="toasts">
      <div class={toast ? `toast toast-${toast.kind}` : undefined}>
        <span>
          <span role="status" aria-live="polite" aria-label={t("notifications")}>
            {toast?.kind === "ok" && toast.text}
          </span>
          <span role="alert" aria-live="assertive" aria-label={t("alerts")}>
            {toast?.kind === "error" && toast.text}
          </span>
        </span>
        {toast && (
          <button class="btn btn-small" onClick={() => store.set({ toast: null })}>
            {t("close")}
          </button>
        )}
      </div>
    </div>
  );
}
