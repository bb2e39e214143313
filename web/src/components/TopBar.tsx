import { useEffect } from "preact/hooks";
import type { Presence } from "../api";
import { isSupervisor, useApp } from "../context";
import { teamNames } from "../format";
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
        shopdesk
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
        {t(`liveShort.${live}`)}
      </span>
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
      <span class="who">{who.name}</span>
      <button
        class="btn"
        title={who.name}
        onClick={() => {
          store.drafts.clear(); // a draft holds what customers said: it goes with the session
          auth.signOut();
        }}
      >
        {t("signOut")}
      </button>
    </header>
  );
}
