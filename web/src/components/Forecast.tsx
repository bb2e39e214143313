import { useEffect, useState } from "preact/hooks";
import { ApiError, type SlaPolicy } from "../api";
import { CHANNELS, channelName } from "../channels";
import { useApp } from "../context";
import { formatNumber } from "../format";
import { counted } from "../i18n";
import {
  STAFFING_DEFAULTS,
  dailyForecast,
  dayKey,
  forecastFacts,
  forecastHour,
  policyTarget,
  staffingOf,
  staffingQuery,
  type Forecast as ForecastAnswer,
  type Staffing,
  type StaffingInputs,
} from "../reports";

const DAYS = [7, 14] as const;

/** The next days' expected conversations and the agents each hour needs beside those usually online
 *  (`GET /reports/forecast`, `GET /reports/staffing`; docs/forecast.md). Both answer 409 while the lake
 *  has less than a week of history: said in words, not as an error. `policyTeam`: the team whose SLA policy
 *  gives the first-response target (a one-team supervisor's own, when no team is picked). */
export function ForecastAndStaffing({ team, policyTeam = team }: { team?: string; policyTeam?: string } = {}) {
  const { store, t, locale, timeZone } = useApp();
  const [channel, setChannel] = useState<string>("");
  const [days, setDays] = useState<(typeof DAYS)[number]>(7);
  const [inputs, setInputs] = useState<StaffingInputs>(STAFFING_DEFAULTS);
  const [form, setForm] = useState(() => ({
    handleMinutes: String(STAFFING_DEFAULTS.handle_seconds / 60),
    targetMinutes: String(STAFFING_DEFAULTS.target_seconds / 60),
    concurrency: String(STAFFING_DEFAULTS.concurrency),
    goalPercent: String(STAFFING_DEFAULTS.goal * 100),
  }));
  const [badInputs, setBadInputs] = useState(false);
  // The first-response target starts from the shop's SLA policy for the plan's channel and team (normal priority),
  // which supervisors and admins may read; else from the API's default, said as such. `policies`: undefined while
  // read, null when they could not be. The target typed and planned (`chosenTarget`) stays whatever the scope.
  const [policies, setPolicies] = useState<SlaPolicy[] | null | undefined>(undefined);
  const [targetTyped, setTargetTyped] = useState(false);
  const [chosenTarget, setChosenTarget] = useState<number | null>(null);
  const [forecast, setForecast] = useState<ForecastAnswer | null>(null);
  const [staffing, setStaffing] = useState<Staffing | null>(null);
  const [noHistory, setNoHistory] = useState(false);

  async function load<T>(request: () => Promise<T>, done: (answer: T | null) => void): Promise<void> {
    try {
      done(await request());
      setNoHistory(false);
    } catch (error) {
      done(null);
      if (error instanceof ApiError && error.status === 409) setNoHistory(true);
      else void store.run(() => Promise.reject(error));
    }
  }

  useEffect(() => {
    let current = true;
    Promise.resolve()
      .then(() => store.api.policies())
      .then(({ items }) => current && setPolicies(items))
      .catch(() => current && setPolicies(null));
    return () => {
      current = false;
    };
  }, []);
  const fromPolicy = policies ? policyTarget(policies, { channel: channel || null, team: policyTeam }) : null;
  const startTarget = fromPolicy?.seconds ?? STAFFING_DEFAULTS.target_seconds;
  const target = chosenTarget ?? startTarget;

  const scope = { channel: channel || null, days, tz: timeZone, team };
  useEffect(() => {
    void load(() => store.api.forecast(scope), setForecast);
  }, [channel, days, timeZone, team]);
  useEffect(() => {
    if (policies === undefined) return; // the target they start it from comes first: one plan, not two
    void load(() => store.api.staffing({ ...scope, ...inputs, target_seconds: target }), setStaffing);
  }, [channel, days, timeZone, inputs, team, target, policies === undefined]);

  const shownForm = targetTyped ? form : { ...form, targetMinutes: String(startTarget / 60) };
  function plan(e: Event): void {
    e.preventDefault();
    const asked = staffingQuery(shownForm);
    setBadInputs(asked === null);
    if (!asked) return;
    setInputs(asked);
    setChosenTarget(targetTyped ? asked.target_seconds : null);
  }

  const field = (name: keyof typeof form, label: string, step: string, hint?: { id: string; text: string }) => (
    <>
      <label class="field inline">
        <span>{label}</span>
        <input
          type="number"
          step={step}
          min="0"
          value={shownForm[name]}
          aria-describedby={hint?.id}
          onInput={(e) => {
            setForm({ ...shownForm, [name]: (e.target as HTMLInputElement).value });
            if (name === "targetMinutes") setTargetTyped(true);
          }}
        />
      </label>
      {hint && (
        <span class="muted small" id={hint.id}>
          {hint.text}
        </span>
      )}
    </>
  );
  const targetHint = {
    id: "staffing-target-from",
    text: fromPolicy
      ? t("reports.targetFromPolicy", { policy: fromPolicy.policy })
      : t("reports.targetDefault", { minutes: formatNumber(STAFFING_DEFAULTS.target_seconds / 60, locale) }),
  };

  // dates and hours as the rest of the page writes them (the agent's language, the zone the forecast was asked in),
  // numbers with the language's decimal mark
  const day = (iso: string) => dayKey(iso, "day", locale, (d) => d);
  const hour = (iso: string, zone: string) => forecastHour(iso, locale, zone);
  const n = (value: number) => formatNumber(value, locale);
  const facts = forecast ? forecastFacts(forecast.items) : null;
  const perDay = forecast ? dailyForecast(forecast.items) : [];
  const staffed = staffing ? staffingOf(staffing.items) : null;
  return (
    <>
      <div class="card">
        <h2 class="card-heading" id="forecast-title">{t("reports.forecast")}</h2>
        <div class="row">
          <label class="field inline">
            <span>{t("reports.channel")}</span>
            <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
              <option value="">{t("reports.allChannels")}</option>
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {channelName(c, t)}
                </option>
              ))}
            </select>
          </label>
          <label class="field inline">
            <span>{t("reports.days")}</span>
            <select value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value) as typeof days)}>
              {DAYS.map((d) => (
                <option key={d} value={String(d)}>
                  {t("reports.daysOption", { days: d })}
                </option>
              ))}
            </select>
          </label>
        </div>
        {noHistory && (
          <p class="muted" role="status">
            {t("reports.noHistory")}
          </p>
        )}
        {forecast && facts && (
          <>
            <p id="forecast-summary">
              {facts.busiestDay && facts.busiestHour
                ? t("reports.forecastSummary", {
                    total: n(facts.total),
                    days: forecast.days,
                    weeks: forecast.history_weeks,
                    busiestDay: counted(t, locale, "reports.busiestDay", facts.busiestDays, {
                      day: day(facts.busiestDay.label),
                      value: n(facts.busiestDay.value),
                    }),
                    busiestHour: counted(t, locale, "reports.busiestHour", facts.busiestHours, {
                      hour: hour(facts.busiestHour.hour, forecast.tz),
                      value: n(facts.busiestHour.expected),
                    }),
                  })
                : t("reports.forecastQuiet", { days: forecast.days })}
            </p>
            <ul class="bars" aria-label={t("reports.forecastByDay")} aria-describedby="forecast-summary">
              {perDay.map((bar) => (
                <li key={bar.label}>
                  <span class="bar-label">{day(bar.label)}</span>
                  <span class="bar" style={{ width: `${Math.round(bar.share * 100)}%` }} aria-hidden="true" />
                  <span class="bar-value">{n(bar.value)}</span>
                </li>
              ))}
            </ul>
            <details>
              <summary>{t("reports.hourlyDetail")}</summary>
              <table aria-label={`${t("reports.forecast")} · ${t("reports.hourlyDetail")}`}>
                <thead>
                  <tr>
                    <th scope="col">{t("reports.hour")}</th>
                    <th scope="col">{t("reports.expected")}</th>
                  </tr>
                </thead>
                <tbody>
                  {forecast.items.map((h) => (
                    <tr key={h.hour}>
                      <th scope="row">{hour(h.hour, forecast.tz)}</th>
                      <td>{n(h.expected)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        )}
      </div>
      <div class="card">
        <h2 class="card-heading" id="staffing-title">{t("reports.staffing")}</h2>
        <form class="row staffing-inputs" onSubmit={plan} aria-labelledby="staffing-title">
          {field("handleMinutes", t("reports.handleMinutes"), "0.5")}
          {field("targetMinutes", t("reports.targetMinutes"), "1", policies === undefined || targetTyped ? undefined : targetHint)}
          {field("concurrency", t("reports.concurrency"), "1")}
          {field("goalPercent", t("reports.goalPercent"), "1")}
          <button type="submit" class="btn">{t("reports.plan")}</button>
        </form>
        {badInputs && (
          <p class="error" role="alert">
            {t("reports.badInputs")}
          </p>
        )}
        {noHistory && <p class="muted">{t("reports.noHistory")}</p>}
        {staffing && staffed && (
          <>
            <p id="staffing-summary">
              {staffed.rows.length === 0
                ? t("reports.staffingQuiet")
                : t("reports.staffingSummary", { short: staffed.short.length, hours: staffed.rows.length })}
            </p>
            {staffed.rows.length > 0 && (
              <table aria-labelledby="staffing-title" aria-describedby="staffing-summary">
                <thead>
                  <tr>
                    <th scope="col">{t("reports.hour")}</th>
                    <th scope="col">{t("reports.expected")}</th>
                    <th scope="col">{t("reports.needed")}</th>
                    <th scope="col">{t("reports.usuallyOnline")}</th>
                    <th scope="col">{t("reports.staffing")}</th>
                  </tr>
                </thead>
                <tbody>
                  {staffed.rows.map((h) => (
                    <tr key={h.hour} class={h.short ? "short" : undefined}>
                      <th scope="row">{hour(h.hour, staffing.tz)}</th>
                      <td>{n(h.expected)}</td>
                      <td>{n(h.agents_needed)}</td>
                      <td>{n(h.usually_online)}</td>
                      <td>
                        {h.short
                          ? t("reports.shortBy", { count: n(Math.round((h.agents_needed - h.usually_online) * 10) / 10) })
                          : t("reports.enough")}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p class="muted">{t("reports.staffingNote")}</p>
          </>
        )}
      </div>
    </>
  );
}
