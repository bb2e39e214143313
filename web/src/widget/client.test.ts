import { describe, expect, it, vi } from "vitest";
import { WidgetClient, WidgetError } from "./client";
import { MemoryStorage } from "./testStorage";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

function token(visitor: string): string {
  return `${btoa(JSON.stringify({ visitor_id: visitor })).replace(/=+$/, "")}.sig`;
}

/** A shop (its token address) and the widget API, answering in turn from `answers` after the session start. */
function network(visitor: string, answers: Response[], liveUrl?: string) {
  const asked: string[] = [];
  let sessions = 0;
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    asked.push(`${init?.method ?? "GET"} ${url}`);
    if (url === "/visitor-token") return json(200, { visitor_token: token(visitor) });
    if (url.endsWith("/widget/sessions")) {
      sessions += 1;
      return json(201, { session: `s${sessions}`, visitor_id: visitor, conversation_id: null, expires_in: 3600,
                         ...(liveUrl ? { live_url: liveUrl } : {}) });
    }
    return answers.shift() ?? json(500, { title: "nothing left" });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, asked, sessions: () => sessions };
}

describe("the widget's session", () => {
  it("starts from the shop's token once, is kept in the tab, and carries the session on each call", async () => {
    const storage = new MemoryStorage();
    const net = network("guest:1", [json(200, { conversation_id: null, items: [] }), json(200, { conversation_id: "c", items: [] })]);
    const client = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage, fetch: net.fetch });
    await client.poll();
    await client.poll();
    expect(net.sessions()).toBe(1);
    expect(net.asked).toEqual(["GET /visitor-token", "POST https://w.test/widget/sessions",
                               "GET https://w.test/widget/messages", "GET https://w.test/widget/messages"]);
    const again = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage, fetch: net.fetch });
    expect(again.hasSession).toBe(true);
  });

  it("knows the socket's address from the session start, kept with it in the tab; none without a socket API", async () => {
    const storage = new MemoryStorage();
    const net = network("guest:1", [json(200, { conversation_id: "c", items: [] })], "wss://live.test/prod");
    const client = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage, fetch: net.fetch });
    expect(client.liveAddress).toBeNull();
    await client.poll();
    expect(client.liveAddress).toBe("wss://live.test/prod?session=s1");
    expect(new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage, fetch: net.fetch }).liveAddress)
      .toBe("wss://live.test/prod?session=s1");
    const polling = network("guest:2", [json(200, { conversation_id: "c", items: [] })]);
    const without = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: null, fetch: polling.fetch });
    await without.poll();
    expect(without.liveAddress).toBeNull();
  });

  it("calls made together share one session start", async () => {
    const net = network("guest:1", [json(200, { conversation_id: null, items: [] }), json(200, { conversation_id: null, items: [] })]);
    const client = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: null, fetch: net.fetch });
    await Promise.all([client.poll(), client.poll()]);
    expect(net.sessions()).toBe(1);
  });

  it("starts again once when the API refuses the session (401)", async () => {
    const net = network("guest:1", [json(401, { title: "Unauthorized" }), json(200, { conversation_id: null, items: [] })]);
    const client = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: null, fetch: net.fetch });
    await expect(client.poll()).resolves.toEqual({ conversation_id: null, items: [] });
    expect(net.sessions()).toBe(2);
  });

  it("forgets a session held for another visitor (a sign-in on a shared computer)", async () => {
    const storage = new MemoryStorage();
    const first = network("guest:1", [json(200, { conversation_id: null, items: [] })]);
    await new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage, fetch: first.fetch }).poll();
    const later = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage,
                                     fetch: network("customer:ana", []).fetch });
    expect(await later.checkVisitor()).toBe(true);
    expect(later.hasSession).toBe(false);
    const same = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: new MemoryStorage(),
                                    fetch: network("guest:1", []).fetch });
    expect(await same.checkVisitor()).toBe(false);
  });
});

describe("refusals", () => {
  it("say whether trying again can help: no answer, busy, rate-limited (with its wait) yes; a bad message no", async () => {
    const failing = (response: Response | Error) => {
      const fetch = vi.fn(async (url: string) => {
        if (url === "/visitor-token") return json(200, { visitor_token: token("g") });
        if (url.endsWith("/widget/sessions")) return json(201, { session: "s", visitor_id: "g", conversation_id: null, expires_in: 3600 });
        if (response instanceof Error) throw response;
        return response;
      });
      return new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: null,
                               fetch: fetch as unknown as typeof globalThis.fetch });
    };
    const send = (client: WidgetClient) => client.send({ clientId: "c1", text: "hi", attachments: [] })
      .then(() => null, (e: unknown) => e as WidgetError);
    const offline = await send(failing(new TypeError("Failed to fetch")));
    expect([offline?.status, offline?.retryable]).toEqual([0, true]);
    const limited = await send(failing(json(429, { detail: "too many requests; retry in 3 s" }, { "Retry-After": "3" })));
    expect([limited?.retryable, limited?.retryAfter]).toEqual([true, 3]);
    const down = await send(failing(json(503, { title: "Service unavailable" })));
    expect(down?.retryable).toBe(true);
    const refused = await send(failing(json(400, { title: "Bad request", detail: "The message is empty" })));
    expect([refused?.retryable, refused?.message]).toEqual([false, "The message is empty"]);
  });

  it("a shop whose token address fails leaves the chat unavailable, not broken", async () => {
    const fetch = vi.fn(async () => new Response("no", { status: 500 }));
    const client = new WidgetClient({ api: "https://w.test", tokenUrl: "/visitor-token", storage: null,
                                     fetch: fetch as unknown as typeof globalThis.fetch });
    await expect(client.poll()).rejects.toMatchObject({ status: 500 });
  });
});
