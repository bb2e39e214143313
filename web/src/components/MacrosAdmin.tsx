import { useEffect, useRef, useState } from "preact/hooks";
import type { CannedResponse, Macro } from "../api";
import { isAdmin, useApp } from "../context";
import { revealForm } from "../revealForm";
import type { MessageKey } from "../i18n";
import { ACTION_TYPES, blankAction, move, PRIORITIES, STATUSES, toAction, toDraft, type ActionDraft, type ActionType } from "../tools";
import { useOutcome, type ToolScope } from "./CannedAdmin";
import { useChosen } from "../useChosen";
import { labelNames, retiredIn } from "../labels";
import { useStore } from "../store";

const typeKey = (type: ActionType) => `action.${type}` as MessageKey;
const hintKey = (type: ActionType) => `actionHint.${type}` as MessageKey;

/** Macros: the shared ones (admins write; supervisors read) or the agent's own: a name and actions in order. */
export function MacrosAdmin({ scope }: { scope: ToolScope }) {
  const { store, t, who } = useApp();
  const writes = scope === "personal" || isAdmin(who);
  const { labels } = useStore(store); // the names of a macro's retired labels
  const [items, setItems] = useState<Macro[]>([]);
  const [editing, setEditing] = useState<Macro | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [actions, setActions] = useState<ActionDraft[]>([blankAction("note")]);
  const [canned, setCanned] = useState<CannedResponse[]>([]);
  const reload = async () => {
    await store.run(async () => {
      const list = scope === "shared" ? await store.api.sharedMacros() : await store.api.macros();
      const mine = list.items.filter((m) => m.scope === scope);
      setItems(mine);
      // the one being edited, if someone saved it since (after a 409): its latest version, to change again
      setEditing((e) => {
        const now = e && mine.find((m) => m.id === e.id);
        return e && now && now.version !== e.version ? now : e;
      });
    });
    void store.loadTools(); // the conversation's macro picker follows
  };
  const { run, shown, rows } = useOutcome(reload, "actions");
  useEffect(() => {
    void reload();
    // the canned responses a reply action may name: shared ones for a shared macro, else any the agent can use
    const found = scope === "shared" ? store.api.sharedCanned() : store.api.canned("");
    found.then((list) => setCanned(list.items)).catch(() => setCanned([]));
  }, [scope]);
  useChosen(editing, (editing) => {
    setId(editing?.id ?? "");
    setName(editing?.name ?? "");
    setActions(editing ? editing.actions.map(toDraft) : [blankAction("note")]);
  });
  const heading = scope === "shared" ? t("admin.macros") : t("admin.myMacros");
  const setAction = (i: number, change: ActionDraft) => setActions(actions.map((a, j) => (j === i ? change : a)));
  const submit = async (e: Event) => {
    e.preventDefault();
    const content = { name, actions: actions.map(toAction) };
    // over the version edited (someone else's save since is refused and the latest loaded); a new one: only new
    const version = editing && editing.id === id.trim() ? editing.version : 0;
    const saved = await run(() =>
      scope === "shared"
        ? store.api.putSharedMacro(id.trim(), content, version)
        : store.api.putMyMacro(id.trim(), content, version),
    );
    if (saved) setEditing(null);
  };
  const remove = (m: Macro) =>
    void run(
      () => (scope === "shared" ? store.api.deleteSharedMacro(m.id) : store.api.deleteMyMacro(m.id)),
      t("tools.deleted", { name: m.name }),
    );
  const field = (a: ActionDraft, i: number) => {
    const label = t("tools.actionValue", { n: i + 1, type: t(typeKey(a.type)) });
    const hint = `macro-${scope}-hint-${i}`;
    const onValue = (e: Event) => setAction(i, { ...a, value: (e.target as HTMLInputElement).value });
    const choices = a.type === "set_priority" ? PRIORITIES : a.type === "set_status" ? STATUSES : null;
    return (
      <>
        <label class="field">
          <span>{label}</span>
          {a.type === "reply" ? (
            <select value={a.value} onChange={onValue} required aria-describedby={hint}>
              <option value="">—</option>
              {a.value && !canned.some((c) => c.id === a.value) && <option value={a.value}>{a.value}</option>}
              {canned.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title} (/{c.shortcode})
                </option>
              ))}
            </select>
          ) : choices ? (
            <select value={a.value} onChange={onValue} aria-describedby={hint}>
              {choices.map((c) => (
                <option key={c} value={c}>
                  {t(a.type === "set_priority" ? `priority.${c as (typeof PRIORITIES)[number]}` : `status.${c as (typeof STATUSES)[number]}`)}
                </option>
              ))}
            </select>
          ) : a.type === "note" ? (
            <textarea value={a.value} onInput={onValue} required maxLength={4000} rows={2} aria-describedby={hint} />
          ) : (
            <input value={a.value} onInput={onValue} required={a.type !== "assign"} aria-describedby={hint} />
          )}
        </label>
        <p id={hint} class="muted small">
          {t(hintKey(a.type))}
        </p>
      </>
    );
  };
  return (
    <section>
      <h1>{heading}</h1>
      {items.length === 0 ? (
        <p class="muted">{t("tools.noneYet")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("name")}</th>
              <th scope="col">{t("tools.actions")}</th>
              <th scope="col">
                <span class="visually-hidden">{t("actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id}>
                <td>
                  {m.name}
                  {retiredIn(m).length > 0 && (
                    <p class="error small">⚠ {t("macroRetiredLabels", { labels: labelNames(retiredIn(m), labels) })}</p>
                  )}
                </td>
                <td>{m.actions.map((a) => t(typeKey(a.type))).join(" → ")}</td>
                <td>
                  {writes && (
                    <>
                      <button class="btn btn-small" onClick={() => {
                        setEditing(m);
                        revealForm(formRef);
                      }}>
                        {t("edit")}
                        <span class="visually-hidden">: {m.name}</span>
                      </button>{" "}
                      <button class="btn btn-small" onClick={() => remove(m)}>
                        {t("tools.delete")}
                        <span class="visually-hidden">: {m.name}</span>
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
                pattern="[A-Za-z0-9_\-]{1,64}"
              />
            </label>
            <label class="field">
              <span>{t("name")}</span>
              <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required maxLength={120} />
            </label>
            <fieldset>
              <legend>{t("tools.actions")}</legend>
              <ol class="macro-actions">
                {actions.map((a, i) => {
                  const problems = rows.get(String(i)) ?? [];
                  return (
                    <li key={i} class="card">
                      <div class="field inline">
                        <label for={`macro-${scope}-type-${i}`}>{t("tools.actionType", { n: i + 1 })}</label>
                        <select
                          id={`macro-${scope}-type-${i}`}
                          value={a.type}
                          onChange={(e) => setAction(i, blankAction((e.target as HTMLSelectElement).value as ActionType))}
                        >
                          {ACTION_TYPES.map((type) => (
                            <option key={type} value={type}>
                              {t(typeKey(type))}
                            </option>
                          ))}
                        </select>
                      </div>
                      {field(a, i)}
                      {problems.length > 0 && (
                        <p class="error small">{t("tools.actionProblem", { n: i + 1, detail: problems.join("; ") })}</p>
                      )}
                      <button type="button" class="btn btn-small" disabled={i === 0} onClick={() => setActions(move(actions, i, -1))}>
                        {t("tools.up", { n: i + 1 })}
                      </button>{" "}
                      <button
                        type="button"
                        class="btn btn-small"
                        disabled={i === actions.length - 1}
                        onClick={() => setActions(move(actions, i, 1))}
                      >
                        {t("tools.down", { n: i + 1 })}
                      </button>{" "}
                      <button
                        type="button"
                        class="btn btn-small"
                        disabled={actions.length < 2}
                        onClick={() => setActions(actions.filter((_, j) => j !== i))}
                      >
                        {t("tools.removeAction", { n: i + 1 })}
                      </button>
                    </li>
                  );
                })}
              </ol>
              <button type="button" class="btn btn-small" onClick={() => setActions([...actions, blankAction("note")])}>
                + {t("tools.addAction")}
              </button>
            </fieldset>
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          </form>
        </>
      )}
      {shown}
    </section>
  );
}
