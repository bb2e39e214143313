// Types of the admin API's bodies, written from its pydantic models (shopdesk/models/admin.py and
// shopdesk/models/sla.py); the admin API does not publish an OpenAPI document yet.
export interface AgentSettings {
  name?: string | null;
  capacity: number;
  teams: string[];
  skills: string[];
  languages: string[];
}
export interface AdminAgent extends AgentSettings {
  id: string;
  presence: "online" | "away" | "offline";
  active: number;
}
export interface Team {
  id: string;
  name: string;
  description?: string | null;
}
export type Versioned<T> = T & { version: number };
export interface Window {
  start: string;
  end: string;
}
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export type Holiday = string | { date: string; windows: Window[] };
export interface CalendarIn {
  time_zone: string;
  weekly: Partial<Record<Weekday, Window[]>>;
  holidays: Holiday[];
}
export interface Calendar extends CalendarIn {
  id: string;
  version: number;
}
export interface Targets {
  first_response?: number | null;
  next_response?: number | null;
  resolution?: number | null;
}
export interface SlaPolicy {
  id: string;
  name: string;
  targets: Partial<Record<"urgent" | "high" | "normal" | "low", Targets>>;
  calendar_id?: string | null;
  warning_fraction: number;
  applies_to: { channels?: string[] | null; tiers?: string[] | null; teams?: string[] | null };
  rank: number;
}
export interface RoutingSettings {
  sticky_days: number;
  offline_grace_seconds: number;
  reassign_after_silence_seconds: number | null;
  default_team: string;
  team_by_channel: Record<string, string>;
  reassign_on_breach: boolean;
  acknowledgements: boolean;
  acknowledgement_burst_seconds: number;
  acknowledgement_templates: Record<string, Record<string, string>>;
  average_handle_seconds: number;
  default_language: string;
  shop_name: string;
  skill_keywords: Record<string, string[]>;
  priority_on_negative: "urgent" | "high" | "normal" | "low" | "off";
  priority_on_urgent: "urgent" | "high" | "normal" | "low" | "off";
}
export interface Customer {
  id: string;
  name?: string | null;
  identities: { kind: string; address: string }[];
  tier: string | null;
  created_at?: string;
}
