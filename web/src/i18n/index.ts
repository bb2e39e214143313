// The interface's words: the agent's choice (kept in this browser), else the browser's language, else English.
import { en, type Catalogue, type MessageKey } from "./en";
import { es } from "./es";
import { pt } from "./pt";
import { fill, firstSupported } from "./core";

export type Locale = "en" | "es" | "pt";
export const LOCALES: Record<Locale, { name: string; catalogue: Catalogue }> = {
  en: { name: "English", catalogue: en },
  es: { name: "Español", catalogue: es },
  pt: { name: "Português", catalogue: pt },
};

/** The first of the browser's languages we have a catalogue for ("pt-BR" -> pt), else English. */
export function pickLocale(chosen: string | null, browser: readonly string[]): Locale {
  return firstSupported([chosen, ...browser], Object.keys(LOCALES) as Locale[], "en");
}

/** A message with its {placeholders} filled in. */
export function format(catalogue: Catalogue, key: MessageKey, values: Record<string, string | number> = {}): string {
  return fill(catalogue[key] ?? en[key] ?? key, values);
}

/** Whether the inbox has words for a key made from what the API said (a status, a reason). */
export function isMessageKey(key: string): key is MessageKey {
  return key in en;
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;
export type { MessageKey };

/** The messages said of a number of things, in two forms: `<key>.one` and `<key>.other`. */
export type CountedKey = {
  [K in MessageKey]: K extends `${infer Base}.other` ? (`${Base}.one` extends MessageKey ? Base : never) : never;
}[MessageKey];

/** Which form a number takes in a language: "one" (1 in English and Spanish; 0 and 1 in Portuguese) or "other"
 *  (the rest, and the languages' other forms such as Spanish's "many" for a million, which read as the plural). */
export function countForm(locale: string, count: number): "one" | "other" {
  return new Intl.PluralRules(locale).select(count) === "one" ? "one" : "other";
}

/** A message said of `count` things, in the form the language gives that number, {count} filled in. */
export function counted(t: Translate, locale: Locale, key: CountedKey, count: number,
                        values: Record<string, string | number> = {}): string {
  return t(`${key}.${countForm(locale, count)}`, { count, ...values });
}

export function translator(locale: Locale): Translate {
  const catalogue = LOCALES[locale].catalogue;
  return (key, values) => format(catalogue, key, values);
}
