import { useApp } from "../context";
import { insertMention, mentionCandidates, mentionQuery } from "../mentions";
import { useStore } from "../store";

/** Under the note box: while an "@name" is being typed, the agents it may mean; choosing one writes "@<id>". */
export function MentionSuggestions({ text, boxId, onPick }: { text: string; boxId: string; onPick: (text: string) => void }) {
  const { store, t } = useApp();
  const { agents } = useStore(store);
  const box = typeof document !== "undefined" ? (document.getElementById(boxId) as HTMLTextAreaElement | null) : null;
  const caret = box?.selectionStart ?? text.length;
  const typing = mentionQuery(text, caret);
  if (!typing) return null;
  const candidates = mentionCandidates(agents, typing.query);
  if (!candidates.length) return null;
  const pick = (id: string) => {
    const next = insertMention(text, typing.start, caret, id);
    onPick(next.text);
    requestAnimationFrame(() => {
      box?.focus();
      box?.setSelectionRange(next.caret, next.caret);
    });
  };
  return (
    <div class="mention-suggestions" role="group" aria-label={t("mentionSuggestions")}>
      {candidates.map((a) => (
        <button key={a.id} type="button" class="btn small" onClick={() => pick(a.id)}>
          @{a.id}
          {a.name ? ` · ${a.name}` : ""}
        </button>
      ))}
    </div>
  );
}
