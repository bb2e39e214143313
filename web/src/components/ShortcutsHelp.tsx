import { useEffect, useRef } from "preact/hooks";
import { useApp } from "../context";
import { keyName, SHORTCUTS } from "../keyboard";

export function ShortcutsHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="shortcuts-title" onClose={onClose}>
      <h2 id="shortcuts-title">{t("shortcuts")}</h2>
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.command}>
              <td>
                {s.keys.map((k) => (
                  <kbd key={k}>{keyName(k, t)}</kbd>
                ))}
              </td>
              <td>{t(s.help)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button class="btn btn-primary" onClick={onClose}>
        {t("close")}
      </button>
    </dialog>
  );
}
