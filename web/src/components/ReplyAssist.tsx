import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type CannedResponse, type Conversation, type ReplyContent } from "../api";
import { hasVariables, insertAt, moveActive, rankCanned, replyBody, slashTrigger, suggestedBody, type SlashTrigger } from "../assist";
import { useApp } from "../context";
import { useResetOn } from "../resetOn";

const PREVIEW_DELAY_MS = 400;
const SEARCH_DELAY_MS = 120;

type Preview = { state: "none" } | { state: "pending" } | { state: "ok"; text: string } | { state: "refused"; detail: string };

/** The reply box's two helpers, kept out of the Composer: canned responses (`/` plus letters opens a listbox
 * of GET /agent/canned-responses?q=; Enter inserts the rendered text for editing) and the rendered preview
 * of a text with variables (POST …/preview; a 422 naming the missing variables is shown in words). */
export function useReplyAssist(conv: Conversation, text: string, setText: (text: string) => void, box: RefObject<HTMLTextAreaElement>) {
  const { store, t } = useApp();
  const [trigger, setTrigger] = useState<SlashTrigger | null>(null);
  const [items, setItems] = useState<CannedResponse[]>([]);
  const [searched, setSearched] = useState<string | null>(null); // the query `items` answer
  const [active, setActive] = useState(-1);
  const [inserted, setInserted] = useState<{ id: string; text: string } | null>(null);
  const [problem, setProblem] = useState("");
  const [preview, setPreview] = useState<Preview>({ state: "none" });
  const version = useRef(0);

  const reset = () => {
    setTrigger(null);
    setItems([]);
    setSearched(null);
    setActive(-1);
    setInserted(null);
    setProblem("");
    setPreview({ state: "none" });
  };
  useResetOn(conv.id, reset); // as the conversation changes, not after paint (a `/` typed at once stays)

  // the canned responses for the query after `/`, shortly after the typing stops
  useEffect(() => {
    if (!trigger) return;
    const query = trigger.query;
    const timer = setTimeout(() => {
      store.api.canned(query, conv.id).then( // each with the language of the body inserting it puts in
        (answer) => {
          if (slashTrigger(box.current?.value ?? "", box.current?.selectionStart ?? -1)?.query !== query) return;
          setItems(rankCanned(answer.items, query));
          setSearched(query);
          setActive(answer.items.length ? 0 : -1);
        },
        (e: unknown) => setProblem(e instanceof Error ? e.message : String(e)),
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [trigger?.query, trigger?.start]);

  // a text with variables is shown as the customer will read it
  useEffect(() => {
    const asked = ++version.current;
    if (!hasVariables(text)) {
      setPreview({ state: "none" });
      return;
    }
    setPreview({ state: "pending" });
    const timer = setTimeout(() => {
      store.api.preview(conv.id, { text: text.trim() }).then(
        (answer) => asked === version.current && setPreview({ state: "ok", text: answer.text }),
        (e: unknown) =>
          asked === version.current &&
          setPreview({ state: "refused", detail: e instanceof ApiError || e instanceof Error ? e.message : String(e) }),
      );
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, conv.id]);

  const open = !!trigger && searched === trigger.query;
  const close = () => {
    setTrigger(null);
    setItems([]);
    setSearched(null);
    setActive(-1);
  };

  /** The box's text or caret moved: is the caret right after a `/query`? */
  const update = (value: string, caret: number) => {
    const next = slashTrigger(value, caret);
    setTrigger(next);
    if (!next) close();
    setProblem("");
  };

  const insert = async (item: CannedResponse) => {
    const at = trigger;
    close();
    if (!at) return;
    try {
      const rendered = (await store.api.preview(conv.id, { canned_response_id: item.id })).text;
      const current = box.current?.value ?? text;
      const done = insertAt(current, at, rendered);
      setText(done.text);
      setInserted({ id: item.id, text: rendered });
      requestAnimationFrame(() => {
        box.current?.focus();
        box.current?.setSelectionRange(done.caret, done.caret);
      });
    } catch (e) {
      // the `/shortcode` goes too: left in the box, it would be sent to the customer as it is
      const current = box.current?.value ?? text;
      setText(insertAt(current, at, "").text);
      setProblem(t("cannedFailed", { title: item.title, detail: e instanceof Error ? e.message : String(e) }));
    }
  };

  /** Keys for the listbox while it is open; true when the key was used here. */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      setActive(moveActive(active, e.key === "ArrowDown" ? 1 : -1, items.length));
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.shiftKey && items.length) {
      const chosen = items[active >= 0 ? active : 0];
      if (chosen) void insert(chosen);
    } else if (e.key === "Escape") {
      close();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  };

  const listId = "canned-listbox";
  const optionId = (i: number) => `canned-option-${i}`;
  const showList = open && items.length > 0;
  const boxProps = {
    "aria-autocomplete": "list" as const,
    "aria-controls": showList ? listId : undefined,
    "aria-activedescendant": showList && active >= 0 ? optionId(active) : undefined,
    "aria-describedby": "reply-hint",
  };

  const popup = (
    <>
      <p id="reply-hint" class="muted small reply-hint">
        {t("cannedHint")}
      </p>
      {showList && (
        <ul id={listId} class="canned-list" role="listbox" aria-label={t("cannedResponses")}>
          {items.map((item, i) => (
            <li
              key={item.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : undefined}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => void insert(item)}
            >
              <strong>/{item.shortcode}</strong> {item.title}
              <span class="muted small"> {suggestedBody(item)}</span>
            </li>
          ))}
        </ul>
      )}
      {open && !items.length && (
        <p class="muted small" role="status">
          {t("cannedNone", { query: trigger?.query ?? "" })}
        </p>
      )}
      {problem && (
        <p class="form-error" role="alert">
          {problem}
        </p>
      )}
    </>
  );

  const previewView =
    preview.state === "none" ? null : (
      <div class={`reply-preview preview-${preview.state}`} role="status" aria-live="polite">
        {preview.state === "pending" && <span class="muted small">{t("previewing")}</span>}
        {preview.state === "ok" && (
          <>
            <span class="muted small">{t("previewTitle")}</span>
            <p class="preview-text">{preview.text}</p>
          </>
        )}
        {preview.state === "refused" && <span class="form-error">{t("previewRefused", { detail: preview.detail })}</span>}
      </div>
    );

  return {
    update,
    onKeyDown,
    boxProps,
    popup,
    preview: previewView,
    /** Sending waits for the preview of a text with variables, and not while it is refused. */
    blocked: preview.state === "pending" || preview.state === "refused",
    body: (value: string): ReplyContent => replyBody(value, inserted),
    reset,
  };
}
