import { describe, expect, it } from "vitest";
import type { SearchResult } from "./api";
import { searchOptions } from "./search";

const conversation = (id: string, customerId: string, matched: "order" | "text") =>
  ({
    id,
    customer: { id: customerId, name: "Dana Rivera", identities: [{ kind: "phone", address: "+14155550101" }] },
    channel: "sms",
    status: "open",
    matched,
    last_message_preview: "Where is #1001?",
  }) as unknown as SearchResult["conversations"][number];

describe("searchOptions", () => {
  it("lists conversations first, in the API's order, saying how each matched", () => {
    const result = { conversations: [conversation("c1", "u1", "order"), conversation("c2", "u1", "text")], customers: [] };
    expect(searchOptions(result).map((o) => [o.kind, o.id, o.kind === "conversation" ? o.matched : null])).toEqual([
      ["conversation", "c1", "order"],
      ["conversation", "c2", "text"],
    ]);
  });
  it("then the customers not already shown through a conversation", () => {
    const result = {
      conversations: [conversation("c1", "u1", "order")],
      customers: [
        { id: "u1", name: "Dana Rivera", identities: [] },
        { id: "u2", name: null, identities: [{ kind: "email", address: "sam.lee@example.com" }] },
      ],
    } as SearchResult;
    const options = searchOptions(result);
    expect(options.map((o) => `${o.kind}:${o.id}`)).toEqual(["conversation:c1", "customer:u2"]);
    expect(options[1]).toMatchObject({ identities: [{ kind: "email", address: "sam.lee@example.com" }], name: null });
  });
});
