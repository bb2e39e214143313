// The routing card's form (CustomerPanel): what it changes of the conversation as stored.
import type { Conversation, Priority } from "./api";

export interface RoutingForm {
  priority: Priority;
  team: string;
  skills: string; // as typed: comma-separated
  note: string;
}

export interface RoutingChange {
  priority?: Priority;
  team?: string;
  skills?: string[];
  note?: string;
}

/** The skills as typed, trimmed, empty ones left out. */
export function skillList(typed: string): string[] {
  return typed
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What the form changes (priority, team, skills), with its note; null when it changes none of them. The API takes a
 * note only with a change (a 422 "say what to change: priority, team or skills" otherwise): there is nothing to save. */
export function routingChange(conv: Pick<Conversation, "priority" | "team" | "skills">, form: RoutingForm): RoutingChange | null {
  const change: RoutingChange = {};
  const skills = skillList(form.skills);
  if (form.priority !== conv.priority) change.priority = form.priority;
  if (form.team !== conv.team) change.team = form.team;
  if (skills.join(",") !== (conv.skills ?? []).join(",")) change.skills = skills;
  if (!Object.keys(change).length) return null;
  if (form.note.trim()) change.note = form.note.trim();
  return change;
}
