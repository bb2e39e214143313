import { describe, expect, it } from "vitest";
import { authorizeUrl, challengeOf, claimsOf, logoutUrl, newVerifier, tokenRequestBody, type CognitoAuth } from "./pkce";

const AUTH: CognitoAuth = {
  mode: "cognito",
  domain: "https://shop.auth.eu-west-1.amazoncognito.com/",
  clientId: "client123",
  redirectUri: "https://inbox.example.com/",
  logoutUri: "https://inbox.example.com/",
};

describe("PKCE", () => {
  it("derives the S256 challenge of RFC 7636's example verifier", async () => {
    expect(await challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("makes 43-character url-safe verifiers that differ every time", () => {
    const a = newVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newVerifier()).not.toBe(a);
  });

  it("asks the hosted UI for a code with the challenge, and exchanges it at /oauth2/token without a secret", () => {
    const url = new URL(authorizeUrl(AUTH, "chal", "st"));
    expect(url.origin + url.pathname).toBe("https://shop.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "client123",
      redirect_uri: "https://inbox.example.com/",
      code_challenge_method: "S256",
      code_challenge: "chal",
      state: "st",
    });
    const body = Object.fromEntries(tokenRequestBody(AUTH, { code: "abc", verifier: "v" }));
    expect(body).toEqual({
      grant_type: "authorization_code",
      client_id: "client123",
      code: "abc",
      redirect_uri: "https://inbox.example.com/",
      code_verifier: "v",
    });
    expect(Object.fromEntries(tokenRequestBody(AUTH, { refreshToken: "r" }))).toEqual({
      grant_type: "refresh_token",
      client_id: "client123",
      refresh_token: "r",
    });
    expect(logoutUrl(AUTH)).toBe(
      "https://shop.auth.eu-west-1.amazoncognito.com/logout?client_id=client123&logout_uri=https%3A%2F%2Finbox.example.com%2F",
    );
  });

  it("reads a token's claims (url-safe base64, unicode names)", () => {
    const payload = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify({ name: "Zoë", exp: 5 }))))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(claimsOf(`h.${payload}.s`)).toEqual({ name: "Zoë", exp: 5 });
    expect(claimsOf("garbage")).toEqual({});
  });
});
