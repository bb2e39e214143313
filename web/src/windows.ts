// A channel's messaging window as the agent sees it before replying (the API enforces the same rules).
import type { Message } from "./api";

const DAY = 24 * 3_600_000;
const HUMAN_AGENT = 7 * DAY;

export type WindowState = "none" | "open" | "human_agent" | "closed";

/** When the customer last wrote on a channel, from the timeline. */
export function lastInboundAt(messages: readonly Message[], channel: string): number | null {
  let last: number | null = null;
  for (const m of messages) {
    if (m.direction === "inbound" && m.channel === channel) {
      const at = Date.parse(m.created_at);
      if (last === null || at > last) last = at;
    }
  }
  return last;
}

export function windowState(channel: string, lastInbound: number | null, now: number): WindowState {
  if (channel === "whatsapp") return lastInbound !== null && now - lastInbound <= DAY ? "open" : "closed";
  if (channel === "messenger" || channel === "instagram") {
    if (lastInbound === null || now - lastInbound > HUMAN_AGENT) return "closed";
    return now - lastInbound > DAY ? "human_agent" : "open";
  }
  return "none";
}
