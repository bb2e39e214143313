import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../context";
import { commandFor } from "../keyboard";
import { useStore } from "../store";
import { Conversation } from "./Conversation";
import { ConversationList } from "./ConversationList";
import { focusCustomerPanel } from "./CustomerPanel";
import { ShortcutsHelp } from "./ShortcutsHelp";

export function Inbox({ conversationId }: { conversationId: string | null }) {
  const { store, navigate, t } = useApp();
  const state = useStore(store);
  const [help, setHelp] = useState(false);
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (conversationId !== state.openId) void store.openConversation(conversationId);
  }, [conversationId]);

  // `toList`: the keyboard goes on from the opened one's item in the list (as after `e`): Resolve pressed in the
  // conversation's header opens the next one, and its button goes with the resolved one, the focus to the page
  const open = (id: string | null, toList = false) => {
    if (toList) refocus.current = true;
    navigate(id ? `/c/${encodeURIComponent(id)}` : "/");
  };
  // the open conversation is no longer there (the store closed it and said so): its address goes too
  useEffect(() => {
    if (state.gone && state.gone === conversationId) navigate("/");
  }, [state.gone]);
  const focusSelected = () => {
    const buttons = listRef.current?.querySelectorAll<HTMLButtonElement>("button.conv");
    buttons?.[store.state.selected]?.focus();
  };
  const focusBox = (name: "reply" | "note") => document.getElementById(`${name}-box`)?.focus();
  // after `e` the next conversation opens and the keyboard carries on from its place in the list (the resolved one's
  // item, which had the focus, is gone: the focus fell back to the page)
  const refocus = useRef(false);
  useEffect(() => {
    if (!refocus.current) return;
    refocus.current = false;
    focusSelected();
  }, [state.openId]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const onList = !!listRef.current?.contains(document.activeElement) || document.activeElement === document.body;
      const command = commandFor(event as unknown as Parameters<typeof commandFor>[0], onList, help);
      if (!command) return;
      const s = store.state;
      const selectedId = store.visible()[s.selected]?.id ?? null;
      switch (command) {
        case "next":
        case "prev":
          // with nothing open and the keyboard not yet on the list, the first j (or k) puts it on the selected
          // conversation (the first, as the list loads) rather than past it: "press j and Enter" opens the first
          if (s.openId || listRef.current?.contains(document.activeElement)) store.move(command === "next" ? 1 : -1);
          focusSelected();
          break;
        case "open":
          if (selectedId) open(selectedId);
          break;
        case "reply":
        case "note":
          if (!s.openId) return;
          focusBox(command);
          break;
        case "customer":
          if (!s.openId) return;
          focusCustomerPanel();
          break;
        case "resolve":
          if (!s.openId || !s.open) return;
          {
            const next = store.nextId();
            void store.setStatus(s.openId, "resolved", t("statusChanged", { status: t("status.resolved") })).then((ok) => {
              if (!ok) return;
              refocus.current = true;
              open(next && next !== s.openId ? next : null);
            });
          }
          break;
        case "nextConversation": {
          const next = store.nextId();
          if (next) open(next);
          break;
        }
        case "viewMine":
        case "viewUnassigned":
        case "viewAll":
          store.setView(command === "viewMine" ? "mine" : command === "viewUnassigned" ? "unassigned" : "all");
          break;
        case "help":
          setHelp(true);
          break;
        case "pick":
          if (selectedId) store.togglePick(selectedId);
          break;
        case "escape": {
          (document.activeElement as HTMLElement | null)?.blur();
          // back to the open conversation's item: the list may have moved it since it was opened (a status, a
          // priority, a new message re-sort it), and the selected place is then another conversation's
          const at = s.openId ? store.visible().findIndex((c) => c.id === s.openId) : -1;
          if (at >= 0 && at !== s.selected) store.set({ selected: at });
          focusSelected();
          return;
        }
      }
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [help]);

  return (
    <div class={state.openId ? "inbox has-open" : "inbox"}>
      <h1 class="visually-hidden">{t("inbox")}</h1>
      <ConversationList listRef={listRef} onOpen={open} />
      {/* named by what it holds: the open conversation (its own heading), or the hint to open one (not "Conversations",
          the list's name) */}
      <section class="conversation-pane" aria-label={state.open ? undefined : t("pickConversation")}>
        {state.openId ? (
          <Conversation onOpen={open} />
        ) : (
          <p class="empty">{t("pickConversation")}</p>
        )}
      </section>
      <ShortcutsHelp open={help} onClose={() => setHelp(false)} />
    </div>
  );
}
