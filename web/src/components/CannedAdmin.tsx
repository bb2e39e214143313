import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, sendToBucket, type CannedIn, type CannedResponse } from "../api";
import { isAdmin, useApp } from "../context";
import { changedMeanwhile, problemWords } from "../problems";
import { revealForm } from "../revealForm";
import { nextLanguage, rowErrors, toBodies, type BodyDraft } from "../tools";
import { FilePick } from "./FilePick";
import { Said } from "./Said";
import { useChosen } from "../useChosen";

export type ToolScope = "shared" | "personal";
type CannedFile = NonNullable<CannedIn["attachments"]>[number];
type Shown = { kind: "ok" | "error"; text: string; rows: Map<string, string[]> };

/** Run a save or delete and say how it went: a 422's field errors by row (`field`), a 409 of a save as a conflict
 *  (then the latest list is loaded), a refusal the API names (a shortcode another response has: `shortcode_taken`)
 *  in the agent's words, a 409 of a delete (`refusal`: a canned response a macro replies with) and anything else
 *  in the API's words. */
export function useOutcome(reload: () => Promise<void>, field: "actions" | "bodies") {
  const { t } = useApp();
  const [message, setMessage] = useState<Shown | null>(null);
  const run = async (action: () => Promise<unknown>, done: string = t("saved"), refusal = false): Promise<boolean> => {
    setMessage(null);
    try {
      await action();
      setMessage({ kind: "ok", text: done, rows: new Map() });
      await reload();
      return true;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      if (changedMeanwhile(error) && !refusal) {
        setMessage({ kind: "error", text: t("conflict"), rows: new Map() }); // in the agent's words only
        await reload();
      } else {
        const rows = error instanceof ApiError && error.status === 422 ? rowErrors(error.body, field).rows : new Map();
        setMessage({ kind: "error", text: problemWords(error, t) ?? t("error", { detail }), rows });
      }
      return false;
    }
  };
  const shown = <Said message={message} />;
  return { run, shown, rows: message?.rows ?? new Map<string, string[]>(), clear: () => setMessage(null) };
}

const ID_PATTERN = "[A-Za-z0-9_\\-]{1,64}";

/** Canned responses: the shared ones (admins write; supervisors read, least used first) or the agent's own. */
export function CannedAdmin({ scope }: { scope: ToolScope }) {
  const { store, t, who } = useApp();
  const writes = scope === "personal" || isAdmin(who);
  const [items, setItems] = useState<CannedResponse[]>([]);
  const [editing, setEditing] = useState<CannedResponse | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState("");
  const [title, setTitle] = useState("");
  const [shortcode, setShortcode] = useState("");
  const [bodies, setBodies] = useState<BodyDraft[]>([{ language: "en", text: "" }]);
  const [files, setFiles] = useState<CannedFile[]>([]);
  const [uploading, setUploading] = useState(0);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const reload = async () => {
    await store.run(async () => {
      const list = scope === "shared" ? await store.api.sharedCanned() : await store.api.canned("");
      const mine = list.items.filter((c) => c.scope === scope);
      setItems(mine);
      // the one being edited, if someone saved it since (after a 409): its latest version, to change again
      setEditing((e) => {
        const now = e && mine.find((c) => c.id === e.id);
        return e && now && now.version !== e.version ? now : e;
      });
    });
  };
  const { run, shown, rows } = useOutcome(reload, "bodies");
  useEffect(() => {
    void reload();
  }, [scope]);
  useChosen(editing, (editing) => {
    setId(editing?.id ?? "");
    setTitle(editing?.title ?? "");
    setShortcode(editing?.shortcode ?? "");
    setFiles(editing?.attachments ?? []);
    setUploadError(null);
    setBodies(
      editing ? Object.entries(editing.bodies).map(([language, text]) => ({ language, text })) : [{ language: "en", text: "" }],
    );
  });
  const heading = scope === "shared" ? t("admin.canned") : t("admin.myCanned");
  const setBody = (i: number, change: Partial<BodyDraft>) =>
    setBodies(bodies.map((b, j) => (j === i ? { ...b, ...change } : b)));
  const submit = async (e: Event) => {
    e.preventDefault();
    const made = toBodies(bodies);
    if ("duplicate" in made) {
      await run(() => Promise.reject(new Error(t("tools.duplicateLanguage", { language: made.duplicate }))));
      return;
    }
    const content = { title, shortcode, bodies: made.bodies, attachments: files };
    // over the version edited (someone else's save since is refused and the latest loaded); a new one: only new
    const version = editing && editing.id === id.trim() ? editing.version : 0;
    const saved = await run(() =>
      scope === "shared"
        ? store.api.putSharedCanned(id.trim(), content, version)
        : store.api.putMyCanned(id.trim(), content, version),
    );
    if (saved) setEditing(null);
  };
  /** Each chosen file straight to the bucket (a presigned upload without a conversation), then named here. */
  const attach = async (chosen: FileList | null) => {
    setUploadError(null);
    for (const file of Array.from(chosen ?? [])) {
      setUploading((n) => n + 1);
      try {
        const up = await store.api.upload({ filename: file.name, content_type: file.type || "application/octet-stream", size: file.size });
        await sendToBucket(up, file, () => {});
        const done = { key: up.key, filename: up.filename, content_type: up.content_type, size: up.size };
        setFiles((all) => [...all, done]);
      } catch (error) {
        setUploadError(t("tools.uploadFailed", { name: file.name, detail: error instanceof Error ? error.message : String(error) }));
      } finally {
        setUploading((n) => n - 1);
      }
    }
  };
  const remove = (c: CannedResponse) =>
    void run(
      () => (scope === "shared" ? store.api.deleteSharedCanned(c.id) : store.api.deleteMyCanned(c.id)),
      t("tools.deleted", { name: c.title }),
      true,
    );
  return (
    <section>
      <h1>{heading}</h1>
      {scope === "shared" && <p class="muted small">{t("tools.cannedUsageHint")}</p>}
      {items.length === 0 ? (
        <p class="muted">{t("tools.noneYet")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("tools.title")}</th>
              <th scope="col">{t("tools.shortcode")}</th>
              <th scope="col">{t("tools.languages")}</th>
              <th scope="col">{t("tools.uses")}</th>
              <th scope="col">{t("tools.files")}</th>
              <th scope="col">
                <span class="visually-hidden">{t("actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>{c.title}</td>
                <td>
                  <code>/{c.shortcode}</code>
                </td>
                <td>{Object.keys(c.bodies).join(", ")}</td>
                <td>{c.uses}</td>
                <td>{c.attachments.map((a) => a.filename).join(", ")}</td>
                <td>
                  {writes && (
                    <>
                      <button class="btn btn-small" onClick={() => {
                        setEditing(c);
                        revealForm(formRef);
                      }}>
                        {t("edit")}
                        <span class="visually-hidden">: {c.title}</span>
                      </button>{" "}
                      <button class="btn btn-small" onClick={() => remove(c)}>
                        {t("tools.delete")}
                        <span class="visually-hidden">: {c.title}</span>
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {writes && (
        <>
          <button
            class="btn btn-small"
            onClick={() => {
              setEditing(null);
              revealForm(formRef);
            }}
          >
            + {t("newItem")}
          </button>
          <form ref={formRef} class="card form" onSubmit={submit} aria-label={heading}>
            <label class="field">
              <span>{t("id")}</span>
              <input
                value={id}
                onInput={(e) => setId((e.target as HTMLInputElement).value)}
                readOnly={!!editing}
                required
                pattern={ID_PATTERN}
              />
            </label>
            <label class="field">
              <span>{t("tools.title")}</span>
              <input value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} required maxLength={120} />
            </label>
            <label class="field">
              <span>{t("tools.shortcode")}</span>
              <input
                value={shortcode}
                onInput={(e) => setShortcode((e.target as HTMLInputElement).value)}
                required
                pattern="[A-Za-z0-9_\-]{1,32}"
              />
            </label>
            <fieldset>
              <legend>{t("tools.bodies")}</legend>
              {bodies.map((b, i) => {
                const problems = rows.get(b.language.trim().toLowerCase()) ?? [];
                return (
                  <div class="card" key={i}>
                    <label class="field inline">
                      <span>{t("tools.language", { n: i + 1 })}</span>
                      <input
                        value={b.language}
                        onInput={(e) => setBody(i, { language: (e.target as HTMLInputElement).value })}
                        required
                        size={6}
                        pattern="[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*"
                      />
                    </label>
                    <label class="field">
                      <span>{t("tools.body", { language: b.language || "?" })}</span>
                      <textarea
                        value={b.text}
                        onInput={(e) => setBody(i, { text: (e.target as HTMLTextAreaElement).value })}
                        required
                        maxLength={20000}
                        rows={3}
                      />
                    </label>
                    {problems.length > 0 && <p class="error small">{problems.join("; ")}</p>}
                    <button
                      type="button"
                      class="btn btn-small"
                      disabled={bodies.length < 2}
                      onClick={() => setBodies(bodies.filter((_, j) => j !== i))}
                    >
                      {t("tools.removeLanguage", { language: b.language || "?" })}
                    </button>
                  </div>
                );
              })}
              <button
                type="button"
                class="btn btn-small"
                onClick={() => setBodies([...bodies, { language: nextLanguage(bodies), text: "" }])}
              >
                + {t("tools.addLanguage")}
              </button>
            </fieldset>
            <fieldset>
              <legend>{t("tools.files")}</legend>
              {files.length > 0 && (
                <ul class="plain small">
                  {files.map((f) => (
                    <li key={f.key}>
                      {f.filename}{" "}
                      <button type="button" class="btn btn-small" onClick={() => setFiles(files.filter((g) => g.key !== f.key))}>
                        {t("tools.removeFile", { name: f.filename })}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              <FilePick label={t("tools.attach")} onChange={(input) => void attach(input.files).then(() => (input.value = ""))} />
              {uploading > 0 && <p role="status">{t("tools.uploading")}</p>}
              {uploadError && <p role="alert" class="error">{uploadError}</p>}
            </fieldset>
            <button class="btn btn-primary" type="submit" disabled={uploading > 0}>
              {t("save")}
            </button>
          </form>
        </>
      )}
      {shown}
    </section>
  );
}
