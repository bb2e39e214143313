// The runtime configuration (GET /config.json): one build serves every stage.
import type { CognitoAuth } from "./pkce";

export interface AppConfig {
  apiUrl: string; // "" = same origin
  wsUrl: string | null;
  auth: { mode: "local" } | CognitoAuth;
}

export async function loadConfig(fetchFn: typeof fetch = fetch): Promise<AppConfig> {
  const answer = await fetchFn("/config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error(`config.json: HTTP ${answer.status}`);
  const config = (await answer.json()) as Partial<AppConfig>;
  return {
    apiUrl: (config.apiUrl ?? "").replace(/\/$/, ""),
    wsUrl: config.wsUrl ?? null,
    auth: config.auth ?? { mode: "local" },
  };
}
