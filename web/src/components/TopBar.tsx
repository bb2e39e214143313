import { useEffect, useRef, useState } from "preact/hooks";
import type { Presence } from "../api";
import { isSupervisor, useApp } from "../context";
import { agentNamer, teamNames } from "../format";
import type { Route } from "../route";
import { useStore } from "../store";
import { LanguagePicker } from "./LanguagePicker";
import { SearchBox } from "./SearchBox";

const PRESENCES: Presence[] = ["online", "away", "offline"];

export function TopBar({ route }: { route: Route }) {
  const { store, t, who, auth, navigate, locale, setLocale } = useApp();
  const { me, live, teams } = useStore(store);
  // the agent's own presence and load: no change notice carries them, and another tab (or an admin) may have changed
  // them; read again as this tab is shown or focused (and the list and the open conversation, if their last read failed)
  useEffect(() => {
    const again = () => {
      if (document.hidden) return;
      store.refreshMe();
      store.retryList(); // a list whose last read failed
      store.retryOpen(); // an open conversation whose last read failed
      store.toolsIfNone(); // the desk's first macro, made meanwhile in another tab or by an admin
    };
    document.addEventListener("visibilitychange", again);
    window.addEventListener("focus", again);
    return () => {
      document.removeEventListener("visibilitychange", again);
      window.removeEventListener("focus", again);
    };
  }, [store]);
  // the agent's own things (presence, load, language, sign out) sit in the bar where it is wide, and behind one button
  // (their first name and presence) below 1280 px, so the bar stays one row on a 1024-wide laptop (styles.css); open,
  // Escape (or a click or the focus elsewhere) closes it
  const [account, setAccount] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!account) return;
    const away = (e: Event) => {
      if (!menu.current?.parentElement?.contains(e.target as Node)) setAccount(false); // (the button's too: it toggles)
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [account]);
  const name = agentNamer([], me, who, t("unnamedAgent"))(who.id) ?? t("unnamedAgent"); // never their id
  const accountLabel = `${t("account", { name })}${me ? ` · ${t(`presence.${me.presence}`)}` : ""}`;
  const firstName = name.split(/\s+/)[0] || name; // shown: part of the button's name (voice control says it)
  const link = (page: Route["page"], href: string, label: string) => (
    <a
      href={href}
      aria-current={route.page === page ? "page" : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {label}
    </a>
  );
  return (
    <header class="topbar">
      <span class="brand">
        <span class="logo" aria-hidden="true">
          ◆
        </span>{" "}
        <span class="brand-name">shopdesk</span>
      </span>
      <nav aria-label="shopdesk">
        {link("inbox", "/", t("inbox"))}
        {isSupervisor(who) && link("board", "/board", t("board"))}
        {isSupervisor(who) && link("reports", "/reports", t("reports"))}
        {link("settings", isSupervisor(who) ? "/settings/agents" : "/settings/my-canned", t("settings"))}
      </nav>
      <SearchBox />
      <span class="spacer" />
      <span class={`live live-${live}`} role="status" aria-label={t(`live.${live}`)} title={t(`live.${live}`)}>
        <span class="dot" aria-hidden="true" />
        <span class="live-text">{t(`liveShort.${live}`)}</span>
      </span>
      <div
        class="account"
        onKeyDown={(e) => {
          if (e.key !== "Escape" || !account) return;
          e.preventDefault(); // (the inbox's Escape would take the keyboard to the list)
          setAccount(false);
          toggle.current?.focus();
        }}
        onFocusOut={(e) => {
          const to = (e as FocusEvent).relatedTarget as Node | null;
          if (to && !(e.currentTarget as HTMLElement).contains(to)) setAccount(false);
        }}
      >
        <button
          ref={toggle}
          type="button"
          class="btn account-toggle"
          aria-expanded={account}
          aria-controls="account-menu"
          aria-label={accountLabel}
          title={accountLabel}
          onClick={() => setAccount(!account)}
        >
          <span class={`account-dot presence-dot-${me?.presence ?? "offline"}`} aria-hidden="true" />
          {firstName}
          <span class="account-caret" aria-hidden="true">
            ▾
          </span>
        </button>
        <div
          id="account-menu"
          ref={menu}
          class={account ? "account-menu open" : "account-menu"}
        >
          {me && (
            <>
              <label class="field inline presence">
                <span>{t("presence")}</span>
                <select
                  class={`presence-${me.presence}`}
                  value={me.presence}
                  onChange={(e) => store.setPresence((e.target as HTMLSelectElement).value as Presence)}
                >
                  {PRESENCES.map((p) => (
                    <option key={p} value={p}>
                      {t(`presence.${p}`)}
                    </option>
                  ))}
                </select>
              </label>
              <span class="load" title={`${t("load", { active: me.active, capacity: me.capacity })} · ${teamNames(teams, me.teams)}`}>
                <span class="load-long">{t("load", { active: me.active, capacity: me.capacity })}</span>
                <span class="load-short" aria-hidden="true">
                  {me.active}/{me.capacity}
                </span>
              </span>
            </>
          )}
          <LanguagePicker locale={locale} setLocale={setLocale} label={t("language")} />
          <span class="who">{name}</span>
          <button
            class="btn"
            title={name}
            onClick={() => {
              store.drafts.clear(); // a draft holds what customers said: it goes with the session
              auth.signOut();
            }}
          >
            {t("signOut")}
          </button>
        </div>
      </div>
    </header>
  );
}
