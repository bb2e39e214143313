// Keyboard shortcuts: one table, used by the key handler and by the help dialog.
import type { MessageKey } from "./i18n";

export type Command =
  | "next"
  | "prev"
  | "open"
  | "reply"
  | "note"
  | "customer"
  | "resolve"
  | "nextConversation"
  | "viewMine"
  | "viewUnassigned"
  | "viewAll"
  | "help"
  | "pick"
  | "escape";

export const SHORTCUTS: { keys: string[]; command: Command; help: MessageKey }[] = [
  { keys: ["j", "ArrowDown"], command: "next", help: "key.next" },
  { keys: ["k", "ArrowUp"], command: "prev", help: "key.prev" },
  { keys: ["Enter", "o"], command: "open", help: "key.open" },
  { keys: ["r"], command: "reply", help: "key.reply" },
  { keys: ["n"], command: "note", help: "key.note" },
  { keys: ["c"], command: "customer", help: "key.customer" },
  { keys: ["e"], command: "resolve", help: "key.resolve" },
  { keys: ["]"], command: "nextConversation", help: "key.nextConv" },
  { keys: ["1", "2", "3"], command: "viewMine", help: "key.views" },
  { keys: ["x"], command: "pick", help: "key.pick" },
  { keys: ["?"], command: "help", help: "key.help" },
  { keys: ["Escape"], command: "escape", help: "key.escape" },
];

/** A key as the help names it in the agent's language (a letter or a sign is itself): "Intro", "Flecha abajo". */
export function keyName(key: string, t: (key: MessageKey) => string): string {
  const named: Record<string, MessageKey> = {
    ArrowDown: "keyName.ArrowDown",
    ArrowUp: "keyName.ArrowUp",
    Enter: "keyName.Enter",
    Escape: "keyName.Escape",
  };
  return named[key] ? t(named[key]) : key;
}

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: { tagName?: string; isContentEditable?: boolean; type?: string } | null;
}

/** True when the key goes to a text field (typing "j" in the reply box is not a shortcut). */
export function inTextField(event: KeyLike): boolean {
  const t = event.target;
  if (!t) return false;
  const tag = (t.tagName ?? "").toUpperCase();
  if (t.isContentEditable) return true;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && !["checkbox", "radio", "button", "submit"].includes((t.type ?? "text").toLowerCase());
}

/** The command a key press means, or null. Only Escape works inside text fields; Enter only on the list. None while
 * a dialog is open over the inbox (`dialogOpen`: the shortcuts' help): the keys are the dialog's, and would otherwise
 * act on the conversation behind it (`e` resolved it, `3` changed the view) while the agent read the help. */
export function commandFor(event: KeyLike, onList: boolean, dialogOpen = false): Command | null {
  if (dialogOpen) return null; // Escape too: the dialog closes itself on it
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (event.key === "Escape") return "escape";
  if (inTextField(event)) return null;
  const tag = (event.target?.tagName ?? "").toUpperCase();
  if (event.key === "Enter" && (!onList || tag === "BUTTON" || tag === "A")) return null;
  // the arrows move the list only from the list (or the page): elsewhere they are the focused thing's (the timeline,
  // focusable so that a keyboard scrolls it, scrolls with them); j and k work everywhere
  if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !onList) return null;
  if (event.key === "2") return "viewUnassigned";
  if (event.key === "3") return "viewAll";
  for (const s of SHORTCUTS) if (s.keys.includes(event.key)) return s.command;
  return null;
}
