import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../context";

/** A step that cannot be undone (an erase), confirmed by typing `expected` (a customer's id, how many customers):
 *  a modal dialog while `open`, its words as last given (they stay while it closes). */
export function TypeToConfirm(props: {
  open: boolean;
  id: string;
  title: string;
  text: string;
  label: string;
  expected: string;
  confirm: string;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const { t } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  const shown = useRef(props);
  if (props.open) shown.current = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setTyped("");
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const { id, title, text, label, expected, confirm } = shown.current;
  const ready = props.open && typed.trim() === expected;
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onClose={props.onCancel}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) props.onConfirm();
        }}
      >
        <h2 id={`${id}-title`}>{title}</h2>
        <p id={`${id}-text`}>{text}</p>
        <label class="field">
          <span>{label}</span>
          <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autocomplete="off" />
        </label>
        <button class="btn btn-danger" type="submit" disabled={!ready}>
          {confirm}
        </button>{" "}
        <button class="btn" type="button" onClick={props.onCancel}>
          {t("cancel")}
        </button>
      </form>
    </dialog>
  );
}
