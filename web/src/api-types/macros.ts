// Types of the label and macro routes, written from their pydantic models (shopdesk/models/labels.py,
// shopdesk/models/macros.py, shopdesk/api/macros.py), as admin.ts is for the admin API.
export interface LabelIn {
  name: string;
  color: string; // "#rrggbb"
}
export interface Label extends LabelIn {
  id: string;
  retired: boolean;
  updated_at?: string | null;
  updated_by?: string | null;
  version: number; // moved by every change: ?version=N saves only over it
}
export type MacroAction =
  | { type: "reply"; canned_response_id: string }
  | { type: "note"; text: string }
  | { type: "add_labels"; labels: string[] }
  | { type: "remove_labels"; labels: string[] }
  | { type: "set_priority"; priority: "urgent" | "high" | "normal" | "low" }
  | { type: "set_team"; team: string }
  | { type: "set_status"; status: "open" | "pending" | "resolved" }
  | { type: "snooze"; duration: string }
  | { type: "assign"; agent_id?: string | null };
export interface Macro {
  id: string;
  scope: "shared" | "personal";
  name: string;
  actions: MacroAction[];
  updated_at?: string | null;
  updated_by?: string | null;
  version: number; // send it back as ?version=N to save only over this version
  retired_labels?: string[]; // labels it adds that are retired now: applying skips them
}
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}
export interface ApplyResult {
  conversation_id: string;
  result: "applied" | "refused";
  problem?: Problem | null;
  reply_message_id?: string | null;
  reply_problem?: string | null;
  skipped_labels?: string[]; // applied without these labels: retired since the macro was saved
  notes?: string[]; // the same in (English) words
}
export interface ApplyOut {
  macro_id: string;
  name: string;
  applied: number;
  refused: number;
  results: ApplyResult[];
}
