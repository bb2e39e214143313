import { useState } from "preact/hooks";
import { useApp } from "../context";
import { agentLabel } from "../format";
import { insertMention, mentionCandidates, mentionQuery } from "../mentions";
import { useStore } from "../store";

/** Under the note box: while an "@name" is being typed, the agents it may mean, each as the inbox names agents (name,
 * else work email, else "Unnamed agent": agentLabel; the handle a choice writes on hover); choosing one writes "@<id>",
 * the token the API reads a mention by. From
 * the keyboard as from the mouse: the arrows move through them, Enter or Tab writes the one shown as chosen (Enter
 * writes a new line only when no agent is suggested). */
export function useMentionSuggestions({ text, boxId, onPick }: { text: string; boxId: string; onPick: (text: string) => void }) {
  const { store, t } = useApp();
  const { agents } = useStore(store);
  const [active, setActive] = useState(0);
  const [, placed] = useState(0);
  const box = typeof document !== "undefined" ? (document.getElementById(boxId) as HTMLTextAreaElement | null) : null;
  // what is typed at the caret (the box's as it is now: a key is read against the text it lands in)
  const at = (caret: number) => {
    const typing = mentionQuery(text, caret);
    return { caret, typing, candidates: typing ? mentionCandidates(agents, typing.query) : [] };
  };
  const { candidates } = at(box?.selectionStart ?? text.length);
  const chosen = Math.min(active, Math.max(candidates.length - 1, 0));
  const pick = (id: string, now = at(box?.selectionStart ?? text.length)) => {
    if (!now.typing) return;
    const next = insertMention(text, now.typing.start, now.caret, id);
    onPick(next.text);
    setActive(0);
    requestAnimationFrame(() => {
      box?.focus();
      box?.setSelectionRange(next.caret, next.caret);
      placed((n) => n + 1); // shown again with the caret after the name: nothing suggested any more
    });
  };
  /** The note box's keys while agents are suggested; true when the key was theirs. */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    const now = at((e.target as HTMLTextAreaElement).selectionStart ?? text.length);
    const candidates = now.candidates;
    if (!candidates.length || e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      setActive((Math.min(active, candidates.length - 1) + (e.key === "ArrowDown" ? 1 : candidates.length - 1)) % candidates.length);
    } else if (e.key === "Enter" || e.key === "Tab") {
      pick(candidates[Math.min(active, candidates.length - 1)]!.id, now);
    } else {
      if (active !== 0) setActive(0); // another letter: the best match first again
      return false;
    }
    e.preventDefault();
    return true;
  };
  const popup = candidates.length ? (
    <div class="mention-suggestions" role="group" aria-label={t("mentionSuggestions")}>
      {candidates.map((a, i) => (
        <button
          key={a.id}
          type="button"
          class={i === chosen ? "btn small active" : "btn small"}
          aria-pressed={i === chosen}
          title={`@${a.id}`}
          onClick={() => pick(a.id)}
        >
          {agentLabel(a, t("unnamedAgent"))}
        </button>
      ))}
    </div>
  ) : null;
  return { onKeyDown, popup };
}
