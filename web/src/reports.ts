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

/** A row of `metric=topics&group_by=week` (docs/metrics.md, "Topics"). */
export interface TopicRow {
  key: string; // the week's Monday
  topic: string;
  conversations: number;
  rank: number;
  previous: number;
  change: number;
  rising: boolean;
}

/** The latest week's reasons, most frequent first (at most `limit`), and those rising, the largest rise first. */
export function topicsOf(rows: TopicRow[], limit = 5): { week: string | null; top: TopicRow[]; rising: TopicRow[] } {
  const week = rows.reduce<string | null>((last, row) => (last === null || row.key > last ? row.key : last), null);
  const latest = rows
    .filter((row) => row.key === week)
    .sort((a, b) => b.conversations - a.conversations || a.topic.localeCompare(b.topic));
  const rising = latest.filter((row) => row.rising).sort((a, b) => b.change - a.change || a.topic.localeCompare(b.topic));
  return { week, top: latest.slice(0, limit), rising: rising.slice(0, limit) };
}

/** A topic as people read it: `order_status` is "order status". */
export function topicName(topic: string): string {
  return topic.replace(/_/g, " ");
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
