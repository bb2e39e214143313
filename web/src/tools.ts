// The forms of the canned response and macro pages: drafts as the fields hold them, what the API takes
// (shopdesk/models/canned.py, shopdesk/models/macros.py), and a 422's field errors placed on the row they name.
import type { MacroAction } from "./api-types/macros";

export type ActionType = MacroAction["type"];
export const ACTION_TYPES: readonly ActionType[] = [
  "reply",
  "note",
  "add_labels",
  "remove_labels",
  "set_priority",
  "set_team",
  "set_status",
  "snooze",
  "assign",
];
export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;
export const STATUSES = ["open", "pending", "resolved"] as const;

/** One action as its form holds it: the type and the text of its one field (labels comma separated). */
export interface ActionDraft {
  type: ActionType;
  value: string;
}

/** The value a new action of `type` starts with (a valid choice where there is a fixed list). */
export function blankAction(type: ActionType): ActionDraft {
  if (type === "set_priority") return { type, value: "normal" };
  if (type === "set_status") return { type, value: "resolved" };
  if (type === "snooze") return { type, value: "PT4H" };
  return { type, value: "" };
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The API's action for a draft; the server checks the rest (and names what is wrong). */
export function toAction(d: ActionDraft): MacroAction {
  const v = d.value.trim();
  switch (d.type) {
    case "reply":
      return { type: "reply", canned_response_id: v };
    case "note":
      return { type: "note", text: v };
    case "add_labels":
      return { type: "add_labels", labels: list(v) };
    case "remove_labels":
      return { type: "remove_labels", labels: list(v) };
    case "set_priority":
      return { type: "set_priority", priority: v as (typeof PRIORITIES)[number] };
    case "set_team":
      return { type: "set_team", team: v };
    case "set_status":
      return { type: "set_status", status: v as (typeof STATUSES)[number] };
    case "snooze":
      return { type: "snooze", duration: v };
    case "assign":
      return { type: "assign", agent_id: v || null };
  }
}

/** A draft of the API's action (the form of an existing macro). */
export function toDraft(a: MacroAction): ActionDraft {
  switch (a.type) {
    case "reply":
      return { type: a.type, value: a.canned_response_id };
    case "note":
      return { type: a.type, value: a.text };
    case "add_labels":
    case "remove_labels":
      return { type: a.type, value: a.labels.join(", ") };
    case "set_priority":
      return { type: a.type, value: a.priority };
    case "set_team":
      return { type: a.type, value: a.team };
    case "set_status":
      return { type: a.type, value: a.status };
    case "snooze":
      return { type: a.type, value: String(a.duration) };
    case "assign":
      return { type: a.type, value: a.agent_id ?? "" };
  }
}

/** `items` with the one at `index` moved by `by` places (unchanged at either end). */
export function move<T>(items: readonly T[], index: number, by: number): T[] {
  const to = index + by;
  const out = [...items];
  if (index < 0 || index >= out.length || to < 0 || to >= out.length) return out;
  const [item] = out.splice(index, 1);
  out.splice(to, 0, item as T);
  return out;
}

/** One body per language, as the form holds them. */
export interface BodyDraft {
  language: string;
  text: string;
}

/** The API's `bodies` ({"en": ..., "es": ...}), or the language written twice (the form says so). */
export function toBodies(drafts: readonly BodyDraft[]): { bodies: Record<string, string> } | { duplicate: string } {
  const bodies: Record<string, string> = {};
  for (const d of drafts) {
    const language = d.language.trim().toLowerCase();
    if (language in bodies) return { duplicate: language };
    bodies[language] = d.text;
  }
  return { bodies };
}

/** A language not yet among the drafts, from the shop's usual ones, for the next body added. */
export function nextLanguage(drafts: readonly BodyDraft[], usual: readonly string[] = ["en", "es", "pt"]): string {
  const used = new Set(drafts.map((d) => d.language.trim().toLowerCase()));
  return usual.find((l) => !used.has(l)) ?? "";
}

/** A 422's field errors on the row they name: body.actions.N (macros) or body.bodies.LANG (canned responses);
 *  `rest` has the others in words. */
export function rowErrors(body: unknown, field: "actions" | "bodies"): { rows: Map<string, string[]>; rest: string[] } {
  const rows = new Map<string, string[]>();
  const rest: string[] = [];
  const errors = body && typeof body === "object" ? (body as { errors?: unknown }).errors : null;
  if (!Array.isArray(errors)) return { rows, rest };
  for (const e of errors as { loc?: (string | number)[]; msg?: string }[]) {
    const loc = (e.loc ?? []).filter((p) => p !== "body");
    const msg = e.msg ?? "invalid";
    if (loc[0] === field && loc.length > 1) {
      const key = String(loc[1]);
      rows.set(key, [...(rows.get(key) ?? []), msg]);
    } else {
      rest.push(loc.length ? `${loc.join(".")}: ${msg}` : msg);
    }
  }
  return { rows, rest };
}
