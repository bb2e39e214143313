// Labels and macros in the inbox: the pure parts (what a chip looks like, what a selection holds, what a
// macro's results say), kept out of the components so they are tested on their own.
import type { ApplyOut, ApplyResult, Conversation, Label, Macro } from "./api";

/** The label ids of a conversation (none when the answer predates labels). */
export function labelsOf(conv: Conversation): string[] {
  return (conv as Conversation & { labels?: string[] }).labels ?? [];
}

/** A chip's colours: the label's colour behind, black or white text, whichever reads better on it
 * (WCAG relative luminance). */
export function chipColors(color: string): { background: string; color: string } {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1] ?? "999999";
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  // contrast against black (L + 0.05) / 0.05 versus against white 1.05 / (L + 0.05)
  return { background: `#${hex.toLowerCase()}`, color: (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff" };
}

/** Label ids the conversations carry that ``labels`` (as the inbox read them) lack: a label made since, by an admin
 * in another session. */
export function unknownLabels(convs: readonly Conversation[], labels: readonly Label[]): string[] {
  const known = new Set(labels.map((l) => l.id));
  return [...new Set(convs.flatMap(labelsOf))].filter((id) => !known.has(id));
}

/** The labels by id, for chips (retired ones too: conversations keep them). */
export function byId(labels: Label[]): Map<string, Label> {
  return new Map(labels.map((l) => [l.id, l]));
}

/** Labels an agent may add: the unretired ones, by name. */
export function addable(labels: Label[]): Label[] {
  return labels.filter((l) => !l.retired).sort((a, b) => a.name.localeCompare(b.name));
}

/** A selection with ``id`` added, or taken out when it was there. */
export function toggled(selection: string[], id: string): string[] {
  return selection.includes(id) ? selection.filter((x) => x !== id) : [...selection, id];
}

/** The selection kept to what the list still shows (a conversation that left the view leaves it). */
export function stillShown(selection: string[], shown: Conversation[]): string[] {
  const ids = new Set(shown.map((c) => c.id));
  return selection.filter((id) => ids.has(id));
}

/** The names of these labels (the id of one the inbox has not read), as a list to read. */
export function labelNames(ids: readonly string[], labels: readonly Label[]): string {
  const names = byId([...labels]);
  return ids.map((id) => names.get(id)?.name ?? id).join(", ");
}

/** The labels a macro adds that are retired now (applying it skips them). */
export function retiredIn(macro: Macro): string[] {
  return macro.retired_labels ?? [];
}

/** The labels an applied conversation's result says were skipped (retired since the macro was saved). */
export function skippedIn(result: ApplyResult): string[] {
  return result.result === "applied" ? (result.skipped_labels ?? []) : [];
}

/** The refused conversations of a macro's answer, with the words why. */
export function refusals(out: ApplyOut): { id: string; detail: string }[] {
  return out.results
    .filter((r) => r.result === "refused")
    .map((r) => ({ id: r.conversation_id, detail: r.problem?.detail ?? r.problem?.title ?? "" }));
}
