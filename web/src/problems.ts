// A refusal the API names (its problem's `code` and `params`), said in the agent's language; null for one it does
// not name, or one without words here: the API's own (English) detail is shown then.
import { ApiError, NoAnswer } from "./api";
import { channelName } from "./channels";
import { isMessageKey, type Translate } from "./i18n";

/** Codes whose words the inbox already has under another key. */
const KEYS: Record<string, string> = { opted_out: "optedOut" };

export function problemWords(error: unknown, t: Translate): string | null {
  if (error instanceof NoAnswer) return t(error.method === "GET" ? "noAnswer.read" : "noAnswer.write");
  if (!(error instanceof ApiError) || !error.body || typeof error.body !== "object") return null;
  const { code, params } = error.body as { code?: unknown; params?: unknown };
  if (typeof code !== "string") return null;
  const key = KEYS[code] ?? `problem.${code}`;
  if (!isMessageKey(key)) return null;
  const values: Record<string, string> = {};
  if (params && typeof params === "object") {
    for (const [name, value] of Object.entries(params)) values[name] = String(value);
  }
  if (values.channel) values.channel = channelName(values.channel, t);
  if (values.channels) values.channels = values.channels.split(", ").map((c) => channelName(c, t)).join(", ");
  return t(key, values);
}

/** Whether a save was refused because what was edited changed since it was read: a 409 whose problem is
 *  `changed_meanwhile`, or one without a code (a version conflict, which the API says in English only: "sla-policy
 *  std changed meanwhile (now version 2)…"). The page says so in the agent's words alone (`conflict`) and loads the
 *  latest version; a 409 the API names otherwise (an id taken: `exists`) is `problemWords`' to say. */
export function changedMeanwhile(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.status !== 409) return false;
  const code = error.body && typeof error.body === "object" ? (error.body as { code?: unknown }).code : undefined;
  return code === undefined || code === null || code === "changed_meanwhile";
}

/** A message of the API's as a sentence to show: without pydantic's "Value error, " before a validator's own words,
 *  starting with a capital, ending with a full stop. */
export function sentence(msg: string): string {
  const words = msg.replace(/^Value error, /, "").trim();
  if (!words) return words;
  const capital = words[0]!.toUpperCase() + words.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** What to say of a failed request: a refusal (a 4xx) in the API's own words, as a sentence, or the agent's if the
 *  API names it (`problemWords`); "Something went wrong: …" only for what is not a refusal (a fault, the network). */
export function failureWords(error: unknown, t: Translate): string {
  const named = problemWords(error, t);
  if (named) return named;
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return sentence(error.message);
  return t("error", { detail: error instanceof Error ? error.message : String(error) });
}
