import { useEffect, useState } from "preact/hooks";
import { type AdminAgent, type Calendar, type Customer, type MaxRole, type SlaPolicy, type Team } from "../api";
import type { Versioned } from "../api-types/admin";
import { calendarFromForm, holidaysText, listOf, WEEKDAYS, windowsText } from "../adminForms";
import { identityKind } from "../channels";
import { isAdmin, isSupervisor, useApp } from "../context";
import { agentLabel, agentName, formatFull, teamNames } from "../format";
import type { MessageKey } from "../i18n";
import { useStore } from "../store";
import { changedMeanwhile, problemWords } from "../problems";
import { BotAdmin } from "./BotAdmin";
import { CannedAdmin } from "./CannedAdmin";
import { CsatAdmin } from "./CsatAdmin";
import { KbAdmin } from "./KbAdmin";
import { LabelsAdmin } from "./LabelsAdmin";
import { MacrosAdmin } from "./MacrosAdmin";
import { AuditAdmin, PrivacyAdmin, PrivacySettingsAdmin } from "./PrivacyAdmin";
import { PrivacyLink } from "./PrivacyLink";
import { RoutingAdmin } from "./RoutingAdmin";
import { DEFAULT_TEAM, routedTeams } from "../routingSettings";
import { TeamChecks } from "./TeamChecks";
import { Said } from "./Said";
import { useChosen } from "../useChosen";

/** Ids the browser checks before saving. A team's is the API's own pattern. A calendar's or a policy's travels in the
 * path: one with a space or an accent came back encoded, differing from the body's, and the refusal (a 409) was
 * shown as "someone changed this meanwhile". */
export const TEAM_ID = "[a-z0-9][a-z0-9_\\-]{0,63}";
export const CONFIG_ID = "[A-Za-z0-9][A-Za-z0-9_\\-]{0,127}";

/** Every agent's own tools; the rest are for supervisors and admins. */
const PERSONAL: { id: string; label: MessageKey }[] = [
  { id: "my-canned", label: "admin.myCanned" },
  { id: "my-macros", label: "admin.myMacros" },
];
const SECTIONS: { id: string; label: MessageKey }[] = [
  { id: "agents", label: "admin.agents" },
  { id: "teams", label: "admin.teams" },
  { id: "calendars", label: "admin.calendars" },
  { id: "policies", label: "admin.policies" },
  { id: "routing", label: "admin.routing" },
  { id: "customers", label: "admin.customers" },
  { id: "labels", label: "admin.labels" },
  { id: "canned", label: "admin.canned" },
  { id: "macros", label: "admin.macros" },
  { id: "kb", label: "admin.kb" },
  { id: "bot", label: "admin.bot" },
  { id: "csat", label: "admin.csat" },
];
/** Trust and privacy: the audit trail, customers' export and erase, retention and masking (admins only). */
const ADMIN_ONLY: { id: string; label: MessageKey }[] = [
  { id: "audit", label: "admin.audit" },
  { id: "privacy", label: "admin.privacy" },
  { id: "privacy-settings", label: "admin.privacySettings" },
];

/** Every admin API setting, with the API's validation messages and version conflicts in words. */
export function AdminPages({ section, item }: { section: string; item?: string }) {
  const { t, navigate, who } = useApp();
  const supervisor = isSupervisor(who);
  const sections = supervisor ? [...SECTIONS, ...(isAdmin(who) ? ADMIN_ONLY : []), ...PERSONAL] : PERSONAL;
  if (!sections.some((s) => s.id === section)) {
    // a page that exists for others is refused; one that exists for nobody is said not to exist
    const exists = [...SECTIONS, ...ADMIN_ONLY, ...PERSONAL].some((s) => s.id === section);
    return <p>{t(exists ? "notAllowed" : "noSuchPage")}</p>;
  }
  return (
    <div class="admin">
      <nav class="admin-nav" aria-label={t("settings")}>
        {sections.map((s) => (
          <a
            key={s.id}
            href={`/settings/${s.id}`}
            aria-current={section === s.id ? "page" : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/settings/${s.id}`);
            }}
          >
            {t(s.label)}
          </a>
        ))}
      </nav>
      <div class="admin-body">
        {section === "agents" && <AgentsAdmin />}
        {section === "teams" && <TeamsAdmin />}
        {section === "calendars" && <CalendarsAdmin />}
        {section === "policies" && <PoliciesAdmin />}
        {section === "routing" && <RoutingAdmin />}
        {section === "customers" && <CustomersAdmin />}
        {section === "labels" && <LabelsAdmin />}
        {section === "canned" && <CannedAdmin scope="shared" />}
        {section === "macros" && <MacrosAdmin scope="shared" />}
        {section === "kb" && <KbAdmin />}
        {section === "bot" && <BotAdmin />}
        {section === "csat" && <CsatAdmin />}
        {section === "audit" && <AuditAdmin />}
        {section === "privacy" && <PrivacyAdmin key={item} customerId={item} />}
        {section === "privacy-settings" && <PrivacySettingsAdmin />}
        {section === "my-canned" && <CannedAdmin scope="personal" />}
        {section === "my-macros" && <MacrosAdmin scope="personal" />}
      </div>
    </div>
  );
}

/** Save; a 409 says someone changed it meanwhile: show that and load the latest version. */
function useSaver(reload: () => Promise<void>) {
  const { store, t } = useApp();
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const save = async (action: () => Promise<unknown>, done?: string) => {
    setMessage(null);
    try {
      await action();
      setMessage({ kind: "ok", text: done ?? t("saved") });
      await reload();
      return true;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const named = problemWords(error, t); // a refusal the API names (an id taken by another): its own words
      if (changedMeanwhile(error)) {
        setMessage({ kind: "error", text: t("conflict") }); // in the admin's words only, not the API's English
        await reload();
      } else if (named) setMessage({ kind: "error", text: named });
      else {
        setMessage({ kind: "error", text: t("error", { detail }) });
      }
      return false;
    }
  };
  const shown = <Said message={message} />;
  return { save, shown, store };
}

/** The items, how to load them again, and whether they have arrived (an empty state waits for them). */
function useList<T>(load: () => Promise<{ items: T[] }>): [T[], () => Promise<void>, boolean] {
  const { store } = useApp();
  const [items, setItems] = useState<T[] | null>(null);
  const reload = async () => {
    await store.run(async () => setItems((await load()).items));
  };
  useEffect(() => {
    void reload();
  }, []);
  return [items ?? [], reload, items !== null];
}

const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/** What an edit form shows: a new item (""), or one item at one version. */
const versionKey = (item: { id: string; version: number } | null) => (item ? `${item.id}@${item.version}` : "");

function AgentsAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who); // a supervisor reads an agent's settings: Show, not Edit
  const [agents, reload] = useList<AdminAgent>(() => store.api.adminAgents());
  const { teams } = useStore(store);
  const [editing, setEditing] = useState<AdminAgent | null>(null);
  // the agent being edited as last loaded: after a save, or a refusal because someone saved meanwhile, the form shows
  // that version's settings and saves over it
  const latest = editing && (agents.find((a) => a.id === editing.id) ?? editing);
  // each agent by name, else their work email, else "Unnamed agent" (agentLabel), as the inbox names them; their
  // sign-in id (what the audit trail's actor filter takes) on hover and in their form, never in their place
  const label = (a: AdminAgent) => agentLabel(a, t("unnamedAgent"));
  return (
    <section>
      <h1>{t("admin.agents")}</h1>
      <table>
        <thead>
          <tr>
            <th scope="col">{t("name")}</th>
            <th scope="col">{t("agent.email")}</th>
            <th scope="col">{t("capacity")}</th>
            <th scope="col">{t("team")}</th>
            <th scope="col">{t("presence")}</th>
            <th scope="col">{t("agent.maxRole")}</th>
            <th scope="col">
              <span class="visually-hidden">{t("actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.id}>
              <td title={a.id}>{label(a)}</td>
              <td>{a.email}</td>
              <td>
                {a.active}/{a.capacity}
              </td>
              <td>{teamNames(teams, a.teams)}</td>
              <td>{a.deactivated_at ? <span class="chip load-over">{t("agent.offDesk")}</span> : t(`presence.${a.presence}`)}</td>
              <td>{t(`agent.maxRole.${a.max_role ?? "admin"}`)}</td>
              <td>
                {admin ? (
                  <button class="btn btn-small" onClick={() => setEditing(a)} aria-label={`${t("edit")}: ${label(a)}`}>
                    ✎
                  </button>
                ) : (
                  <button class="btn btn-small" onClick={() => setEditing(a)} aria-label={`${t("show")}: ${label(a)}`}>
                    {t("show")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {latest && <AgentForm key={latest.id} agent={latest} agents={agents} reload={reload} />}
    </section>
  );
}

function AgentForm({ agent, agents, reload }: { agent: AdminAgent; agents: readonly AdminAgent[]; reload: () => Promise<void> }) {
  const { t, who } = useApp();
  const admin = isAdmin(who); // supervisors read the settings; only admins change them
  const { save, shown, store } = useSaver(reload);
  const [name, setName] = useState(agent.name ?? "");
  const [capacity, setCapacity] = useState(String(agent.capacity));
  const [teams, setTeams] = useState<string[]>(agent.teams);
  const [skills, setSkills] = useState(agent.skills.join(", "));
  const [languages, setLanguages] = useState(agent.languages.join(", "));
  // another version of the settings loaded (after a save, or a refusal because someone saved meanwhile): its values
  useChosen(agent.settings_version, () => {
    setName(agent.name ?? "");
    setCapacity(String(agent.capacity));
    setTeams(agent.teams);
    setSkills(agent.skills.join(", "));
    setLanguages(agent.languages.join(", "));
  });
  const submit = (e: Event) => {
    e.preventDefault();
    void save(() =>
      store.api.setAgent(
        agent.id,
        { name: name.trim() || null, capacity: Number(capacity), teams, skills: listOf(skills), languages: listOf(languages) },
        agent.settings_version,
      ),
    );
  };
  return (
    <form class="card form" onSubmit={submit} aria-label={agentLabel(agent, t("unnamedAgent"))}>
      <h2>{agentLabel(agent, t("unnamedAgent"))}</h2>
      <p class="muted small">
        {agent.email && <>{agent.email} · </>}
        {t("id")}: {agent.id}
      </p>
      <fieldset class="bare" disabled={!admin}>
        <label class="field">
          <span>{t("name")}</span>
          <input value={name} onInput={text(setName)} />
        </label>
        <label class="field">
          <span>{t("capacity")}</span>
          <input type="number" min={0} max={100} value={capacity} onInput={text(setCapacity)} />
        </label>
        <TeamChecks legend={t("teams")} chosen={teams} onChange={setTeams} />
        <label class="field">
          <span>{t("skills")}</span>
          <input value={skills} onInput={text(setSkills)} />
        </label>
        <label class="field">
          <span>{t("languages")}</span>
          <input value={languages} onInput={text(setLanguages)} />
        </label>
        {admin && (
          <button class="btn btn-primary" type="submit">
            {t("save")}
          </button>
        )}
      </fieldset>
      {admin && <RoleAtMost agent={agent} save={save} />}
      {admin && <OnDesk agent={agent} agents={agents} save={save} />}
      {shown}
    </form>
  );
}

/** The roles an admin may cap an agent's at, highest first. "admin" caps nothing: a record never raises a role, so the
 *  agent uses their sign-in's (as with none set; the API has no way back to none). */
const MAX_ROLES: readonly MaxRole[] = ["admin", "supervisor", "agent"];

/** The highest role an agent may use, whatever their sign-in's groups: from their next request, never above what
 *  their sign-in gives. A refusal (409 demoting_self: one's own; 409 last_admin: one's own lowered meanwhile; 403, 404,
 *  422) is the form's message. */
function RoleAtMost({ agent, save }: { agent: AdminAgent; save: (action: () => Promise<unknown>, done?: string) => Promise<boolean> }) {
  const { store, t } = useApp();
  const [role, setRole] = useState<MaxRole>(agent.max_role ?? "admin");
  useChosen(agent.settings_version, () => setRole(agent.max_role ?? "admin")); // as saved, after a save
  return (
    <div>
      <label class="field">
        <span>{t("agent.maxRole")}</span>
        <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as MaxRole)}>
          {MAX_ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`agent.maxRole.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <p class="muted small">{t("agent.maxRoleHelp")}</p>
      <button class="btn" type="button" onClick={() => void save(() => store.api.setMaxRole(agent.id, role))}>
        {t("agent.setMaxRole")}
      </button>
    </div>
  );
}

/** Taking an agent off the desk (they left the shop), after saying what it does; or putting them back. */
function OnDesk({
  agent,
  agents,
  save,
}: {
  agent: AdminAgent;
  agents: readonly AdminAgent[];
  save: (action: () => Promise<unknown>, done?: string) => Promise<boolean>;
}) {
  const { store, t, locale, timeZone } = useApp();
  const [sure, setSure] = useState(false);
  const who = agentLabel(agent, t("unnamedAgent"));
  if (agent.deactivated_at) {
    return (
      <p class="on-desk">
        <span class="muted small">
          {t("agent.offDeskSince", { at: formatFull(agent.deactivated_at, locale, timeZone), by: agent.deactivated_by ? agentName(agents, agent.deactivated_by, t("unnamedAgent")) : "?" })}
        </span>{" "}
        <button class="btn" type="button" onClick={() => void save(() => store.api.setAgentOnDesk(agent.id, true), t("agent.backOnDesk", { name: who }))}>
          {t("agent.putBack")}
        </button>
      </p>
    );
  }
  return (
    <p class="on-desk">
      {!sure ? (
        <button class="btn" type="button" onClick={() => setSure(true)}>
          {t("agent.takeOff")}
        </button>
      ) : (
        <>
          <span role="note">{t("agent.takeOffWhat", { name: who })}</span>{" "}
          <button
            class="btn btn-danger"
            type="button"
            onClick={() => void save(() => store.api.setAgentOnDesk(agent.id, false), t("agent.tookOff", { name: who })).then(() => setSure(false))}
          >
            {t("agent.takeOffConfirm", { name: who })}
          </button>{" "}
          <button class="btn" type="button" onClick={() => setSure(false)}>
            {t("cancel")}
          </button>
        </>
      )}
    </p>
  );
}

function TeamsAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [teams, reload, loaded] = useList<Versioned<Team>>(() => store.api.teams());
  // where routing sends conversations: to a team whether or not it is defined here (the default one needs no definition)
  const [routed, setRouted] = useState<string[] | null>(null);
  useEffect(() => {
    // optional: unread, the page names the default team
    Promise.resolve()
      .then(() => store.api.routing())
      .then((r) => setRouted(routedTeams(r)))
      .catch(() => undefined);
  }, []);
  // with none defined, the first (the default team) is said by the words for no team
  const undefinedTeams = (routed ?? []).filter((id) => !teams.some((x) => x.id === id)).slice(teams.length ? 0 : 1);
  const [editing, setEditing] = useState<Versioned<Team> | null>(null);
  const { save, shown } = useSaver(async () => {
    await reload();
    void store.loadTeams(); // the inbox's names follow (once the agent API's minute-long cache has)
  });
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  useChosen(editing, (editing) => {
    setId(editing?.id ?? "");
    setName(editing?.name ?? "");
    setDescription(editing?.description ?? "");
  });
  const submit = (e: Event) => {
    e.preventDefault();
    void save(() => store.api.putTeam({ id: id.trim(), name: name.trim(), description: description.trim() || null }, editing?.version));
  };
  // the team picked, as the list last loaded it (a save moves its version: the delete is of the version shown)
  const fresh = editing ? teams.find((x) => x.id === editing.id) ?? editing : null;
  const remove = (gone: Versioned<Team>) => save(() => store.api.deleteTeam(gone.id, gone.version), t("tools.deleted", { name: gone.name }));
  return (
    <section>
      <h1>{t("admin.teams")}</h1>
      {loaded && !teams.length && <p class="muted">{t("teams.empty", { team: routed?.[0] ?? DEFAULT_TEAM })}</p>}
      {loaded && undefinedTeams.length > 0 && (
        <p class="muted">{t("teams.undefined", { teams: undefinedTeams.join(", ") })}</p>
      )}
      <ul class="plain pick">
        {teams.map((x) => (
          <li key={x.id}>
            <button class="btn btn-small" onClick={() => setEditing(x)}>
              {x.name} ({x.id})
            </button>{" "}
            <span class="muted small">{t("version", { version: x.version })}</span>
          </li>
        ))}
        {admin && (
          <li>
            <button class="btn btn-small" onClick={() => setEditing(null)}>
              + {t("newItem")}
            </button>
          </li>
        )}
      </ul>
      <form class="card form" onSubmit={submit} aria-label={t("admin.teams")}>
        <fieldset class="bare" disabled={!admin}>
          <label class="field">
            <span>{t("id")}</span>
            <input value={id} onInput={text(setId)} readOnly={!!editing} required pattern={TEAM_ID} title={t("idHint")} />
          </label>
          <label class="field">
            <span>{t("name")}</span>
            <input value={name} onInput={text(setName)} required />
          </label>
          <label class="field">
            <span>{t("description")}</span>
            <input value={description} onInput={text(setDescription)} />
          </label>
          {admin && (
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          )}{" "}
          {fresh && admin && (
            <DeleteTwice
              key={fresh.id}
              label={t("teams.delete")}
              confirm={t("teams.deleteConfirm", { name: fresh.name })}
              onDelete={() => remove(fresh).then((ok) => ok && setEditing(null))}
            />
          )}
        </fieldset>
        {shown}
      </form>
    </section>
  );
}

function CalendarsAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [calendars, reload, loaded] = useList<Calendar>(() => store.api.calendars());
  const [editing, setEditing] = useState<Calendar | null>(null);
  const { save, shown } = useSaver(async () => {
    await reload();
  });
  const [id, setId] = useState("");
  const [zone, setZone] = useState("UTC");
  const [days, setDays] = useState<Record<string, string>>({});
  const [holidays, setHolidays] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  // the calendar picked, as the list last loaded it: the form follows it when another is picked or its version
  // moves (a save, a conflict's reload), never when the list merely loads (that wiped what was being typed)
  const fresh = editing ? calendars.find((c) => c.id === editing.id) ?? editing : null;
  useEffect(() => {
    setId(fresh?.id ?? "");
    setZone(fresh?.time_zone ?? "UTC");
    setDays(Object.fromEntries(WEEKDAYS.map((d) => [d, windowsText(fresh?.weekly[d])])));
    setHolidays(holidaysText(fresh?.holidays));
  }, [versionKey(fresh)]);
  const submit = (e: Event) => {
    e.preventDefault();
    setFormError(null);
    let body;
    try {
      body = calendarFromForm(zone, days, holidays);
    } catch (error) {
      setFormError(error instanceof Error ? error.message : String(error));
      return;
    }
    let stored: Calendar | undefined;
    void save(async () => {
      stored = await store.api.putCalendar(id.trim(), body, fresh?.version);
    }).then((ok) => ok && stored && setEditing(stored));
  };
  const remove = (gone: Calendar) => save(() => store.api.deleteCalendar(gone.id, gone.version), t("tools.deleted", { name: gone.id }));
  return (
    <section>
      <h1>{t("admin.calendars")}</h1>
      {loaded && !calendars.length && <p class="muted">{t("calendars.empty")}</p>}
      <ul class="plain pick">
        {calendars.map((c) => (
          <li key={c.id}>
            <button class="btn btn-small" onClick={() => setEditing(c)}>
              {c.id} ({c.time_zone})
            </button>{" "}
            <span class="muted small">{t("version", { version: c.version })}</span>
          </li>
        ))}
        {admin && (
          <li>
            <button class="btn btn-small" onClick={() => setEditing(null)}>
              + {t("newItem")}
            </button>
          </li>
        )}
      </ul>
      <form class="card form" onSubmit={submit} aria-label={t("calendar")}>
        <fieldset class="bare" disabled={!admin}>
          <label class="field">
            <span>{t("id")}</span>
            <input value={id} onInput={text(setId)} readOnly={!!editing} required pattern={CONFIG_ID} title={t("idHint")} />
          </label>
          <label class="field">
            <span>{t("timeZone")}</span>
            <input value={zone} onInput={text(setZone)} required />
          </label>
          <fieldset>
            <legend>{t("weekly")}</legend>
            <p class="muted small">{t("windowsHelp")}</p>
            {WEEKDAYS.map((d) => (
              <label class="field" key={d}>
                <span>{t(`day.${d}`)}</span>
                <input value={days[d] ?? ""} onInput={(e) => setDays({ ...days, [d]: (e.target as HTMLInputElement).value })} />
              </label>
            ))}
          </fieldset>
          <label class="field">
            <span>{t("holidays")}</span>
            <textarea rows={3} value={holidays} onInput={text(setHolidays)} />
          </label>
          {admin && (
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          )}{" "}
          {fresh && admin && (
            <DeleteTwice
              key={fresh.id}
              label={t("calendars.delete")}
              confirm={t("calendars.deleteConfirm", { name: fresh.id })}
              onDelete={() => remove(fresh).then((ok) => ok && setEditing(null))}
            />
          )}
        </fieldset>
        {formError && (
          <p role="alert" class="error">
            {formError}
          </p>
        )}
        {shown}
      </form>
    </section>
  );
}

/** A delete asked twice: the first button, then one naming what goes for good (and Cancel). A refusal (what still
 *  uses it) is the page's message, in the admin's words. */
function DeleteTwice({ label, confirm, onDelete }: { label: string; confirm: string; onDelete: () => Promise<unknown> }) {
  const { t } = useApp();
  const [sure, setSure] = useState(false);
  if (!sure)
    return (
      <button class="btn" type="button" onClick={() => setSure(true)}>
        {label}
      </button>
    );
  return (
    <span role="group" aria-label={label}>
      <button class="btn btn-danger" type="button" onClick={() => void onDelete().finally(() => setSure(false))}>
        {confirm}
      </button>{" "}
      <button class="btn" type="button" onClick={() => setSure(false)}>
        {t("cancel")}
      </button>
    </span>
  );
}

const PRIORITIES = ["urgent", "high", "normal", "low"] as const;
const TARGETS = ["first_response", "next_response", "resolution"] as const;

function PoliciesAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [policies, reload, loaded] = useList<Versioned<SlaPolicy>>(() => store.api.policies());
  const [calendars, setCalendars] = useState<Calendar[]>([]);
  useEffect(() => {
    void store.api.calendars().then((c) => setCalendars(c.items), () => undefined);
  }, []);
  const [editing, setEditing] = useState<Versioned<SlaPolicy> | null>(null);
  const { save, shown } = useSaver(reload);
  const blank: SlaPolicy = { id: "", name: "", targets: {}, calendar_id: null, warning_fraction: 0.8, applies_to: {}, rank: 0 };
  const [p, setP] = useState<SlaPolicy>(blank);
  const [minutes, setMinutes] = useState<Record<string, string>>({});
  const [applies, setApplies] = useState({ channels: "", tiers: "" });
  const [appliesTeams, setAppliesTeams] = useState<string[]>([]);
  const fresh = editing ? policies.find((x) => x.id === editing.id) ?? editing : null;
  useEffect(() => {
    setP(fresh ?? blank);
    const m: Record<string, string> = {};
    for (const pr of PRIORITIES)
      for (const tg of TARGETS) {
        const v = fresh?.targets[pr]?.[tg];
        m[`${pr}.${tg}`] = v ? String(Math.round(v / 60)) : "";
      }
    setMinutes(m);
    setApplies({
      channels: (fresh?.applies_to.channels ?? []).join(", "),
      tiers: (fresh?.applies_to.tiers ?? []).join(", "),
    });
    setAppliesTeams(fresh?.applies_to.teams ?? []);
  }, [versionKey(fresh)]); // as calendars: a list load never wipes a policy being typed
  const submit = (e: Event) => {
    e.preventDefault();
    const targets: SlaPolicy["targets"] = {};
    for (const pr of PRIORITIES) {
      const row: Record<string, number> = {};
      for (const tg of TARGETS) {
        const v = minutes[`${pr}.${tg}`];
        if (v) row[tg] = Math.round(Number(v) * 60);
      }
      if (Object.keys(row).length) targets[pr] = row;
    }
    const orNull = (s: string) => (listOf(s).length ? listOf(s) : null);
    // the policy as the list read it, without its version (sent as ?version=): the API refuses a field it does not
    // know (422)
    const { version: _read, ...policy } = p as Versioned<SlaPolicy>;
    const body: SlaPolicy = {
      ...policy,
      id: p.id.trim(),
      targets,
      calendar_id: p.calendar_id || null,
      applies_to: { channels: orNull(applies.channels), tiers: orNull(applies.tiers),
                    teams: appliesTeams.length ? appliesTeams : null },
    };
    let stored: Versioned<SlaPolicy> | undefined;
    void save(async () => {
      stored = await store.api.putPolicy(body, fresh?.version);
    }).then((ok) => ok && stored && setEditing(stored));
  };
  // Deleting asks twice, naming the policy; it deletes the version shown (a 409 if someone changed it meanwhile).
  const [sure, setSure] = useState(false);
  useEffect(() => setSure(false), [fresh?.id]);
  const remove = (gone: Versioned<SlaPolicy>) =>
    void save(() => store.api.deletePolicy(gone.id, gone.version), t("tools.deleted", { name: gone.name })).then((ok) => {
      setSure(false);
      if (ok) setEditing(null);
    });
  return (
    <section>
      <h1>{t("admin.policies")}</h1>
      {loaded && !policies.length && <p class="muted">{t("policies.empty")}</p>}
      <ul class="plain pick">
        {policies.map((x) => (
          <li key={x.id}>
            <button class="btn btn-small" onClick={() => setEditing(x)}>
              {x.name} ({x.id})
            </button>{" "}
            <span class="muted small">{t("version", { version: x.version })}</span>
          </li>
        ))}
        {admin && (
          <li>
            <button class="btn btn-small" onClick={() => setEditing(null)}>
              + {t("newItem")}
            </button>
          </li>
        )}
      </ul>
      <form class="card form" onSubmit={submit} aria-label={t("admin.policies")}>
        <fieldset class="bare" disabled={!admin}>
          <label class="field">
            <span>{t("id")}</span>
            <input
              value={p.id}
              onInput={(e) => setP({ ...p, id: (e.target as HTMLInputElement).value })}
              readOnly={!!editing}
              required
              pattern={CONFIG_ID}
              title={t("idHint")}
            />
          </label>
          <label class="field">
            <span>{t("name")}</span>
            <input value={p.name} onInput={(e) => setP({ ...p, name: (e.target as HTMLInputElement).value })} required />
          </label>
          <label class="field">
            <span>{t("calendar")}</span>
            <select value={p.calendar_id ?? ""} onChange={(e) => setP({ ...p, calendar_id: (e.target as HTMLSelectElement).value || null })}>
              <option value="">{t("none")}</option>
              {calendars.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.id}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t("warningFraction")}</span>
            <input
              type="number"
              step="0.05"
              value={p.warning_fraction}
              onInput={(e) => setP({ ...p, warning_fraction: Number((e.target as HTMLInputElement).value) })}
            />
          </label>
          <fieldset>
            <legend>{t("targetsMinutes")}</legend>
            <div class="target-row target-head" aria-hidden="true">
              <span />
              {TARGETS.map((tg) => (
                <span key={tg}>{t(`sla.${tg}`)}</span>
              ))}
            </div>
            {PRIORITIES.map((pr) => (
              <div class="target-row" key={pr}>
                <span>{t(`priority.${pr}`)}</span>
                {TARGETS.map((tg) => (
                  <input
                    key={tg}
                    type="number"
                    min={1}
                    aria-label={`${t(`priority.${pr}`)}: ${t(`sla.${tg}`)}`}
                    value={minutes[`${pr}.${tg}`] ?? ""}
                    onInput={(e) => setMinutes({ ...minutes, [`${pr}.${tg}`]: (e.target as HTMLInputElement).value })}
                  />
                ))}
              </div>
            ))}
          </fieldset>
          <fieldset>
            <legend>{t("appliesTo")}</legend>
            {(["channels", "tiers"] as const).map((k) => (
              <label class="field" key={k}>
                <span>{t(`appliesTo.${k}`)}</span>
                <input value={applies[k]} onInput={(e) => setApplies({ ...applies, [k]: (e.target as HTMLInputElement).value })} />
              </label>
            ))}
            <TeamChecks legend={t("appliesTo.teams")} chosen={appliesTeams} onChange={setAppliesTeams} />
          </fieldset>
          <label class="field">
            <span>{t("rank")}</span>
            <input type="number" value={p.rank} onInput={(e) => setP({ ...p, rank: Number((e.target as HTMLInputElement).value) })} />
          </label>
          {Object.values(minutes).every((v) => !v) && (
            <p class="muted small" role="note">
              {t(!listOf(applies.channels).length && !listOf(applies.tiers).length && !appliesTeams.length ? "policies.noTargetsAll" : "policies.noTargets")}
            </p>
          )}
          {Object.values(minutes).some((v) => v) && PRIORITIES.some((pr) => TARGETS.every((tg) => !minutes[`${pr}.${tg}`])) && (
            <p class="muted small" role="note">
              {t("policies.someEmpty")}
            </p>
          )}
          {admin && (
            <button class="btn btn-primary" type="submit">
              {t("save")}
            </button>
          )}{" "}
          {fresh && admin && !sure && (
            <button class="btn" type="button" onClick={() => setSure(true)}>
              {t("policies.delete")}
            </button>
          )}
          {fresh && admin && sure && (
            <span role="group" aria-label={t("policies.delete")}>
              <button class="btn btn-primary" type="button" onClick={() => remove(fresh)}>
                {t("policies.deleteConfirm", { name: fresh.name })}
              </button>{" "}
              <button class="btn" type="button" onClick={() => setSure(false)}>
                {t("cancel")}
              </button>
            </span>
          )}
        </fieldset>
        {shown}
      </form>
    </section>
  );
}

function CustomersAdmin() {
  const { store, t, who } = useApp();
  const admin = isAdmin(who);
  const [identity, setIdentity] = useState("");
  const [found, setFound] = useState<Customer[] | null>(null);
  const [tier, setTier] = useState("");
  const find = async (e: Event) => {
    e.preventDefault();
    const value = identity.trim();
    await store.run(async () => {
      const result = await store.api.findCustomers(value.includes("@") ? { email: value } : { phone: value });
      setFound(result.items);
      setTier(result.items[0]?.tier ?? "");
    });
  };
  const { save, shown } = useSaver(async () => {
    if (found?.[0]) {
      const again = await store.api.findCustomers(identity.includes("@") ? { email: identity.trim() } : { phone: identity.trim() });
      setFound(again.items);
    }
  });
  const customer = found?.[0];
  return (
    <section>
      <h1>{t("admin.customers")}</h1>
      <form class="card form" onSubmit={find}>
        <label class="field">
          <span>{t("findCustomer")}</span>
          <input value={identity} onInput={text(setIdentity)} placeholder="+31612345678" required />
        </label>
        <button class="btn" type="submit">
          {t("find")}
        </button>
      </form>
      {found && !customer && <p>{t("noCustomer")}</p>}
      {customer && (
        <form
          class="card form"
          onSubmit={(e) => {
            e.preventDefault();
            void save(() => store.api.setTier(customer.id, tier.trim() || null));
          }}
        >
          <h2>{customer.name || customer.id}</h2>
          <ul class="plain">
            {customer.identities.map((i) => (
              <li key={i.address}>
                <span class="muted small">{identityKind(i.kind, t)}</span> {i.address}
              </li>
            ))}
          </ul>
          <PrivacyLink customerId={customer.id} />
          <label class="field">
            <span>{t("tier")}</span>
            <input value={tier} onInput={text(setTier)} placeholder={t("noTier")} readOnly={!admin} />
          </label>
          {admin && (
            <button class="btn btn-primary" type="submit">
              {t("setTier")}
            </button>
          )}
          {shown}
        </form>
      )}
    </section>
  );
}
