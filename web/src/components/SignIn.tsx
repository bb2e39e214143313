import { useEffect, useState } from "preact/hooks";
import type { Auth } from "../auth";
import type { AppConfig } from "../config";
import type { Locale, Translate } from "../i18n";
import { LanguagePicker } from "./LanguagePicker";

export function SignIn(props: { config: AppConfig; auth: Auth; t: Translate; locale: Locale; setLocale: (l: Locale) => void }) {
  const { config, auth, t } = props;
  const [agents, setAgents] = useState<{ id: string; name: string; groups: string[] }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = `${t("signIn")} · shopdesk`;
    if (config.auth.mode === "local") auth.localAgents().then(setAgents, (e: Error) => setError(e.message));
  }, [config]);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <div class="signin-card">
        <h1>
          <span class="logo" aria-hidden="true">
            ◆
          </span>{" "}
          shopdesk
        </h1>
        <h2>{t("signInTitle")}</h2>
        {auth.signedOut === "deactivated" && (
          <p role="alert" class="signin-notice">
            {t("signInAccessRemoved")}
          </p>
        )}
        {config.auth.mode === "local" ? (
          <>
            <p class="muted">{t("signInLocal")}</p>
            {agents === null && !error && <p>{t("loading")}</p>}
            <ul class="signin-agents">
              {(agents ?? []).map((a) => (
                <li key={a.id}>
                  <button class="btn btn-primary wide" disabled={busy} onClick={() => run(() => auth.signInLocal(a.id))}>
                    {t("signInAs", { name: a.name })}
                  </button>
                  {a.groups.length > 0 && <span class="muted small"> {a.groups.join(", ")}</span>}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <button class="btn btn-primary wide" disabled={busy} onClick={() => run(() => auth.beginCognito())}>
            {busy ? t("signingIn") : t("signInCognito")}
          </button>
        )}
        {error && (
          <p role="alert" class="error">
            {t("error", { detail: error })}
          </p>
        )}
        <LanguagePicker locale={props.locale} setLocale={props.setLocale} label={t("language")} />
      </div>
    </main>
  );
}
