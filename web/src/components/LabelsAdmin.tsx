import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Label } from "../api";
import { isAdmin, useApp } from "../context";
import { chipColors } from "../labels";
import { changedMeanwhile, problemWords } from "../problems";
import { revealForm } from "../revealForm";
import { Said } from "./Said";
import { useChosen } from "../useChosen";

/** The shop's labels: create, rename, recolour, retire and restore (admins; supervisors read). */
export function LabelsAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [labels, setLabels] = useState<Label[]>([]);
  const [editing, setEditing] = useState<Label | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [color, setColor] = useState("#2f80ed");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  // a retire refused because macros add the label (they would skip it): the admin may insist
  const [insist, setInsist] = useState<Label | null>(null);
  const reload = async () => {
    await store.run(async () => {
      const items = (await store.api.adminLabels()).items;
      setLabels(items);
      // the one being edited, if someone saved it since (after a 409): its latest version, to change again
      setEditing((e) => (e && items.find((l) => l.id === e.id && l.version !== e.version)) || e);
    });
    void store.loadTools(); // the inbox's chips and menus follow
  };
  useEffect(() => {
    void reload();
  }, []);
  useChosen(editing, (editing) => {
    setId(editing?.id ?? "");
    setName(editing?.name ?? "");
    setColor(editing?.color ?? "#2f80ed");
  });
  const act = async (action: () => Promise<unknown>, retiring?: Label) => {
    setMessage(null);
    setInsist(null);
    try {
      await action();
      setMessage({ kind: "ok", text: t("saved") });
      await reload();
    } catch (error) {
      const detail = error instanceof ApiError || error instanceof Error ? error.message : String(error);
      const conflict = changedMeanwhile(error); // someone saved it since: said in the admin's words only
      const named = problemWords(error, t); // a refusal the API names (a new label's id taken): its own words
      setMessage({ kind: "error", text: conflict ? t("conflict") : (named ?? t("error", { detail })) });
      if (retiring && usedByMacros(error)) setInsist(retiring);
      if (conflict) await reload();
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    // over the version edited (someone else's save since is refused and the latest loaded); a new one: only new
    const version = editing && editing.id === id.trim() ? editing.version : 0;
    void act(() => store.api.putLabel(id.trim(), { name: name.trim(), color }, version));
  };
  return (
    <section>
      <h1>{t("admin.labels")}</h1>
      {labels.length === 0 && <p class="muted">{t("tools.noneYet")}</p>}
      <table hidden={labels.length === 0}>
        <thead>
          <tr>
            <th scope="col">{t("id")}</th>
            <th scope="col">{t("name")}</th>
            <th scope="col">
              <span class="visually-hidden">{t("actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {labels.map((l) => (
            <tr key={l.id}>
              <td>{l.id}</td>
              <td>
                <span class="chip label-chip" style={chipColors(l.color)}>
                  {l.name}
                </span>{" "}
                {l.retired && <span class="muted small">{t("labelRetiredNote")}</span>}
              </td>
              <td>
                {admin && (
                  <>
                    <button class="btn btn-small" onClick={() => {
                        setEditing(l);
                        revealForm(formRef);
                      }}
                      aria-label={`${t("edit")}: ${l.name}`}>
                      ✎
                    </button>{" "}
                    <button class="btn btn-small" onClick={() => void act(() => store.api.retireLabel(l.id, !l.retired), l.retired ? undefined : l)}>
                      {l.retired ? t("labelRestore") : t("labelRetire")}
                      <span class="visually-hidden">: {l.name}</span>
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {admin && (
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
          <form ref={formRef} class="card form" onSubmit={submit} aria-label={t("admin.labels")}>
            <label class="field">
              <span>{t("id")}</span>
              <input
                value={id}
                onInput={(e) => setId((e.target as HTMLInputElement).value)}
                readOnly={!!editing}
                required
                pattern="[a-z0-9][a-z0-9_\-]{0,63}"
              />
            </label>
            <label class="field">
              <span>{t("name")}</span>
              <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required maxLength={60} />
            </label>
            <label class="field">
              <span>{t("labelColor")}</span>
              <input type="color" value={color} onInput={(e) => setColor((e.target as HTMLInputElement).value)} />
            </label>
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          </form>
        </>
      )}
      <Said message={message} />
      {insist && (
        <button class="btn btn-small" onClick={() => void act(() => store.api.retireLabel(insist.id, true, true))}>
          {t("labelRetireAnyway")}
          <span class="visually-hidden">: {insist.name}</span>
        </button>
      )}
    </section>
  );
}

/** A retire refused because macros add the label (409 `label_in_macros`). */
function usedByMacros(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && (error.body as { code?: unknown } | null)?.code === "label_in_macros";
}
