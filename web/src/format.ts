// Times in the agent's time zone and durations in words, in the interface's language.

/** "14:05" today, "Tue 14:05" this week, else "3 Dec 14:05" — in the given time zone. */
export function formatTime(iso: string, locale: string, now: Date = new Date(), timeZone?: string): string {
  const at = new Date(iso);
  const dayKey = (d: Date) => new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(d);
  const time: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", timeZone };
  if (dayKey(at) === dayKey(now)) return new Intl.DateTimeFormat(locale, time).format(at);
  const age = Math.abs(now.getTime() - at.getTime());
  if (age < 6 * 86_400_000) return new Intl.DateTimeFormat(locale, { ...time, weekday: "short" }).format(at);
  return new Intl.DateTimeFormat(locale, { ...time, day: "numeric", month: "short" }).format(at);
}

/** The full date and time, for a tooltip. */
export function formatFull(iso: string, locale: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(iso));
}

/** A duration in the two largest units: "2 h 5 min", "45 min", "3 d 4 h", "30 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  if (m) return `${m} min`;
  return `${s} s`;
}

/** A number as the agent's language writes it ("1.08", "1,08"), with at most `digits` decimals. */
export function formatNumber(value: number, locale: string, digits = 2): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/** The browser's time zone (the agent's). */
export function agentTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** A value for <input type="datetime-local">: the date in local time, to the minute. */
export function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A file's size as the providers' limits say it (decimal units): "820 B", "48 KB", "1.2 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1).replace(/\.0$/, "")} MB`;
}

type Named = { id: string; name?: string | null };

/** What people call an agent or a team: its name when the desk has one, its id otherwise (also one not listed). */
function nameIn(list: readonly Named[], id: string): string {
  return list.find((x) => x.id === id)?.name || id;
}

/** An agent as the inbox may know them: the desk's record (GET /agent/agents: a name, or none: an admin made them with
 * an email alone; and their work email, kept from their sign-in), the signed-in agent's own sign-in (a name or an
 * email from their token). */
type Person = Named & { email?: string | null };

/** What people can read of an agent: their name; else their email where the inbox has it; else `unnamed` ("Unnamed
 * agent", in the agent's language): never their id. A blank or whitespace name is no name. */
export function agentLabel(agent: Person, unnamed: string): string {
  return agent.name?.trim() || agent.email?.trim() || unnamed;
}

/** How the inbox names an agent to people wherever it says who holds, wrote or did something (the list, the
 * conversation's header, the timeline, the board, reports, the audit trail): the desk's agents, the signed-in agent's
 * own record and sign-in, each record of the id read for a name, then for an email (agentLabel); `unnamed` for one
 * known with neither; null for anyone it does not know (not listed, or the agents still read), who is then said
 * another way ("Assigned"), never by their id. */
export function agentNamer(
  agents: readonly Person[],
  me: Person | null | undefined,
  who: Person | null | undefined,
  unnamed: string,
): (id: string) => string | null {
  const known = [...agents, me, who].filter((x): x is Person => !!x);
  return (id) => {
    const records = known.filter((x) => x.id === id);
    if (!records.length) return null;
    const name = records.map((x) => x.name?.trim()).find(Boolean);
    const email = records.map((x) => x.email?.trim()).find(Boolean);
    return agentLabel({ id, name, email }, unnamed);
  };
}

/** An agent by agentNamer, where something must be said of one the desk does not list (an audit trail's system actor,
 * a report's key): that one by the id the record holds. */
export function agentName(agents: readonly Person[], id: string, unnamed: string): string {
  return agentNamer(agents, null, null, unnamed)(id) ?? id;
}

/** A team as people know it: its name (GET /agent/teams), else its id (a team not in the list). */
export const teamName = nameIn;

/** A label as people know it: its name (GET /agent/labels), else its id. */
export const labelName = nameIn;

/** Several teams by name, as one line ("Billing, Returns"). */
export function teamNames(teams: readonly Named[], ids: readonly string[]): string {
  return ids.map((id) => nameIn(teams, id)).join(", ");
}

/** The teams to choose from: the desk's, then any of `kept` it does not list (under their id), so that a value
 * already chosen stays chosen. */
export function teamChoices(teams: readonly { id: string; name: string }[], kept: readonly string[]): { id: string; name: string }[] {
  const missing = [...new Set(kept)].filter((id) => !teams.some((x) => x.id === id));
  return [...teams, ...missing.map((id) => ({ id, name: id }))];
}
