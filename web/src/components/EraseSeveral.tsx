import { useEffect, useRef, useState } from "preact/hooks";
import type { EraseRow, PrivacyJob } from "../api";
import { useApp } from "../context";
import { counted } from "../i18n";
import { followJob, inTurns, namesOf } from "../privacy";
import { Said } from "./Said";
import { TypeToConfirm } from "./TypeToConfirm";
import type { Shown } from "./useSettingsForm";

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Several customers erased at once (a batch of deletion requests): the admin pastes their ids, email addresses or
 *  phone numbers, sees whom each finds, confirms by typing how many, and follows each erase. What is erased is the
 *  customers the admin saw: the erase names them by id, not by the words pasted. */
export function EraseSeveral() {
  const { store, t, locale } = useApp();
  const [text, setText] = useState("");
  const [rows, setRows] = useState<EraseRow[] | null>(null);
  const [jobs, setJobs] = useState<Record<string, PrivacyJob>>({}); // customer id -> their erase job as last read
  const [notQueued, setNotQueued] = useState<string[]>([]); // customers whose erase the privacy queue refused
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Shown | null>(null);
  const left = useRef(false);
  useEffect(
    () => () => {
      left.current = true;
    },
    [],
  );
  const found = (rows ?? []).filter((r) => r.outcome === "found" && r.customer_id);
  const started = Object.keys(jobs).length > 0;
  const again = () => {
    setText(notQueued.join("\n")); // those not started, to find and erase again; else an empty list
    setRows(null);
    setJobs({});
    setNotQueued([]);
  };

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try {
      await work();
    } catch (error) {
      setMessage({ kind: "error", text: t("error", { detail: detailOf(error) }) });
    } finally {
      setBusy(false);
    }
  };
  const preview = () =>
    run(async () => {
      setJobs({});
      const seen: EraseRow[] = [];
      for (const turn of inTurns(namesOf(text))) seen.push(...(await store.api.eraseSeveral(turn, false)).items);
      setRows(seen);
    });
  const erase = () =>
    run(async () => {
      const ids = found.map((r) => r.customer_id!);
      const begun: PrivacyJob[] = [];
      const refused: string[] = [];
      for (const turn of inTurns(ids)) {
        for (const row of (await store.api.eraseSeveral(turn, true)).items) {
          // not_queued: the privacy queue refused it (its job failed, or it was not tried after a refusal)
          if (row.outcome === "not_queued" && row.customer_id) refused.push(row.customer_id);
          else if (row.job_id && row.customer_id)
            begun.push({ job_id: row.job_id, kind: "erase", customer_id: row.customer_id, status: "running" });
        }
      }
      setNotQueued(refused);
      setJobs(Object.fromEntries(begun.map((j) => [j.customer_id ?? j.job_id, j])));
      void follow(begun);
    });
  /** Each erase followed until it is done or failed, one after the other (the jobs run side by side meanwhile, so
   *  the later ones are mostly done by their turn); a read that fails leaves that one as last shown. */
  const follow = async (begun: PrivacyJob[]) => {
    const seen = (job: PrivacyJob) => setJobs((all) => ({ ...all, [job.customer_id ?? job.job_id]: job }));
    for (const job of begun) {
      await followJob(() => store.api.privacyJob(job.job_id), seen, () => left.current).catch(() => null);
    }
  };

  return (
    <section class="card form erase-several" aria-labelledby="erase-several-title">
      <h2 id="erase-several-title">{t("privacy.several")}</h2>
      <p class="muted small">{t("privacy.severalHelp")}</p>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void preview();
        }}
      >
        <label class="field">
          <span>{t("privacy.severalNames")}</span>
          <textarea
            rows={5}
            value={text}
            disabled={started}
            onInput={(e) => {
              setText((e.target as HTMLTextAreaElement).value);
              setRows(null);
            }}
          />
        </label>
        {!started && (
          <button class="btn" type="submit" disabled={busy || namesOf(text).length === 0}>
            {t("privacy.severalFind")}
          </button>
        )}
      </form>
      <Said message={message} />
      {rows && (
        <ul class="plain erase-rows" aria-label={t("privacy.severalFound")}>
          {rows.map((r, i) => (
            <li key={i}>
              <code>{r.input}</code> → {rowWords(r, jobs, notQueued, t)}
            </li>
          ))}
        </ul>
      )}
      {rows && found.length === 0 && <p>{t("privacy.severalNone")}</p>}
      {rows && found.length > 0 && !started && notQueued.length === 0 && (
        <button class="btn btn-danger" disabled={busy} onClick={() => setConfirming(true)}>
          {counted(t, locale, "privacy.severalErase", found.length)}
        </button>
      )}
      {(started || notQueued.length > 0) && (
        <button class="btn" onClick={again}>
          {t("privacy.severalAgain")}
        </button>
      )}
      <TypeToConfirm
        open={confirming}
        id="erase-several-confirm"
        title={counted(t, locale, "privacy.severalTitle", found.length)}
        text={t("privacy.severalText")}
        label={t("privacy.severalType", { count: found.length })}
        expected={String(found.length)}
        confirm={counted(t, locale, "privacy.severalErase", found.length)}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          void erase();
        }}
      />
    </section>
  );
}

type Say = ReturnType<typeof useApp>["t"];

/** What a name found, and where its erase is (`notQueued`: the customers whose erase the privacy queue refused). */
function rowWords(row: EraseRow, jobs: Record<string, PrivacyJob>, notQueued: string[], t: Say): string {
  if (row.outcome === "not_found") return t("privacy.outcome.not_found");
  if (row.outcome === "unrecognised") return t("privacy.outcome.unrecognised");
  const who = row.name ? `${row.name} (${row.customer_id})` : (row.customer_id ?? "");
  if (row.outcome === "same_customer") return t("privacy.outcome.same_customer", { who });
  if (row.outcome === "merged") return t("privacy.outcome.merged", { who, into: row.merged_into ?? "" });
  if (row.outcome === "already_erased" && !(row.customer_id && jobs[row.customer_id]))
    return t("privacy.outcome.already_erased", { who: row.customer_id ?? "", job: row.job_id ?? "" });
  if (row.outcome === "found" && row.customer_id && notQueued.includes(row.customer_id))
    return t("privacy.outcome.not_queued", { who });
  const job = row.customer_id ? jobs[row.customer_id] : undefined;
  return job ? `${who} · ${t(`privacy.status.${job.status}`)}` : who;
}
