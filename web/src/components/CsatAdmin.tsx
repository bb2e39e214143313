import { useEffect } from "preact/hooks";
import { CHANNELS, channelName } from "../channels";
import { isAdmin, useApp } from "../context";
import { CSAT_FIELDS, csatForm, csatFromForm, type CsatForm } from "../privacy";
import { FieldErrors } from "./PrivacyAdmin";
import { TeamChecks } from "./TeamChecks";
import { useSettingsForm } from "./useSettingsForm";
import { Said } from "./Said";

/** The satisfaction survey after a resolve: on or off, for every conversation, some channels or some teams, when
 *  and how long an answer counts (admins; supervisors read). The API's refusals at the fields they name. */
export function CsatAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const { saved, form, setForm, refused, message, submit } = useSettingsForm({
    read: () => store.api.csat(),
    write: (f: CsatForm, version) => store.api.putCsat(csatFromForm(f), version),
    toForm: csatForm,
    shows: () => true, // at its field, else above the save button (below)
  });
  useEffect(() => {
    void store.loadTeams();
  }, []);
  // the API's refusals at the form's fields (a path's first part names the field), the rest above the form
  const errors = new Map<keyof CsatForm | "", string[]>(refused.rest.length ? [["", refused.rest]] : []);
  for (const [field, messages] of refused.fields) {
    const at = CSAT_FIELDS[field.split(".")[0]!] ?? "";
    errors.set(at, [...(errors.get(at) ?? []), ...messages]);
  }
  if (!form) return <p class="muted">{t("loading")}</p>;
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
        <Said message={message} />
      </form>
    </section>
  );
}
