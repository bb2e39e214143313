// Text forms of the admin settings that have structure (opening hours, holidays, lists), both ways.
import type { CalendarIn, Holiday, Weekday, Window } from "./api-types/admin";

export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** "09:00-12:30, 13:30-17:00" -> windows; throws with the part that is wrong. */
export function parseWindows(text: string): Window[] {
  return text
    .split(/[,;]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const found = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/.exec(part);
      if (!found) throw new Error(`"${part}" is not a window such as 09:00-17:00`);
      const pad = (s: string) => s.padStart(5, "0");
      return { start: pad(found[1]!), end: pad(found[2]!) };
    });
}

export function windowsText(windows: readonly Window[] | undefined): string {
  return (windows ?? []).map((w) => `${w.start}-${w.end}`).join(", ");
}

/** One holiday a line: "2026-12-24" (closed all day) or "2026-12-31 09:00-12:00" (open only then). */
export function parseHolidays(text: string): Holiday[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const found = /^(\d{4}-\d{2}-\d{2})(?:\s+(.+))?$/.exec(line);
      if (!found) throw new Error(`"${line}" is not a date such as 2026-12-24`);
      return found[2] ? { date: found[1]!, windows: parseWindows(found[2]) } : found[1]!;
    });
}

export function holidaysText(holidays: readonly Holiday[] | undefined): string {
  return (holidays ?? []).map((h) => (typeof h === "string" ? h : `${h.date} ${windowsText(h.windows)}`)).join("\n");
}

export function calendarFromForm(timeZone: string, days: Partial<Record<Weekday, string>>, holidays: string): CalendarIn {
  const weekly: CalendarIn["weekly"] = {};
  for (const day of WEEKDAYS) {
    const windows = parseWindows(days[day] ?? "");
    if (windows.length) weekly[day] = windows;
  }
  return { time_zone: timeZone.trim(), weekly, holidays: parseHolidays(holidays) };
}

/** "a, b ,c" -> ["a", "b", "c"] */
export function listOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
