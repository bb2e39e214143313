import { useEffect, useState } from "preact/hooks";
import type { ApplyOut, Conversation } from "../api";
import { customerLabel } from "../channels";
import { useApp } from "../context";
import { labelNames, retiredIn, skippedIn } from "../labels";
import { useStore } from "../store";

/** Choose a macro and apply it to ``ids``; the answer per conversation is shown by the caller. */
function MacroForm({ ids, id, onApplied }: { ids: string[]; id: string; onApplied?: (out: ApplyOut) => void }) {
  // the open conversation's form says how it went itself (onApplied); the selection's results show under the list
  const { store, t } = useApp();
  const { macros, labels } = useStore(store);
  const [chosen, setChosen] = useState("");
  const [busy, setBusy] = useState(false);
  // with none read, there is no list whose opening reads them again: a macro made since (the desk's first) is looked
  // for as the form shows for another conversation or selection, once a minute at most (and as the tab is shown again)
  const key = ids.join(",");
  useEffect(() => store.toolsIfNone(), [key]);
  if (!macros.length) return <p class="muted small">{t("macroNone")}</p>;
  const apply = async (e: Event) => {
    e.preventDefault();
    const macro = chosen || macros[0]?.id;
    if (!macro || !ids.length || busy) return;
    setBusy(true);
    const out = await store.applyMacro(macro, ids, !onApplied);
    setBusy(false);
    if (out) onApplied?.(out);
  };
  return (
    <form class="macro-form" onSubmit={apply}>
      <label class="field inline">
        <span>{t("macro")}</span>
        <select
          id={id}
          value={chosen || macros[0]?.id}
          onFocus={() => void store.loadTools()} // a macro made since the inbox read them is there
          onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}
        >
          {macros.map((m) => (
            <option key={m.id} value={m.id}>
              {retiredIn(m).length ? t("macroSkipsRetired", { name: m.name, labels: labelNames(retiredIn(m), labels) }) : m.name}
            </option>
          ))}
        </select>
      </label>
      {/* while it applies, said unavailable but not disabled: a disabled button drops the keyboard's focus to the page */}
      <button class="btn btn-primary" type="submit" disabled={!ids.length} aria-disabled={busy}>
        {t("macroApply")}
      </button>
    </form>
  );
}

/** The macro picker of the open conversation: the outcome in a toast. */
export function MacroPicker({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const shown = (out: ApplyOut) => {
    const refused = out.results.find((r) => r.result === "refused");
    const skipped = out.results.flatMap(skippedIn);
    const said = t("macroApplied", { name: out.name, applied: out.applied, refused: out.refused });
    if (refused) store.notify("error", t("error", { detail: refused.problem?.detail ?? "" }));
    else if (skipped.length) store.notify("ok", `${said}. ${t("macroSkipped", { labels: labelNames([...new Set(skipped)], store.state.labels) })}`);
    else store.notify("ok", said);
  };
  return <MacroForm ids={[conv.id]} id="macro-one" onApplied={shown} />;
}

/** Under the list: what is selected, a macro to apply to all of it, and each conversation's result. */
export function SelectionBar() {
  const { store, t } = useApp();
  const { picked, applied, items, labels } = useStore(store);
  if (!picked.length && !applied) return null;
  const names = new Map(items.map((c) => [c.id, customerLabel(c.customer, t("customerUnknown"))]));
  const name = (id: string) => names.get(id) ?? id;
  return (
    <section class="selection-bar" aria-label={t("picked", { count: picked.length })}>
      <p class="small">
        <strong>{t("picked", { count: picked.length })}</strong>{" "}
        <button class="btn btn-small" onClick={() => store.clearPicks()}>
          {t("pickClear")}
        </button>
      </p>
      {picked.length > 0 && <MacroForm ids={picked} id="macro-many" />}
      {applied && (
        <div role="status">
          <p class="small">{t("macroApplied", { name: applied.name, applied: applied.applied, refused: applied.refused })}</p>
          <ul class="plain small" aria-label={t("macroResults")}>
            {applied.results.map((r) => (
              <li key={r.conversation_id} class={r.result === "refused" ? "error" : "ok"}>
                {r.result === "applied"
                  ? skippedIn(r).length
                    ? t("macroResultSkipped", { name: name(r.conversation_id), labels: labelNames(skippedIn(r), labels) })
                    : t("macroResultApplied", { name: name(r.conversation_id) })
                  : t("macroResultRefused", { name: name(r.conversation_id), detail: r.problem?.detail ?? "" })}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
