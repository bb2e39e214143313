import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api } from "../api";
import { who as whoOf, type Auth } from "../auth";
import type { AppConfig } from "../config";
import { AppContext, isSupervisor, useApp, type AppContextValue } from "../context";
import { Drafts } from "../drafts";
import { agentTimeZone } from "../format";
import { pickLocale, translator, type Locale } from "../i18n";
import { Live } from "../live";
import { problemWords } from "../problems";
import { parseRoute, usePath, type Route } from "../route";
import { Store } from "../store";
import { AdminPages } from "./AdminPages";
import { Inbox } from "./Inbox";
import { Reports } from "./Reports";
import { SignIn } from "./SignIn";
import { SupervisorBoard } from "./SupervisorBoard";
import { Toast } from "./Toast";
import { TopBar } from "./TopBar";

const LOCALE_KEY = "shopdesk.locale";

export function App({ config, auth }: { config: AppConfig; auth: Auth }) {
  const [session, setSession] = useState(auth.session);
  const [locale, setLocaleState] = useState<Locale>(() =>
    pickLocale(localStorage.getItem(LOCALE_KEY), navigator.languages ?? [navigator.language]),
  );
  useEffect(() => auth.subscribe(() => setSession(auth.session)), [auth]);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = (next: Locale) => {
    localStorage.setItem(LOCALE_KEY, next);
    setLocaleState(next);
  };
  const t = useMemo(() => translator(locale), [locale]);
  if (!session) return <SignIn config={config} auth={auth} t={t} locale={locale} setLocale={setLocale} />;
  return <SignedIn key={session.agent ?? "cognito"} config={config} auth={auth} t={t} locale={locale} setLocale={setLocale} />;
}

function SignedIn(props: {
  config: AppConfig;
  auth: Auth;
  t: ReturnType<typeof translator>;
  locale: Locale;
  setLocale: (l: Locale) => void;
}) {
  const { config, auth, t } = props;
  const [path, navigate] = usePath();
  const who = whoOf(auth.session!);
  const said = useRef(t);
  said.current = t;
  const store = useMemo(() => {
    const api = new Api(config.apiUrl, () => auth.token(), (reason) => auth.expire(reason));
    // the drafts in the tab's sessionStorage, as its session is: a reload keeps them
    // the words of the language chosen now (the store lives across a change of language)
    const words = {
      error: (detail: string) => said.current("error", { detail }),
      problem: (error: unknown) => problemWords(error, said.current),
      gone: () => said.current("conversationGone"),
    };
    return new Store(api, words, new Drafts(sessionStorage, `shopdesk.drafts.${who.id}`));
  }, [config, auth]);

  useEffect(() => {
    const live = new Live({
      wsUrl: config.wsUrl,
      token: () => auth.token(),
      changes: (since) => store.api.changes(since),
      onChange: (change) => store.applyChange(change),
      onReload: () => void store.refresh(),
      onStart: () => void store.start(), // after Live's position: a change the first load misses is caught up
      onState: (state) => {
        store.set({ live: state });
        if (state === "live") {
          // a list or open conversation that failed to load: at once, not at its next backoff
          store.retryList();
          store.retryOpen();
        }
      },
    });
    void live.start();
    const clock = setInterval(() => store.set({ now: Date.now() }), 30_000); // SLA time left moves on
    return () => {
      live.stop();
      store.stop();
      clearInterval(clock);
    };
  }, [store]);

  const route = parseRoute(path);
  const context: AppContextValue = {
    store,
    auth,
    who,
    t,
    locale: props.locale,
    setLocale: props.setLocale,
    timeZone: agentTimeZone(),
    navigate,
  };
  useEffect(() => {
    const titles = { inbox: "inbox", board: "board", reports: "reports", settings: "settings" } as const;
    document.title = `${t(titles[route.page])} · shopdesk`;
  }, [route.page, t]);
  return (
    <AppContext.Provider value={context}>
      <Pages route={route} />
    </AppContext.Provider>
  );
}

/** Every page of the signed-in app under the top bar. The answer to an action (the toast) shows on every page, not
 * only in the inbox: a refusal on the settings, reports or board pages is said in words too. */
export function Pages({ route }: { route: Route }) {
  const { t, who } = useApp();
  // the skip link names what it skips to: the conversations in the inbox, else the page
  const main = route.page === "inbox" ? t("conversations") : t(route.page);
  return (
    <>
      <a class="skip" href="#main">
        {t("skipTo", { page: main })}
      </a>
      <TopBar route={route} />
      <main id="main" class={`page page-${route.page}`}>
        {route.page === "inbox" && <Inbox conversationId={route.conversationId} />}
        {route.page === "board" && (isSupervisor(who) ? <SupervisorBoard /> : <p>{t("notAllowed")}</p>)}
        {route.page === "reports" && (isSupervisor(who) ? <Reports /> : <p>{t("notAllowed")}</p>)}
        {route.page === "settings" && <AdminPages section={route.section} item={route.item} />}
      </main>
      <Toast />
    </>
  );
}
