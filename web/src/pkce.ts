// OAuth 2.0 authorization code with PKCE (RFC 7636) against Cognito's hosted UI, with Web Crypto.

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A code verifier: 32 random bytes, base64url (43 characters of the unreserved set). */
export function newVerifier(random: (a: Uint8Array) => Uint8Array = (a) => crypto.getRandomValues(a)): string {
  return base64url(random(new Uint8Array(32)));
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export interface CognitoAuth {
  mode: "cognito";
  domain: string;
  clientId: string;
  redirectUri: string;
  logoutUri: string;
}

export function authorizeUrl(auth: CognitoAuth, challenge: string, state: string): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: "openid email profile",
    code_challenge_method: "S256",
    code_challenge: challenge,
    state,
  });
  return `${auth.domain.replace(/\/$/, "")}/oauth2/authorize?${params}`;
}

export function logoutUrl(auth: CognitoAuth): string {
  const params = new URLSearchParams({ client_id: auth.clientId, logout_uri: auth.logoutUri });
  return `${auth.domain.replace(/\/$/, "")}/logout?${params}`;
}

/** The form body of the token request: exchange a code (with its verifier) or a refresh token. */
export function tokenRequestBody(
  auth: CognitoAuth,
  grant: { code: string; verifier: string } | { refreshToken: string },
): URLSearchParams {
  if ("code" in grant) {
    return new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.clientId,
      code: grant.code,
      redirect_uri: auth.redirectUri,
      code_verifier: grant.verifier,
    });
  }
  return new URLSearchParams({ grant_type: "refresh_token", client_id: auth.clientId, refresh_token: grant.refreshToken });
}

/** The claims of a JWT (not verified: the API verifies it; the app reads expiry, name and groups). */
export function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) return {};
  const padded = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  try {
    const text = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
