// What is most urgent: SLA state of a conversation and the inbox's order.
import type { Conversation, Priority } from "./api";

export type SlaTarget = "first_response" | "next_response" | "resolution";
export interface TargetState {
  target: SlaTarget;
  dueAt: string;
  leftMs: number; // negative once overdue
  state: "ok" | "warning" | "breached";
}
export interface SlaState {
  targets: TargetState[];
  breached: boolean;
  warning: boolean;
  paused: boolean;
  nextDueMs: number | null; // time left to the earliest running target
}

const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };
const TARGET_ORDER: SlaTarget[] = ["first_response", "next_response", "resolution"];

export function slaState(conv: Pick<Conversation, "sla">, now: number): SlaState {
  const sla = conv.sla;
  const breaches = new Set(sla.breaches ?? []);
  const deadlines: Record<string, { due_at: string; warn_at?: string | null }> = { ...(sla.deadlines ?? {}) };
  if (!Object.keys(deadlines).length && sla.first_response_due_at && !sla.first_response_at) {
    deadlines.first_response = { due_at: sla.first_response_due_at };
  }
  const targets: TargetState[] = [];
  for (const target of TARGET_ORDER) {
    const d = deadlines[target];
    if (!d) continue;
    const due = Date.parse(d.due_at);
    const leftMs = due - now;
    const state =
      breaches.has(target) || leftMs < 0 ? "breached" : d.warn_at && Date.parse(d.warn_at) <= now ? "warning" : "ok";
    targets.push({ target, dueAt: d.due_at, leftMs, state });
  }
  const running = targets.map((t) => t.leftMs);
  return {
    targets,
    breached: breaches.size > 0 || targets.some((t) => t.state === "breached"),
    warning: targets.some((t) => t.state === "warning"),
    paused: Boolean(sla.paused),
    nextDueMs: running.length && !sla.paused ? Math.min(...running) : null,
  };
}

/** The inbox's order: breached first, then the SLA due soonest, then priority, then longest waiting. */
export function byUrgency(now: number) {
  return (a: Conversation, b: Conversation): number => {
    const sa = slaState(a, now);
    const sb = slaState(b, now);
    if (sa.breached !== sb.breached) return sa.breached ? -1 : 1;
    const da = sa.nextDueMs ?? Number.POSITIVE_INFINITY;
    const db = sb.nextDueMs ?? Number.POSITIVE_INFINITY;
    if (da !== db) return da < db ? -1 : 1;
    const pa = PRIORITY_RANK[a.priority] ?? 9;
    const pb = PRIORITY_RANK[b.priority] ?? 9;
    if (pa !== pb) return pa - pb;
    const wa = Date.parse(a.waiting_since ?? a.created_at);
    const wb = Date.parse(b.waiting_since ?? b.created_at);
    if (wa !== wb) return wa - wb;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** The waiting list by breach risk (the sweep's estimate): the most likely to miss its target first; those
 * without one after, most urgent first. */
export function byRisk(now: number) {
  const urgency = byUrgency(now);
  return (a: Conversation, b: Conversation): number => {
    const ra = a.breach_risk ?? -1;
    const rb = b.breach_risk ?? -1;
    return ra !== rb ? rb - ra : urgency(a, b);
  };
}

/** A risk as people read it: 0.734 is 73 %. */
export function riskPercent(risk: number): number {
  return Math.round(risk * 100);
}

export interface Filters {
  sort?: "breach_risk"; // the unassigned view only, applied by the API (?sort=) and here
  status?: Conversation["status"];
  label?: string; // applied by the API (?label=), and again here as the list refreshes
  team?: string;
  channel?: string;
  priority?: Priority;
}

/** Filters the API does not apply itself (channel, priority; team outside the unassigned view). Without a
 * status filter the list shows the conversations still being worked on (resolved ones are history), except in the
 * mentions view: a mention in a conversation resolved since is still the agent's to read (its badge counts it). */
export function matches(conv: Conversation, f: Filters, view?: string): boolean {
  const history = conv.status === "resolved" && view !== "mentions";
  if (f.status ? conv.status !== f.status : history) return false; // resolved: history
  if (f.team && conv.team !== f.team) return false;
  if (f.label && !((conv as Conversation & { labels?: string[] }).labels ?? []).includes(f.label)) return false;
  if (f.channel && conv.channel !== f.channel && !(conv.channels ?? []).includes(f.channel)) return false;
  if (f.priority && conv.priority !== f.priority) return false;
  return true;
}

/** Whether the caller's `view` lists the conversation as the agent API lists it (logic/inbox.py, `Inbox.list`): Mine
 * what they hold, Unassigned the open conversations no one holds in their teams (only open ones wait: the queue's
 * index holds no other), All every conversation for an admin and for anyone else (a supervisor too) their teams' and
 * what they hold; Shared (granted) and Mentions keep it whoever holds it (a
 * transfer leaves the caller their grant). `teams`: the caller's, null while unknown (then their teams' are kept). For
 * the answer to the caller's own change: whether the conversation left the list they are working through. */
export function listedIn(view: string, conv: Conversation, caller: { id: string; admin: boolean; teams: readonly string[] | null }): boolean {
  if (view === "mine") return conv.assignee === caller.id;
  if (view === "unassigned") return conv.status === "open" && !conv.assignee && (!caller.teams || caller.teams.includes(conv.team));
  if (view === "all") return caller.admin || !caller.teams || conv.assignee === caller.id || caller.teams.includes(conv.team);
  return true;
}

/** How many of the filters narrow the list (the sort does not; the status does not in the unassigned view). */
export function filtersSet(f: Filters, view?: string): number {
  const keys: (keyof Filters)[] = ["status", "team", "label", "channel", "priority"];
  return keys.filter((k) => f[k] && !(k === "status" && view === "unassigned")).length;
}
