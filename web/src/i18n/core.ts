/** The first language tag whose base language ("pt-BR" -> "pt") is one of `supported`, else `fallback`. */
export function firstSupported<T extends string>(tags: readonly (string | null | undefined)[],
                                                 supported: readonly T[], fallback: T): T {
  for (const tag of tags) {
    const base = (tag ?? "").toLowerCase().split("-")[0] as T;
    if (supported.includes(base)) return base;
  }
  return fallback;
}

/** A text with its {placeholders} filled in (a placeholder without a value stays as it is). */
export function fill(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
