import { useEffect, useState } from "preact/hooks";
import type { BotOut } from "../api";
import { changedMeanwhile, problemWords } from "../problems";
import { CHANNELS, channelName } from "../channels";
import { isAdmin, useApp } from "../context";
import { botForm, botFromForm, KB_LANGUAGES, languageName, type BotForm } from "../kb";
import { TeamChecks } from "./TeamChecks";
import { Said } from "./Said";

type Shown = { kind: "ok" | "error"; text: string };

/** The bot's settings: on or off, on which channels and teams, always or only outside business hours, how sure it
 *  must be, which language it falls back to, when an answered conversation is resolved (admins; supervisors
 *  read). Saved with the version read, so a change made meanwhile is reported, not overwritten. */
export function BotAdmin() {
  const { store, t, who, locale } = useApp();
  const admin = isAdmin(who);
  const [saved, setSaved] = useState<BotOut | null>(null);
  const [form, setForm] = useState<BotForm | null>(null);
  const [message, setMessage] = useState<Shown | null>(null);
  const reload = async () => {
    await store.run(async () => {
      const settings = await store.api.bot();
      setSaved(settings);
      setForm(botForm(settings));
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
    let body;
    try {
      body = botFromForm(form);
    } catch (error) {
      setMessage({ kind: "error", text: error instanceof Error ? error.message : String(error) });
      return;
    }
    try {
      const now = await store.api.putBot(body, saved?.version);
      setSaved(now);
      setForm(botForm(now));
      setMessage({ kind: "ok", text: t("saved") });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const conflict = changedMeanwhile(error); // said in the admin's words only, not the API's English
      setMessage({ kind: "error", text: conflict ? t("conflict") : (problemWords(error, t) ?? t("error", { detail })) });
      if (conflict) await reload();
    }
  };
  const toggle = (list: string[], value: string, on: boolean) => (on ? [...list, value] : list.filter((x) => x !== value));
  return (
    <section>
      <h1>{t("admin.bot")}</h1>
      {saved && <p class="muted small">{t("version", { version: saved.version })}</p>}
      <form class="card form bot-form" onSubmit={(e) => void submit(e)} aria-label={t("admin.bot")}>
        <fieldset disabled={!admin}>
          <label class="field inline">
            <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: (e.target as HTMLInputElement).checked })} />
            <span>{t("bot.enabled")}</span>
          </label>
          <fieldset>
            <legend>{t("bot.channels")}</legend>
            <p class="muted small">{t("bot.everyWhenNone")}</p>
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
          </fieldset>
          <TeamChecks legend={t("bot.teams")} hint={t("bot.everyWhenNone")} chosen={form.teams}
                      onChange={(teams) => setForm({ ...form, teams })} />
          <fieldset>
            <legend>{t("bot.when")}</legend>
            {(["always", "outside_business_hours"] as const).map((w) => (
              <label class="field inline" key={w}>
                <input type="radio" name="bot-when" value={w} checked={form.when === w} onChange={() => setForm({ ...form, when: w })} />
                <span>{t(`bot.when.${w}`)}</span>
              </label>
            ))}
          </fieldset>
          <label class="field">
            <span>{t("bot.threshold")}</span>
            <input
              type="number"
              min={0}
              max={100}
              step="any"
              value={form.threshold}
              placeholder={t("bot.thresholdDefault")}
              onInput={(e) => setForm({ ...form, threshold: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label class="field">
            <span>{t("bot.fallback")}</span>
            <select value={form.fallback_language} onChange={(e) => setForm({ ...form, fallback_language: (e.target as HTMLSelectElement).value })}>
              <option value="">{t("bot.fallbackNone")}</option>
              {[...new Set([...KB_LANGUAGES, ...(form.fallback_language ? [form.fallback_language] : [])])].map((l) => (
                <option key={l} value={l}>
                  {languageName(l, locale)}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t("bot.resolveAfter")}</span>
            <input
              type="number"
              min={0}
              step="any"
              value={form.resolve_after_hours}
              onInput={(e) => setForm({ ...form, resolve_after_hours: (e.target as HTMLInputElement).value })}
              required
            />
          </label>
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
