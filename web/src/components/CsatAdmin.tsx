import { useEffect, useState } from "preact/hooks";
import { ApiError, type CsatOut } from "../api";
import { CHANNELS, channelName } from "../channels";
import { isAdmin, useApp } from "../context";
import { CSAT_FIELDS, csatForm, csatFromForm, fieldErrors, type CsatForm } from "../privacy";
import { FieldErrors } from "./PrivacyAdmin";
import { TeamChecks } from "./TeamChecks";

type Shown = { kind: "ok" | "error"; text: string };

/** The satisfaction survey after a resolve: on or off, for every conversation, some channels or some teams, when
 *  and how long an answer counts (admins; supervisors read). The API's refusals at the fields they name. */
export function CsatAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [saved, setSaved] = useState<CsatOut | null>(null);
  const [form, setForm] = useState<CsatForm | null>(null);
  const [errors, setErrors] = useState<Map<keyof CsatForm | "", string[]>>(new Map());
  const [message, setMessage] = useState<Shown | null>(null);
  const reload = async () => {
    await store.run(async () => {
      const settings = await store.api.csat();
      setSaved(settings);
      setForm(csatForm(settings));
    });
  };
  useEffect(() => {
    void reload();
    void store.loadTeams();
  }, []);
  if (!form) return <p class="muted">{t("loading")}</p>;
  const submit = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setErrors(new Map());
    try {
      const now = await store.api.putCsat(csatFromForm(form), saved?.version);
      setSaved(now);
      setForm(csatForm(now));
      setMessage({ kind: "ok", text: t("saved") });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const conflict = error instanceof ApiError && error.status === 409;
      const { fields, rest } = fieldErrors(error instanceof ApiError ? error.body : null);
      const mine = new Map<keyof CsatForm | "", string[]>(rest.length ? [["", rest]] : []);
      for (const [field, messages] of fields) {
        const at = CSAT_FIELDS[field.split(".")[0]!] ?? "";
        mine.set(at, [...(mine.get(at) ?? []), ...messages]);
      }
      setErrors(mine);
      setMessage({ kind: "error", text: conflict ? t("conflict", { detail }) : t("error", { detail }) });
      if (conflict) await reload();
    }
  };
  const toggle = (list: string[], value: string, on: boolean) => (on ? [...list, value] : list.filter((x) => x !== value));
  const number = (key: "delay_minutes" | "answer_window_hours" | "comment_window_minutes", min: number, max: number) => {
    const id = `csat-${key}-error`;
    const wrong = errors.get(key);
    return (
      <div>
        <label class="field">
          <span>{t(`csat.${key}`)}</span>
          <input
            type="number"
            min={min}
            max={max}
            step="any"
            required
            value={form[key]}
            onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })}
            {...(wrong ? { "aria-invalid": true, "aria-describedby": id } : {})}
          />
        </label>
        <FieldErrors id={id} errors={wrong} />
      </div>
    );
  };
  return (
    <section>
      <h1>{t("admin.csat")}</h1>
      {saved && <p class="muted small">{t("version", { version: saved.version })}</p>}
      <form class="card form" onSubmit={(e) => void submit(e)} aria-label={t("admin.csat")}>
        <fieldset disabled={!admin}>
          <label class="field inline">
            <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: (e.target as HTMLInputElement).checked })} />
            <span>{t("csat.enabled")}</span>
          </label>
          <fieldset>
            <legend>{t("csat.when")}</legend>
            {(["always", "channels", "teams"] as const).map((w) => (
              <label class="field inline" key={w}>
                <input type="radio" name="csat-when" value={w} checked={form.when === w} onChange={() => setForm({ ...form, when: w })} />
                <span>{t(`csat.when.${w}`)}</span>
              </label>
            ))}
          </fieldset>
          {form.when === "channels" && (
            <fieldset>
              <legend>{t("csat.channels")}</legend>
              {CHANNELS.map((c) => (
                <label class="field inline" key={c}>
                  <input
                    type="checkbox"
                    checked={form.channels.includes(c)}
                    onChange={(e) => setForm({ ...form, channels: toggle(form.channels, c, (e.target as HTMLInputElement).checked) })}
                  />
                  <span>{channelName(c, t)}</span>
                </label>
              ))}
              <FieldErrors id="csat-channels-error" errors={errors.get("channels")} />
            </fieldset>
          )}
          {form.when === "teams" && (
            <>
              <TeamChecks legend={t("csat.teams")} chosen={form.teams} onChange={(teams) => setForm({ ...form, teams })} />
              <FieldErrors id="csat-teams-error" errors={errors.get("teams")} />
            </>
          )}
          <label class="field">
            <span>{t("csat.template")}</span>
            <input
              value={form.template}
              placeholder={t("csat.templateNone")}
              onInput={(e) => setForm({ ...form, template: (e.target as HTMLInputElement).value })}
              {...(errors.get("template") ? { "aria-invalid": true, "aria-describedby": "csat-template-error" } : {})}
            />
          </label>
          <FieldErrors id="csat-template-error" errors={errors.get("template")} />
          {number("delay_minutes", 0, 1440)}
          <label class="field inline">
            <input
              type="checkbox"
              checked={form.comment_prompt}
              onChange={(e) => setForm({ ...form, comment_prompt: (e.target as HTMLInputElement).checked })}
            />
            <span>{t("csat.comment_prompt")}</span>
          </label>
          {number("answer_window_hours", 1, 720)}
          {number("comment_window_minutes", 1, 1440)}
          <FieldErrors id="csat-form-error" errors={errors.get("")} />
          {admin && (
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          )}
        </fieldset>
        {message && (
          <p role={message.kind === "error" ? "alert" : "status"} class={message.kind === "error" ? "error" : "ok"}>
            {message.text}
          </p>
        )}
      </form>
    </section>
  );
}
