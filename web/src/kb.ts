// The knowledge-base page's logic: which articles a filter keeps, how translations are grouped, what an import
// file is sent as, and the import's per-line refusals in words. The bot page's form, both ways.
import type { Article, ArticleIn, ArticleStatus, BotSettings } from "./api";
import { listOf } from "./adminForms";

/** The customer languages the bot is measured in; an article may be in any two-letter language. */
export const KB_LANGUAGES = ["en", "es", "pt", "de", "tr", "id", "sk"] as const;

/** "es" -> "es · Spanish" in the interface's language (the code alone where the browser has no name for it). */
export function languageName(code: string, locale: string): string {
  try {
    const name = new Intl.DisplayNames([locale], { type: "language" }).of(code);
    return name && name !== code ? `${code} · ${name}` : code;
  } catch {
    return code;
  }
}

export interface ArticleFilter {
  language: string; // "" for any
  status: ArticleStatus | "";
  text: string;
}

/** Lower case without accents, so "envio" finds "envío". */
export function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The articles a filter keeps: every word of the text in the id, title, body or tags (any order). */
export function filterArticles(articles: readonly Article[], filter: ArticleFilter): Article[] {
  const words = fold(filter.text).split(/\s+/).filter(Boolean);
  return articles.filter((a) => {
    if (filter.language && a.language !== filter.language) return false;
    if (filter.status && a.status !== filter.status) return false;
    const haystack = fold([a.id, a.title, a.body, ...(a.tags ?? [])].join(" "));
    return words.every((w) => haystack.includes(w));
  });
}

/** An article's translation group other than itself: the original's other versions, or the original and its
 *  other translations when it is one. */
export function translationsOf(articles: readonly Article[], article: Article): Article[] {
  const original = article.translation_of ?? article.id;
  return articles.filter((a) => a.id !== article.id && (a.id === original || a.translation_of === original));
}

/** What an article may translate: an original (translations are one level deep), never itself. */
export function originalsFor(articles: readonly Article[], id: string): Article[] {
  return articles.filter((a) => !a.translation_of && a.id !== id);
}

/** The content type the import route takes for a file, by its name; null for one it does not take. */
export function importContentType(filename: string): string | null {
  const lower = filename.toLowerCase();
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "application/x-ndjson";
  if (lower.endsWith(".md") || lower.endsWith(".markdown")) return "text/markdown";
  return null;
}

export interface LineProblem {
  line: number | null;
  id: string | null;
  msg: string;
}

/** The lines an import was refused for (a 422's `errors`, `loc` = ["body", line, id?]); empty for other answers. */
export function importProblems(body: unknown): LineProblem[] {
  if (!body || typeof body !== "object") return [];
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e: { loc?: unknown[]; msg?: unknown }) => {
    const loc = (e.loc ?? []).filter((p) => p !== "body");
    const line = typeof loc[0] === "number" ? loc[0] : null;
    const id = typeof loc[1] === "string" ? loc[1] : null;
    return { line, id, msg: typeof e.msg === "string" ? e.msg : "invalid" };
  });
}

export interface ArticleForm {
  title: string;
  body: string;
  language: string;
  tags: string;
  url: string;
  translation_of: string;
}

/** The version an edit saves over: the draft's when a published article has one. */
export function headVersion(a: Article): number {
  return a.draft?.version ?? a.version;
}

/** An original's translations, which stop answering when it is retired. */
export function translationsOfOriginal(articles: readonly Article[], article: Article): Article[] {
  return article.translation_of ? [] : articles.filter((a) => a.translation_of === article.id);
}

/** What the editor shows of an article: its draft when a published article has one, else the article. */
export function articleForm(article: Article | null): ArticleForm {
  const a = article?.draft ?? article;
  return {
    title: a?.title ?? "",
    body: a?.body ?? "",
    language: a?.language ?? "en",
    tags: (a?.tags ?? []).join(", "),
    url: a?.url ?? "",
    translation_of: a?.translation_of ?? "",
  };
}

/** The body PUT /admin/kb/articles/{id} takes: trimmed, tags from "a, b", empty url and original as null. */
export function articleFromForm(f: ArticleForm): ArticleIn {
  return {
    title: f.title.trim(),
    body: f.body.trim(),
    language: f.language.trim().toLowerCase(),
    tags: listOf(f.tags),
    url: f.url.trim() || null,
    translation_of: f.translation_of || null,
  };
}

export interface BotForm {
  enabled: boolean;
  channels: string[]; // none ticked: every channel
  teams: string[]; // none ticked: every team
  when: BotSettings["when"];
  threshold: string; // percent; empty: the tuned default
  fallback_language: string; // empty: hand over
  resolve_after_hours: string;
}

export function botForm(b: BotSettings): BotForm {
  return {
    enabled: b.enabled,
    channels: b.channels ?? [],
    teams: b.teams ?? [],
    when: b.when,
    threshold: b.confidence_threshold == null ? "" : String(Math.round(b.confidence_threshold * 1000) / 10),
    fallback_language: b.fallback_language ?? "",
    resolve_after_hours: String(Math.round((b.resolve_after_seconds / 3600) * 100) / 100),
  };
}

/** The body PUT /admin/bot takes; throws with words for what the form cannot send. */
export function botFromForm(f: BotForm): BotSettings {
  let threshold: number | null = null;
  if (f.threshold.trim()) {
    const percent = Number(f.threshold.trim().replace(",", "."));
    if (!Number.isFinite(percent) || percent < 0 || percent > 100)
      throw new Error(`"${f.threshold}" is not a percentage from 0 to 100`);
    threshold = Math.round(percent * 10) / 1000;
  }
  const hours = Number(f.resolve_after_hours.trim().replace(",", "."));
  if (!f.resolve_after_hours.trim() || !Number.isFinite(hours) || hours <= 0)
    throw new Error(`"${f.resolve_after_hours}" is not a number of hours`);
  return {
    enabled: f.enabled,
    channels: f.channels.length ? [...f.channels] : null,
    teams: f.teams.length ? [...f.teams] : null,
    when: f.when,
    confidence_threshold: threshold,
    fallback_language: f.fallback_language || null,
    resolve_after_seconds: Math.round(hours * 3600),
  };
}
