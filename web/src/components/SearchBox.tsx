import { useEffect, useRef, useState } from "preact/hooks";
import type { SearchResult } from "../api";
import { moveActive } from "../assist";
import { channelName, customerLabel } from "../channels";
import { useApp } from "../context";
import { failureWords } from "../problems";
import { searchOptions, type SearchOption } from "../search";

const DELAY_MS = 250;

/** The top bar's search (GET /agent/search?q=): conversations and customers by order number, phone, email,
 * id or a word in a message. A combobox: type, move with the arrows, Enter opens; Escape closes. */
export function SearchBox() {
  const { store, t, navigate } = useApp();
  const [q, setQ] = useState("");
  const [result, setResult] = useState<{ q: string; answer: SearchResult } | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const asked = useRef(0);

  const run = (query: string) => {
    const version = ++asked.current;
    setBusy(true);
    store.api.search(query).then(
      (answer) => {
        if (version !== asked.current) return;
        setResult({ q: query, answer });
        setActive(-1);
        setOpen(true);
        setProblem("");
        setBusy(false);
      },
      (e: unknown) => {
        if (version !== asked.current) return;
        setProblem(failureWords(e, t));
        setOpen(true);
        setBusy(false);
      },
    );
  };
  useEffect(() => {
    const query = q.trim();
    if (query.length < 2) {
      asked.current++;
      setResult(null);
      setBusy(false);
      return;
    }
    const timer = setTimeout(() => run(query), DELAY_MS);
    return () => clearTimeout(timer);
  }, [q]);

  const options: SearchOption[] = result ? searchOptions(result.answer) : [];
  const choose = async (option: SearchOption) => {
    setOpen(false);
    if (option.kind === "conversation") {
      navigate(`/c/${encodeURIComponent(option.id)}`);
      return;
    }
    try {
      const profile = await store.api.customer(option.id, null);
      const latest = profile.conversations[0];
      if (latest) navigate(`/c/${encodeURIComponent(latest.id)}`);
      else store.notify("error", t("searchNoConversation"));
    } catch (e) {
      store.notify("error", failureWords(e, t));
    }
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!open && result) setOpen(true);
      setActive(moveActive(active, e.key === "ArrowDown" ? 1 : -1, options.length));
    } else if (e.key === "Enter") {
      const chosen = options[active >= 0 ? active : 0];
      if (open && chosen && result?.q === q.trim()) void choose(chosen);
      else if (q.trim()) run(q.trim());
    } else if (e.key === "Escape") {
      if (!open) return; // the inbox's Escape: leave the box
      setOpen(false);
    } else {
      return;
    }
    e.preventDefault();
  };

  const showList = open && options.length > 0;
  const optionId = (i: number) => `search-option-${i}`;
  return (
    <div class="search" role="search" onFocusOut={(e) => {
      const next = (e as FocusEvent).relatedTarget as Node | null;
      if (!next || !(e.currentTarget as HTMLElement).contains(next)) setOpen(false);
    }}>
      <input
        type="search"
        role="combobox"
        aria-label={t("search")}
        aria-expanded={showList}
        aria-controls={showList ? "search-results" : undefined}
        aria-activedescendant={showList && active >= 0 ? optionId(active) : undefined}
        aria-autocomplete="list"
        placeholder={t("searchPlaceholder")}
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        onFocus={() => result && setOpen(true)}
        onKeyDown={onKeyDown}
      />
      {open && (
        <div class="search-popup">
          {showList && (
            <ul id="search-results" role="listbox" aria-label={t("searchResults")}>
              {options.map((o, i) => (
                <li
                  key={`${o.kind}:${o.id}`}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  class={i === active ? "active" : undefined}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => void choose(o)}
                >
                  <span class="chip">{t(o.kind === "conversation" ? "search.conversation" : "customer")}</span>{" "}
                  <strong>{o.kind === "conversation" ? customerLabel(o.customer, t("customerUnknown")) : customerLabel(o, o.id)}</strong>{" "}
                  {o.kind === "conversation" ? (
                    <span class="muted small">
                      {channelName(o.channel, t)} · {t(`status.${o.status}`)} · {t(`match.${o.matched}`)} · {o.preview}
                    </span>
                  ) : (
                    <span class="muted small">{o.identities.map((i) => i.address).join(", ")}</span>
                  )}
                </li>
              ))}
            </ul>
          )}
          {!busy && result && !options.length && !problem && (
            <p class="muted small" role="status">
              {t("searchNone", { query: result.q })}
            </p>
          )}
          {problem && (
            <p class="form-error" role="alert">
              {problem}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
