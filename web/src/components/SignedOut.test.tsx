// @vitest-environment happy-dom
// An agent an admin took off the desk is signed out at their next request, and the sign-in page says why.
import { render } from "preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Auth } from "../auth";
import type { AppConfig } from "../config";
import { eachRoot } from "../testContext";
import { App } from "./App";

const root = eachRoot();
const CONFIG: AppConfig = { apiUrl: "https://api.test", wsUrl: null, auth: { mode: "local" } };
const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
const token = `h.${b64({ "cognito:username": "alice", name: "Alice", exp: Math.floor(Date.now() / 1000) + 3600 })}.s`;

/** Alice signed in (her session in the tab), and the API answering every request with `status` and `body`. */
function signedInWhileTheApiAnswers(status: number, body: object): Auth {
  sessionStorage.setItem("shopdesk.session", JSON.stringify({ idToken: token, expiresAt: Date.now() + 3_600_000, agent: "alice" }));
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/problem+json" } })));
  const demoAgents = (async () => new Response(JSON.stringify({ items: [] }), { status: 200 })) as typeof fetch;
  return new Auth(CONFIG, sessionStorage, demoAgents);
}

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("an agent taken off the desk", () => {
  it("is taken to the sign-in page at their next request, which says their access was removed", async () => {
    // Given alice's inbox open, with a token still valid, when an admin has taken her off the desk
    const auth = signedInWhileTheApiAnswers(403, {
      type: "/problems/forbidden", title: "Forbidden", status: 403, code: "deactivated",
      detail: "alice was taken off the desk by an admin: ask one to put them back",
    });
    render(<App config={CONFIG} auth={auth} />, root());
    // Then the inbox's first requests take her to the sign-in page, saying why, in her language
    await vi.waitFor(() => expect(root().querySelector("main.signin")).not.toBeNull());
    expect(auth.session).toBeNull();
    expect(sessionStorage.getItem("shopdesk.session")).toBeNull();
    expect(root().querySelector("[role=alert]")?.textContent).toBe(
      "Your access to the inbox was removed by an admin. Ask one to put you back on the desk.",
    );
    // and once she signs in again the message is gone with the reason
    auth["save"]({ idToken: token, expiresAt: Date.now() + 3_600_000, agent: "alice" });
    expect(auth.signedOut).toBeNull();
  });

  it("is not what any other refusal does: a 403 of another kind leaves the agent signed in", async () => {
    const auth = signedInWhileTheApiAnswers(403, { type: "/problems/forbidden", title: "Forbidden", status: 403, detail: "this needs the role admins" });
    render(<App config={CONFIG} auth={auth} />, root());
    await vi.waitFor(() => expect(vi.mocked(fetch)).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 100)); // the answers have been handled
    expect(root().querySelector("main.signin")).toBeNull();
    expect(auth.session).not.toBeNull();
  });
});
