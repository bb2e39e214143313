import { describe, expect, it } from "vitest";
import { Auth, who } from "./auth";
import type { AppConfig } from "./config";

class MemoryStorage implements Storage {
  private data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  clear() {
    this.data.clear();
  }
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  key(i: number) {
    return [...this.data.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
}

const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
const jwt = (claims: object) => `h.${b64(claims)}.s`;
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

const COGNITO: AppConfig = {
  apiUrl: "",
  wsUrl: null,
  auth: {
    mode: "cognito",
    domain: "https://shop.auth.us-east-1.amazoncognito.com",
    clientId: "cid",
    redirectUri: "https://inbox.example/",
    logoutUri: "https://inbox.example/",
  },
};

function fakeFetch(answers: Record<string, unknown>, calls: { url: string; body?: string }[]) {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, body: init?.body ? String(init.body) : undefined });
    const key = Object.keys(answers).find((k) => url.startsWith(k));
    if (!key) return new Response("no", { status: 404 });
    return new Response(JSON.stringify(answers[key]), { status: 200 });
  }) as typeof fetch;
}

describe("Auth", () => {
  it("signs a demo agent in on the local stack and fetches a new token before the old one expires", async () => {
    const calls: { url: string }[] = [];
    const fresh = jwt({ "cognito:username": "alice", name: "Alice", "cognito:groups": ["admins"], exp: inSeconds(3600) });
    const auth = new Auth({ apiUrl: "", wsUrl: null, auth: { mode: "local" } }, new MemoryStorage(), fakeFetch({ "/_local/token": { token: fresh } }, calls));
    await auth.signInLocal("alice");
    expect(who(auth.session!)).toEqual({ id: "alice", name: "Alice", groups: ["admins"] });
    expect(await auth.token()).toBe(fresh);
    expect(calls).toHaveLength(1);
    // a token that expires within two minutes is replaced first
    auth["current"] = { ...auth.session!, idToken: "old", expiresAt: Date.now() + 60_000 };
    expect(await auth.token()).toBe(fresh);
    expect(calls.map((c) => c.url)).toEqual(["/_local/token?agent=alice", "/_local/token?agent=alice"]);
  });

  it("reads a sign-in without a name as nameless (its email kept where the token has one), never named by its id", () => {
    const session = (claims: Record<string, unknown>) => ({ idToken: jwt({ exp: inSeconds(3600), ...claims }), expiresAt: 0 });
    expect(who(session({ "cognito:username": "u_7f3a", email: "dora@shop.example" }))).toEqual({ id: "u_7f3a", name: "", email: "dora@shop.example", groups: [] });
    expect(who(session({ "cognito:username": "u_7f3a", name: "  " }))).toEqual({ id: "u_7f3a", name: "", groups: [] });
  });

  it("exchanges the hosted UI's code with the verifier it kept, refuses a foreign state, and refreshes", async () => {
    const storage = new MemoryStorage();
    const calls: { url: string; body?: string }[] = [];
    let went = "";
    const idToken = jwt({ "cognito:username": "bob", exp: inSeconds(3600) });
    const auth = new Auth(COGNITO, storage, fakeFetch({ "https://shop.auth": { id_token: idToken, refresh_token: "rt" } }, calls), (url) => (went = url));
    await auth.beginCognito();
    const asked = new URL(went);
    const state = asked.searchParams.get("state")!;
    expect(asked.searchParams.get("code_challenge_method")).toBe("S256");

    await expect(auth.completeCognito(`?code=abc&state=someone-else`)).rejects.toThrow("state");
    expect(auth.session).toBeNull();

    await auth.beginCognito();
    const state2 = new URL(went).searchParams.get("state")!;
    expect(state2).not.toBe(state);
    expect(await auth.completeCognito(`?code=abc&state=${state2}`)).toBe(true);
    const exchange = new URLSearchParams(calls[0]!.body);
    expect(calls[0]!.url).toBe("https://shop.auth.us-east-1.amazoncognito.com/oauth2/token");
    expect(exchange.get("grant_type")).toBe("authorization_code");
    expect(exchange.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.session?.refreshToken).toBe("rt");
    expect(await auth.completeCognito(`?code=abc&state=${state2}`)).toBe(false); // a code is used once

    auth["current"] = { ...auth.session!, expiresAt: Date.now() + 1_000 };
    expect(await auth.token()).toBe(idToken);
    expect(new URLSearchParams(calls[1]!.body).get("grant_type")).toBe("refresh_token");
  });

  it("signs out through the hosted UI's logout", async () => {
    let went = "";
    const storage = new MemoryStorage();
    storage.setItem("shopdesk.session", JSON.stringify({ idToken: jwt({}), expiresAt: Date.now() + 3_600_000 }));
    const auth = new Auth(COGNITO, storage, fakeFetch({}, []), (url) => (went = url));
    auth.signOut();
    expect(auth.session).toBeNull();
    expect(storage.getItem("shopdesk.session")).toBeNull();
    expect(went).toContain("/logout?client_id=cid");
  });
});
