import type { ComponentChildren } from "preact";
import { useRef } from "preact/hooks";
import { ApiError, sendToBucket, type UploadedFile } from "../api";
import { useApp } from "../context";
import { fileSize } from "../format";

/** A file the agent chose for the reply: uploading (with progress), ready (uploaded, named by its key), or refused. */
export type Pending = {
  id: number;
  name: string;
  size: number;
  state: "uploading" | "ready" | "failed";
  progress: number;
  file?: UploadedFile;
  error?: string;
};

let nextId = 1;

/** Files uploaded before, as chips ready to send (a draft's, as the agent comes back to its conversation). */
export function readyFiles(files: readonly UploadedFile[] = []): Pending[] {
  return files.map((file) => ({ id: nextId++, name: file.filename, size: file.size, state: "ready", progress: 1, file }));
}

/** Upload the chosen files for a reply in `conversationId`, straight to the bucket, updating `onChange` as they go.
 * `channel` (the reply's, as chosen when the file is added): a file it cannot carry is refused on its chip at once,
 * with the channel and its limit, instead of when the reply is sent. */
export function useUploads(
  conversationId: string,
  pending: Pending[],
  onChange: (update: (p: Pending[]) => Pending[]) => void,
  channel?: () => string,
) {
  const { store } = useApp();
  const patch = (id: number, change: Partial<Pending>) => onChange((all) => all.map((p) => (p.id === id ? { ...p, ...change } : p)));
  const add = (files: Iterable<File>) => {
    for (const file of files) {
      const id = nextId++;
      onChange((all) => [...all, { id, name: file.name, size: file.size, state: "uploading", progress: 0 }]);
      void (async () => {
        try {
          const upload = await store.api.upload(
            { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size },
            conversationId,
            channel?.(),
          );
          await sendToBucket(upload, file, (progress) => patch(id, { progress }));
          patch(id, {
            state: "ready",
            progress: 1,
            name: upload.filename,
            file: { key: upload.key, filename: upload.filename, content_type: upload.content_type, size: upload.size },
          });
        } catch (error) {
          patch(id, { state: "failed", error: error instanceof ApiError ? error.message : String(error) });
        }
      })();
    }
  };
  return {
    add,
    remove: (id: number) => onChange((all) => all.filter((p) => p.id !== id)),
    uploading: pending.some((p) => p.state === "uploading"),
    ready: pending.filter((p) => p.state === "ready" && p.file).map((p) => p.file!),
  };
}

/** The "Attach files" button and the chips of the chosen files (name, size, state, remove). */
export function AttachmentPicker({
  pending,
  onAdd,
  onRemove,
  disabled,
}: {
  pending: Pending[];
  onAdd: (files: Iterable<File>) => void;
  onRemove: (id: number) => void;
  disabled?: boolean;
}) {
  const { t } = useApp();
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class="attach">
      <input
        ref={input}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const target = e.target as HTMLInputElement;
          if (target.files) onAdd(Array.from(target.files));
          target.value = "";
        }}
      />
      <button type="button" class="btn" aria-label={t("attachFiles")} title={t("attachFiles")} disabled={disabled} onClick={() => input.current?.click()}>
        <svg class="icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
          <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
        </svg>{" "}
        {t("attach")}
      </button>
      {pending.length > 0 && (
        <ul class="attach-chips" aria-label={t("attachments")}>
          {pending.map((p) => (
            <li key={p.id} class={`attach-chip attach-${p.state}`}>
              <span class="attach-name">{p.name}</span> <span class="muted small">{fileSize(p.size)}</span>{" "}
              <AttachState p={p} />
              <button type="button" class="btn btn-small attach-remove" aria-label={t("removeFile", { name: p.name })} onClick={() => onRemove(p.id)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function AttachState({ p }: { p: Pending }): ComponentChildren {
  const { t } = useApp();
  if (p.state === "uploading") {
    return (
      <span class="small" role="status">
        {t("uploading", { percent: Math.round(p.progress * 100) })}
      </span>
    );
  }
  if (p.state === "failed") return <span class="small attach-error" role="alert">{t("uploadFailed", { reason: p.error ?? "" })}</span>;
  return <span class="small attach-ready">{t("uploaded")}</span>;
}

/** Files dropped on, or pasted into, an element. */
export function filesOf(e: DragEvent | ClipboardEvent): File[] {
  const list = "dataTransfer" in e ? e.dataTransfer?.files : (e as ClipboardEvent).clipboardData?.files;
  return list ? Array.from(list) : [];
}
