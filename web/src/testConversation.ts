// A conversation as the agent API answers it, for tests: open, normal priority, alice's, on SMS, no messages.
import type { Conversation } from "./api";

export const testConversation = (id: string, over: Partial<Conversation> = {}): Conversation => ({
  id,
  status: "open",
  priority: "normal",
  team: "default",
  assignee: "alice",
  customer: { id: "cu", name: id },
  channel: "sms",
  sla: { breaches: [], paused: false },
  created_at: "2026-12-03T09:00:00Z",
  updated_at: "2026-12-03T09:00:00Z",
  message_count: 1,
  urgent: false,
  messages: [],
  ...over,
});
