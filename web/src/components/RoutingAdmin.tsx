import { useEffect, useState } from "preact/hooks";
import { ApiError, type Team } from "../api";
import { channelName } from "../channels";
import { isAdmin, useApp } from "../context";
import { teamChoices } from "../format";
import { counted } from "../i18n";
import { languageName } from "../kb";
import {
  channelRows,
  CUSTOMER_LANGUAGES,
  PRIORITY_CHANGES,
  routedTeams,
  routingErrorAt,
  routingForm,
  routingFromForm,
  routingRefusalWords,
  SHIPPED_ACKNOWLEDGEMENTS,
  SITUATIONS,
  templateRefusal,
  type PriorityChange,
  type RoutingSettingsForm,
} from "../routingSettings";
import { useStore } from "../store";
import { FieldErrors } from "./PrivacyAdmin";
import { Said } from "./Said";
import { useSettingsForm } from "./useSettingsForm";

type Form = RoutingSettingsForm;
const value = (e: Event) => (e.target as HTMLInputElement).value;
const checked = (e: Event) => (e.target as HTMLInputElement).checked;

/** The routing settings as a form (admins; supervisors read): the shop's name, which team conversations go to (by
 *  default, by channel, by label), the customers' default language, acknowledgements (on or off, how often, their
 *  texts per language over the shipped ones), skills by keyword, assignment rules and priority raises. Saved over the
 *  version read; the API's refusals (a team the desk does not have, a template without {eta}) at their row. */
export function RoutingAdmin() {
  const { store, t, who, locale } = useApp();
  const admin = isAdmin(who);
  const { labels } = useStore(store);
  const [deskTeams, setDeskTeams] = useState<Team[]>([]);
  const { saved, form, setForm, refused, message, submit } = useSettingsForm({
    read: () => store.api.routing(),
    write: (f: Form, version) => store.api.putRouting(routingFromForm(f), version),
    toForm: routingForm,
    shows: () => true, // at its row, else above the save button
    place: (error) => {
      const found = error instanceof ApiError && error.status === 400 ? templateRefusal(error.message) : null;
      return found ? [found] : [];
    },
  });
  useEffect(() => {
    void store.run(async () => setDeskTeams((await store.api.teams()).items));
  }, []);
  if (!form || !saved) return <p class="muted">{t("loading")}</p>;

  // the refusals by the row they are about ("" for those of no row)
  const errors = new Map<string, string[]>(refused.rest.length ? [["", refused.rest]] : []);
  for (const [path, messages] of refused.fields) {
    const at = routingErrorAt(path);
    errors.set(at, [...(errors.get(at) ?? []), ...messages.map((m) => routingRefusalWords(m, t))]);
  }
  const errorId = (at: string) => `routing-${at.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
  const invalid = (at: string) => (errors.get(at)?.length ? { "aria-invalid": true as const, "aria-describedby": errorId(at) } : {});
  const shownErrors = (at: string) => <FieldErrors id={errorId(at)} errors={errors.get(at)} />;
  // every change from the form as it is then (two changes before a render both count)
  const update = (change: (f: Form) => Partial<Form>) => setForm((f) => (f ? { ...f, ...change(f) } : f));
  const set = <K extends keyof Form>(key: K, v: Form[K]) => update(() => ({ [key]: v }));

  // the desk's teams by name, and any team the settings name (saved or chosen) that it does not list, by id
  const teams = teamChoices(
    deskTeams.map((x) => ({ id: x.id, name: x.name })),
    [...routedTeams(saved), ...routedTeams(routingFromForm(form))],
  );
  const teamSelect = (chosen: string, onChange: (team: string) => void, at: string, label: string, none?: string) => (
    <select aria-label={label} value={chosen} onChange={(e) => onChange(value(e))} {...invalid(at)}>
      {none !== undefined && <option value="">{none}</option>}
      {teams.map((x) => (
        <option key={x.id} value={x.id}>
          {x.name}
        </option>
      ))}
    </select>
  );
  const number = (key: keyof Form, at: string, label: string, min: number, max: number, hint?: string, optional = false) => (
    <div>
      <label class="field">
        <span>{label}</span>
        <input
          type="number"
          min={min}
          max={max}
          step="any"
          required={!optional}
          value={form[key] as string}
          onInput={(e) => set(key, value(e) as never)}
          {...invalid(at)}
        />
      </label>
      {hint && <p class="muted small">{hint}</p>}
      {shownErrors(at)}
    </div>
  );
  const toggle = (key: "acknowledgements" | "reassign_on_breach" | "transcript_on_resolve", label: string) => (
    <div>
      <label class="field inline">
        <input type="checkbox" checked={form[key]} onChange={(e) => set(key, checked(e))} {...invalid(key)} />
        <span>{label}</span>
      </label>
      {shownErrors(key)}
    </div>
  );
  const raise = (key: "priority_on_negative" | "priority_on_urgent") => (
    <div>
      <label class="field">
        <span>{t(`routing.${key}`)}</span>
        <select value={form[key]} onChange={(e) => set(key, value(e) as PriorityChange)} {...invalid(key)}>
          {PRIORITY_CHANGES.map((p) => (
            <option key={p} value={p}>
              {p === "off" ? t("routing.leavePriority") : t(`priority.${p}`)}
            </option>
          ))}
        </select>
      </label>
      {shownErrors(key)}
    </div>
  );
  const languages = [...new Set([...CUSTOMER_LANGUAGES, ...Object.keys(form.templates), form.default_language])];
  const template = (language: string, situation: string) => form.templates[language]?.[situation] ?? "";
  const setTemplate = (language: string, situation: string, text: string) =>
    update((f) => ({ templates: { ...f.templates, [language]: { ...f.templates[language], [situation]: text } } }));
  const own = (language: string) => SITUATIONS.filter((s) => template(language, s).trim()).length;

  return (
    <section>
      <h1>{t("admin.routing")}</h1>
      <p class="muted small">{t("version", { version: saved.version })}</p>
      <form class="card form routing-form" onSubmit={(e) => void submit(e)} aria-label={t("admin.routing")}>
        <fieldset class="bare" disabled={!admin}>
          <div>
            <label class="field">
              <span>{t("routing.shopName")}</span>
              <input value={form.shop_name} maxLength={100} onInput={(e) => set("shop_name", value(e))} {...invalid("shop_name")} />
            </label>
            <p class="muted small">{t("routing.shopNameHint")}</p>
            {shownErrors("shop_name")}
          </div>

          <fieldset>
            <legend>{t("routing.where")}</legend>
            <div>
              <label class="field">
                <span>{t("routing.defaultTeam")}</span>
                {teamSelect(form.default_team, (team) => set("default_team", team), "default_team", t("routing.defaultTeam"))}
              </label>
              {shownErrors("default_team")}
            </div>
            <fieldset>
              <legend>{t("routing.byChannel")}</legend>
              <p class="muted small">{t("routing.byChannelHint")}</p>
              {channelRows(form).map((channel) => {
                const at = `team_by_channel.${channel}`;
                return (
                  <div key={channel} class="routing-row">
                    <label class="field inline">
                      <span>{channelName(channel, t)}</span>
                      {teamSelect(
                        form.team_by_channel[channel] ?? "",
                        (team) => update((f) => ({ team_by_channel: { ...f.team_by_channel, [channel]: team } })),
                        at,
                        `${t("routing.byChannel")}: ${channelName(channel, t)}`,
                        t("routing.theDefaultTeam"),
                      )}
                    </label>
                    {shownErrors(at)}
                  </div>
                );
              })}
              {shownErrors("team_by_channel")}
            </fieldset>
            <fieldset>
              <legend>{t("routing.byLabel")}</legend>
              <p class="muted small">{t("routing.byLabelHint")}</p>
              <datalist id="routing-labels">
                {labels.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </datalist>
              {form.team_by_label.map((row, i) => {
                const at = `team_by_label.${row.label.trim()}`;
                const change = (next: Partial<typeof row>) =>
                  update((f) => ({ team_by_label: f.team_by_label.map((r, j) => (j === i ? { ...r, ...next } : r)) }));
                return (
                  <div key={i} class="routing-row">
                    <label class="field inline">
                      <span>{t("routing.label")}</span>
                      <input
                        value={row.label}
                        list="routing-labels"
                        pattern="[a-z0-9][a-z0-9_\-]{0,63}"
                        title={t("idHint")}
                        onInput={(e) => change({ label: value(e) })}
                        {...invalid(at)}
                      />
                    </label>
                    <label class="field inline">
                      <span>{t("team")}</span>
                      {teamSelect(row.team, (team) => change({ team }), at, `${t("team")}: ${row.label || i + 1}`, t("none"))}
                    </label>
                    <button
                      type="button"
                      class="btn btn-small"
                      aria-label={t("routing.removeRow", { name: row.label || String(i + 1) })}
                      onClick={() => update((f) => ({ team_by_label: f.team_by_label.filter((_, j) => j !== i) }))}
                    >
                      ×
                    </button>
                    {shownErrors(at)}
                  </div>
                );
              })}
              <button type="button" class="btn btn-small" onClick={() => update((f) => ({ team_by_label: [...f.team_by_label, { label: "", team: "" }] }))}>
                + {t("routing.addLabel")}
              </button>
              {shownErrors("team_by_label")}
            </fieldset>
          </fieldset>

          <div>
            <label class="field">
              <span>{t("routing.defaultLanguage")}</span>
              <select value={form.default_language} onChange={(e) => set("default_language", value(e))} {...invalid("default_language")}>
                {[...new Set([...CUSTOMER_LANGUAGES, form.default_language])].map((l) => (
                  <option key={l} value={l}>
                    {languageName(l, locale)}
                  </option>
                ))}
              </select>
            </label>
            <p class="muted small">{t("routing.defaultLanguageHint")}</p>
            {shownErrors("default_language")}
          </div>

          <fieldset>
            <legend>{t("routing.acknowledgements")}</legend>
            {toggle("acknowledgements", t("routing.acknowledgementsOn"))}
            {number("burst_minutes", "acknowledgement_burst_seconds", t("routing.burstMinutes"), 0, 1440, t("routing.burstHint"))}
            <p class="muted small" id="routing-eta-hint">
              {t("routing.templatesHint")}
            </p>
            {languages.map((language) => (
              <details key={language} open={SITUATIONS.some((s) => errors.has(`acknowledgement_templates.${language}.${s}`))}>
                <summary>
                  {languageName(language, locale)}
                  {own(language) > 0 && <span class="muted small"> · {counted(t, locale, "routing.ownTexts", own(language))}</span>}
                </summary>
                {SITUATIONS.map((situation) => {
                  const at = `acknowledgement_templates.${language}.${situation}`;
                  const wrong = errors.get(at);
                  return (
                    <div key={situation}>
                      <label class="field">
                        <span>{t(`routing.situation.${situation}`)}</span>
                        <textarea
                          rows={2}
                          maxLength={640}
                          value={template(language, situation)}
                          placeholder={SHIPPED_ACKNOWLEDGEMENTS[language]?.[situation] ?? ""}
                          onInput={(e) => setTemplate(language, situation, value(e))}
                          aria-invalid={wrong?.length ? true : undefined}
                          aria-describedby={wrong?.length ? `${errorId(at)} routing-eta-hint` : "routing-eta-hint"}
                        />
                      </label>
                      {shownErrors(at)}
                    </div>
                  );
                })}
              </details>
            ))}
            {shownErrors("acknowledgement_templates")}
          </fieldset>

          <fieldset>
            <legend>{t("routing.skills")}</legend>
            <p class="muted small">{t("routing.skillsHint")}</p>
            {form.skill_keywords.map((row, i) => {
              const at = `skill_keywords.${row.skill.trim()}`;
              const change = (next: Partial<typeof row>) =>
                update((f) => ({ skill_keywords: f.skill_keywords.map((r, j) => (j === i ? { ...r, ...next } : r)) }));
              return (
                <div key={i} class="routing-row">
                  <label class="field inline">
                    <span>{t("routing.skill")}</span>
                    <input
                      value={row.skill}
                      pattern="[a-z0-9][a-z0-9_\-]{0,63}"
                      title={t("idHint")}
                      onInput={(e) => change({ skill: value(e) })}
                      {...invalid(at)}
                    />
                  </label>
                  <label class="field inline">
                    <span>{t("routing.words")}</span>
                    <input value={row.words} onInput={(e) => change({ words: value(e) })} {...invalid(at)} />
                  </label>
                  <button
                    type="button"
                    class="btn btn-small"
                    aria-label={t("routing.removeRow", { name: row.skill || String(i + 1) })}
                    onClick={() => update((f) => ({ skill_keywords: f.skill_keywords.filter((_, j) => j !== i) }))}
                  >
                    ×
                  </button>
                  {shownErrors(at)}
                </div>
              );
            })}
            <button type="button" class="btn btn-small" onClick={() => update((f) => ({ skill_keywords: [...f.skill_keywords, { skill: "", words: "" }] }))}>
              + {t("routing.addSkill")}
            </button>
            {shownErrors("skill_keywords")}
          </fieldset>

          <fieldset>
            <legend>{t("routing.assignment")}</legend>
            {number("sticky_days", "sticky_days", t("routing.stickyDays"), 0, 365, t("routing.stickyDaysHint"))}
            {number("offline_grace_minutes", "offline_grace_seconds", t("routing.offlineGraceMinutes"), 0, 1440)}
            {number("silence_minutes", "reassign_after_silence_seconds", t("routing.silenceMinutes"), 0, 10080, t("routing.silenceHint"), true)}
            {toggle("reassign_on_breach", t("routing.reassignOnBreach"))}
            {number("handle_minutes", "average_handle_seconds", t("routing.handleMinutes"), 0.5, 1440, t("routing.handleHint"))}
          </fieldset>

          <fieldset>
            <legend>{t("routing.priority")}</legend>
            {raise("priority_on_negative")}
            {raise("priority_on_urgent")}
          </fieldset>

          {toggle("transcript_on_resolve", t("routing.transcriptOnResolve"))}
          {shownErrors("")}
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
