// The admin API's bodies by the names the app uses, from its OpenAPI document (admin-openapi.ts, generated
// by `npm run types` from the running stack's /admin/openapi.json). The forms work on complete values, so
// the fields the API fills in with defaults (teams, weekly, …) are required here.
import type { components } from "./admin-openapi";

type S = components["schemas"];
type Complete<T, K extends keyof T> = Omit<T, K> & Required<Pick<T, K>>;

export type Versioned<T> = T & { version: number };
export type Window = S["Window"];
export type Weekday = S["Weekday"];
export type Holiday = string | Complete<S["DayOverride"], "windows">;
export interface CalendarIn {
  time_zone: string;
  weekly: Partial<Record<Weekday, Window[]>>;
  holidays: Holiday[];
}
export type Calendar = CalendarIn & Pick<S["CalendarOut"], "id" | "version">;
export type AgentSettings = Complete<Omit<S["AgentSettings"], "team">, "teams" | "skills" | "languages">;
export type AdminAgent = AgentSettings &
  Pick<S["Agent"], "id" | "email" | "presence" | "active" | "settings_version" | "deactivated_at" | "deactivated_by" | "max_role">;
/** The highest role an agent may use, whatever their sign-in's groups (PUT /admin/agents/{id}/max-role). */
export type MaxRole = S["AgentMaxRole"]["max_role"];
export type Team = S["Team"];
export type Targets = S["Targets"];
export type SlaPolicy = Complete<Omit<S["SlaPolicy"], "business_hours">, "targets" | "applies_to">;
export type RoutingSettings = Complete<
  S["RoutingSettings"],
  "team_by_channel" | "acknowledgement_templates" | "skill_keywords" | "reassign_after_silence_seconds"
>;
export type Customer = Complete<S["Customer"], "identities" | "tier">;
/** A warning or breach the SLA sweep recorded (GET /admin/sla-events). */
export type SlaEvent = S["SlaEventOut"];
