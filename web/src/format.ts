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

/** An agent as people know them: their name when the desk has one, their id otherwise. */
export const agentName = nameIn;

/** An agent's name if one of `list` names them, else null (where an id would mean nothing to anyone: say something
 * else while the desk's agents are read). */
export function knownName(list: readonly (Named | null | undefined)[], id: string): string | null {
  return list.find((x) => x?.id === id)?.name || null;
}

/** How the inbox names an agent to people wherever it says who holds or did something (the list, the conversation's
 * header): by name from the desk's agents, else (while they are read) from the signed-in agent's own record or sign-in;
 * null for anyone it cannot name yet, who is then said another way ("Assigned"), never by their id. */
export function agentNamer(agents: readonly Named[], me: Named | null | undefined, who: Named): (id: string) => string | null {
  const named = [...agents, me, who];
  return (id) => knownName(named, id);
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
