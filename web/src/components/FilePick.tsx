import { useApp } from "../context";

/** A file input that speaks the inbox's language: the browser's own button says "Choose Files" and "No file chosen"
 *  in the browser's language, whatever language the agent picked. The input stays (visually hidden, focusable, named
 *  by its label); the button and the files chosen are shown beside it. */
export function FilePick(props: {
  label: string;
  /** the names of the files chosen, shown beside the button; leave out where the form lists them itself */
  chosen?: string[];
  accept?: string;
  required?: boolean;
  onChange: (input: HTMLInputElement) => void;
}) {
  const { t } = useApp();
  return (
    <label class="field">
      <span>{props.label}</span>
      <span class="file-pick">
        <input
          type="file"
          class="file-input"
          multiple
          accept={props.accept}
          required={props.required}
          onChange={(e) => props.onChange(e.target as HTMLInputElement)}
        />
        <span class="btn btn-small" aria-hidden="true">
          {t("files.choose")}
        </span>
        {props.chosen && (
          <span class="muted small" aria-hidden="true">
            {props.chosen.length ? props.chosen.join(", ") : t("files.none")}
          </span>
        )}
      </span>
    </label>
  );
}
