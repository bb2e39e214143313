// Signing in: the local stack's demo agents (tokens from /_local/token) or Cognito's hosted UI
// (authorization code + PKCE, tokens refreshed before they expire). Tokens live in sessionStorage.
import type { SignedOutReason } from "./api";
import type { AppConfig } from "./config";
import { authorizeUrl, challengeOf, claimsOf, logoutUrl, newVerifier, tokenRequestBody, type CognitoAuth } from "./pkce";

export interface Session {
  idToken: string;
  refreshToken?: string;
  expiresAt: number; // ms since the epoch
  agent?: string; // local mode: whom to fetch a new token for
}
export interface Who {
  id: string;
  name: string; // "" when the token has none: the inbox says them by agentNamer, never by their id
  email?: string;
  groups: string[];
}

const KEY = "shopdesk.session";
const PKCE_KEY = "shopdesk.pkce";
const REFRESH_MARGIN_MS = 120_000;

export function who(session: Session): Who {
  const c = claimsOf(session.idToken);
  const id = String(c["cognito:username"] ?? c.username ?? c.sub ?? "");
  const groups = Array.isArray(c["cognito:groups"]) ? (c["cognito:groups"] as string[]) : [];
  const email = typeof c.email === "string" && c.email.trim() ? { email: c.email.trim() } : {};
  return { id, name: typeof c.name === "string" ? c.name.trim() : "", ...email, groups };
}

function expiryOf(idToken: string): number {
  const exp = Number(claimsOf(idToken).exp);
  return Number.isFinite(exp) ? exp * 1000 : Date.now() + 3_600_000;
}

export class Auth {
  private current: Session | null;
  private refreshing: Promise<string | null> | null = null;
  private listeners = new Set<() => void>();
  /** Why the API sent the user back to the sign-in page (the page says so), until they sign in again. */
  signedOut: SignedOutReason | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly storage: Storage = sessionStorage,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
    private readonly go: (url: string) => void = (url) => window.location.assign(url),
  ) {
    const saved = storage.getItem(KEY);
    this.current = saved ? (JSON.parse(saved) as Session) : null;
  }

  get session(): Session | null {
    return this.current;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save(session: Session | null): void {
    this.current = session;
    if (session) this.signedOut = null;
    if (session) this.storage.setItem(KEY, JSON.stringify(session));
    else this.storage.removeItem(KEY);
    this.listeners.forEach((l) => l());
  }

  /** A valid ID token, refreshed first when it expires within two minutes; null when signed out. */
  async token(): Promise<string | null> {
    const s = this.current;
    if (!s) return null;
    if (s.expiresAt - Date.now() > REFRESH_MARGIN_MS) return s.idToken;
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refresh(): Promise<string | null> {
    const s = this.current;
    if (!s) return null;
    try {
      if (this.config.auth.mode === "local" && s.agent) {
        await this.signInLocal(s.agent);
      } else if (this.config.auth.mode === "cognito" && s.refreshToken) {
        const tokens = await this.tokenRequest(this.config.auth, { refreshToken: s.refreshToken });
        this.save({ ...s, idToken: tokens.id_token, expiresAt: expiryOf(tokens.id_token) });
      } else {
        this.save(null);
      }
    } catch {
      if (s.expiresAt <= Date.now()) this.save(null);
    }
    return this.current?.idToken ?? null;
  }

  // -- the local stack
  async localAgents(): Promise<{ id: string; name: string; groups: string[] }[]> {
    const answer = await this.fetchFn("/_local/agents");
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    return ((await answer.json()) as { items: { id: string; name: string; groups: string[] }[] }).items;
  }

  async signInLocal(agent: string): Promise<void> {
    const answer = await this.fetchFn(`/_local/token?agent=${encodeURIComponent(agent)}`);
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const { token } = (await answer.json()) as { token: string };
    this.save({ idToken: token, expiresAt: expiryOf(token), agent });
  }

  // -- Cognito's hosted UI
  async beginCognito(): Promise<void> {
    if (this.config.auth.mode !== "cognito") return;
    const verifier = newVerifier();
    const state = newVerifier();
    this.storage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
    this.go(authorizeUrl(this.config.auth, await challengeOf(verifier), state));
  }

  /** Back from the hosted UI with ?code=&state=: exchange the code; true when a session started. */
  async completeCognito(search: string): Promise<boolean> {
    if (this.config.auth.mode !== "cognito") return false;
    const params = new URLSearchParams(search);
    const code = params.get("code");
    const pending = this.storage.getItem(PKCE_KEY);
    if (!code || !pending) return false;
    this.storage.removeItem(PKCE_KEY);
    const { verifier, state } = JSON.parse(pending) as { verifier: string; state: string };
    if (params.get("state") !== state) throw new Error("the sign-in answer does not match the request (state)");
    const tokens = await this.tokenRequest(this.config.auth, { code, verifier });
    this.save({ idToken: tokens.id_token, refreshToken: tokens.refresh_token, expiresAt: expiryOf(tokens.id_token) });
    return true;
  }

  private async tokenRequest(
    auth: CognitoAuth,
    grant: { code: string; verifier: string } | { refreshToken: string },
  ): Promise<{ id_token: string; refresh_token?: string }> {
    const answer = await this.fetchFn(`${auth.domain.replace(/\/$/, "")}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: tokenRequestBody(auth, grant).toString(),
    });
    if (!answer.ok) throw new Error(`token endpoint: HTTP ${answer.status}`);
    return (await answer.json()) as { id_token: string; refresh_token?: string };
  }

  /** The API refused the token (the stack restarted, the user was disabled), or an admin took the user off the desk:
   *  back to the sign-in page, which says why. */
  expire(reason: SignedOutReason = "expired"): void {
    if (!this.current) return; // the first refusal signed out already (the others were in flight with it)
    this.signedOut = reason;
    this.save(null);
  }

  signOut(): void {
    this.signedOut = null;
    this.save(null);
    if (this.config.auth.mode === "cognito") this.go(logoutUrl(this.config.auth));
  }
}
