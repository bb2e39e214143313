import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api, NoAnswer, PRIMED_MS, type Message } from "./api";
import { testConversation } from "./testConversation";

/** A fetch that answers each path from `answers` and records what was asked. */
function server(answers: Record<string, unknown>) {
  const asked: string[] = [];
  const fetch = vi.fn(async (url: string) => {
    const path = url.replace("https://api.test", "");
    asked.push(path);
    const body = answers[path.split("?")[0] + (path.includes("include=") ? "?include" : "")];
    return new Response(JSON.stringify(body ?? {}), { status: 200, headers: { "content-type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetch);
  return asked;
}

const included = {
  customer: { id: "cu", name: "Ana", identities: [], conversations: [] },
  duplicates: { items: [] },
  orders: { items: [], identities: [], numbers: [], source: "cache", warnings: [], actions_allowed: false },
  assist: { suggestion: null },
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("opening a conversation", () => {
  it("reads its side panels in the same request, and each panel takes its part once", async () => {
    const asked = server({ "/agent/conversations/c1?include": { ...testConversation("c1"), included } });
    const api = new Api("https://api.test", async () => "t");
    const conv = await api.openConversation("c1");
    expect(asked).toEqual(["/agent/conversations/c1?include=customer%2Cduplicates%2Corders%2Cassist"]);
    expect(conv).not.toHaveProperty("included");
    // the panels, as they mount: no request
    expect(await api.customer("cu")).toEqual(included.customer);
    expect(await api.duplicates("cu")).toEqual(included.duplicates);
    expect(await api.orders("c1", 0)).toEqual(included.orders); // for its 0 customer messages
    expect(await api.assist("c1", "")).toEqual(included.assist); // for the customer's messages it was read with (none)
    expect(asked).toHaveLength(1);
    // a second read (after an action, a new message) asks the panel's own route
    await api.orders("c1", 0);
    await api.customer("cu");
    expect(asked.slice(1)).toEqual(["/agent/conversations/c1/orders", "/agent/customers/cu"]);
  });

  it("a part left out, a later page, another conversation, or a part kept too long: the panel's own route", async () => {
    const { orders: _left, ...some } = included;
    const asked = server({ "/agent/conversations/c1?include": { ...testConversation("c1"), included: some } });
    const api = new Api("https://api.test", async () => "t");
    await api.openConversation("c1");
    await api.orders("c1", 0); // the opening could not answer it
    await api.customer("cu", "next"); // the next page of the customer's conversations
    await api.assist("c2"); // another conversation's
    vi.advanceTimersByTime(PRIMED_MS + 1);
    await api.duplicates("cu"); // kept too long
    expect(asked.slice(1)).toEqual([
      "/agent/conversations/c1/orders",
      "/agent/customers/cu?cursor=next",
      "/agent/conversations/c2/assist",
      "/agent/customers/cu/duplicates",
    ]);
  });

  it("the assist panel takes a part only for the customer's messages it answered", async () => {
    const said = (id: string) => ({ id, direction: "inbound", author: null, text: "Where is it?", status: null, attachments: [], created_at: "2026-12-03T09:00:00Z", attempts: 0, channel: "sms", possibly_duplicate: false, sender_unproven: false, stuck: false });
    const messages = [said("m1"), said("m2")] as Message[];
    const asked = server({ "/agent/conversations/c1?include": { ...testConversation("c1", { messages }), included } });
    const api = new Api("https://api.test", async () => "t");
    await api.conversation("c1", "assist"); // a read with the assist panel alone
    await api.assist("c1", "m1,m2,m3"); // a message later than that read: its own read
    expect(await api.assist("c1", "m1,m2")).toEqual(included.assist);
    expect(asked).toEqual(["/agent/conversations/c1?include=assist", "/agent/conversations/c1/assist"]);
  });

  it("a change made through the API drops what the opening kept (a merge outdates the profile)", async () => {
    const asked = server({ "/agent/conversations/c1?include": { ...testConversation("c1"), included } });
    const api = new Api("https://api.test", async () => "t");
    await api.openConversation("c1");
    await api.merge("cu", "cu2", "same person");
    await api.customer("cu");
    await api.duplicates("cu");
    await api.orders("c1", 0);
    expect(asked.slice(1)).toEqual([
      "/agent/customers/cu/merge",
      "/agent/customers/cu",
      "/agent/customers/cu/duplicates",
      "/agent/conversations/c1/orders",
    ]);
  });

  it("a new opening drops what the last one kept", async () => {
    const asked = server({
      "/agent/conversations/c1?include": { ...testConversation("c1"), included },
      "/agent/conversations/c2?include": { ...testConversation("c2"), included: {} },
    });
    const api = new Api("https://api.test", async () => "t");
    await api.openConversation("c1");
    await api.openConversation("c2");
    await api.assist("c1");
    expect(asked.at(-1)).toBe("/agent/conversations/c1/assist");
  });
});

describe("the audit trail", () => {
  it("asks for the lists that showed a customer as lists=true, and leaves it out when not asked", async () => {
    const asked = server({ "/admin/audit": { items: [] } });
    const api = new Api("https://api.test", async () => "t");
    await api.audit({ customer_id: "u_7", lists: true });
    await api.audit({ customer_id: "u_7", lists: false });
    await api.audit({ customer_id: "u_7" });
    expect(asked).toEqual(["/admin/audit?customer_id=u_7&lists=true", "/admin/audit?customer_id=u_7", "/admin/audit?customer_id=u_7"]);
  });
});

describe("a request that gets no answer", () => {
  it("fails as no answer (status 0, worth sending again) naming its method, whether the request or its answer was lost", async () => {
    const api = new Api("https://api.test", async () => "t");
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    const lost = await api.reply("c1", "It ships today").catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(NoAnswer);
    expect(lost).toMatchObject({ status: 0, method: "POST", retryable: true });
    // the answer's head came, its body was cut off
    vi.stubGlobal("fetch", vi.fn(async () => ({ ok: true, status: 200, text: async () => { throw new TypeError("network error"); } })));
    const cut = await api.me().catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(NoAnswer);
    expect(cut).toMatchObject({ status: 0, method: "GET" });
  });
});

describe("an agent's role at most", () => {
  it("is PUT to the agent's max-role with the role chosen", async () => {
    const sent: [string, string, unknown][] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit) => {
      sent.push([init.method ?? "GET", url.replace("https://api.test", ""), JSON.parse(String(init.body))]);
      return new Response(JSON.stringify({ id: "u 7" }), { status: 200, headers: { "content-type": "application/json" } });
    }));
    const api = new Api("https://api.test", async () => "t");
    await api.setMaxRole("u 7", "supervisor");
    expect(sent).toEqual([["PUT", "/admin/agents/u%207/max-role", { max_role: "supervisor" }]]);
  });
});
