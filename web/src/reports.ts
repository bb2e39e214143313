// The reports page's logic: the week a report covers and the bars a metric's rows become.

/** Monday to next Monday around `now`, as dates in the browser's zone (the API reads them in `tz`). */
export function weekOf(now: Date): { from: string; to: string } {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const monday = new Date(day);
  monday.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  const next = new Date(monday);
  next.setDate(monday.getDate() + 7);
  return { from: isoDate(monday), to: isoDate(next) };
}

function isoDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export type MetricRow = Record<string, string | number | null> & { key: string | null };

export interface Bar {
  label: string;
  value: number;
  share: number; // of the largest value, 0..1: the bar's length
}

/** The figure a row shows: a count or ratio (`value`), a duration's median, or a CSAT score. */
export function figure(row: MetricRow): number | null {
  const value = row.value ?? row.median_s ?? row.score;
  return typeof value === "number" ? value : null;
}

/** One bar per row with a figure, in the rows' order, scaled to the largest. */
export function bars(rows: MetricRow[]): Bar[] {
  const present = rows
    .map((row) => ({ label: row.key ?? "—", value: figure(row) }))
    .filter((b): b is { label: string; value: number } => b.value !== null);
  const top = Math.max(0, ...present.map((b) => b.value));
  return present.map((b) => ({ ...b, share: top > 0 ? b.value / top : 0 }));
}

/** A rating with its comment, as `GET /reports/metrics?metric=csat_comments` lists it (newest first). */
export interface CsatComment {
  at: string;
  conversation_id: string;
  agent_id: string | null;
  team: string | null;
  channel: string | null;
  language: string | null;
  rating: number | null;
  comment: string;
}

/** "★★★★☆" for a rating of 4: the stars shown beside a comment (its number is the accessible name). */
export function stars(rating: number | null): string {
  if (rating == null) return "";
  const n = Math.max(0, Math.min(5, Math.round(rating)));
  return "★".repeat(n) + "☆".repeat(5 - n);
}
