// The search box's options: the conversations found (each saying how it matched), then the customers.
import type { SearchResult } from "./api";

type FoundConversation = SearchResult["conversations"][number];
type FoundCustomer = SearchResult["customers"][number];

export type SearchOption =
  | {
      kind: "conversation";
      id: string;
      customer: FoundConversation["customer"];
      channel: string;
      status: FoundConversation["status"];
      matched: FoundConversation["matched"];
      preview: string;
    }
  | ({ kind: "customer" } & Pick<FoundCustomer, "id" | "name"> & { identities: { kind: string; address: string }[] });

/** One list for the listbox: conversations in the API's order (exact keys first, then the best text
 * matches), then customers not already shown through one of their conversations. */
export function searchOptions(result: SearchResult): SearchOption[] {
  const conversations: SearchOption[] = result.conversations.map((c) => ({
    kind: "conversation",
    id: c.id,
    customer: c.customer,
    channel: c.channel,
    status: c.status,
    matched: c.matched,
    preview: c.last_message_preview ?? "",
  }));
  const shown = new Set(result.conversations.map((c) => c.customer.id));
  const customers: SearchOption[] = result.customers
    .filter((c) => !shown.has(c.id))
    .map((c) => ({ kind: "customer", id: c.id, name: c.name ?? null, identities: c.identities ?? [] }));
  return [...conversations, ...customers];
}
