import { useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  type Agent,
  type AuditRecord,
  type Customer,
  type PrivacyJob,
  type PrivacyRequest,
  type PrivacySettings,
  type PrivacySettingsOut,
} from "../api";
import { useApp } from "../context";
import { useStore } from "../store";
import { agentName, formatFull } from "../format";
import { counted, isMessageKey, type CountedKey } from "../i18n";
import { failureWords } from "../problems";
import {
  auditQuery,
  changes,
  followJob,
  KEPT_WHEN_EMPTY,
  lastLookWords,
  listedCustomers,
  maskingAdded,
  MIN_DAYS,
  nameKind,
  privacyForm,
  privacyFromForm,
  sentMaskingIndex,
  RETENTION_CLASSES,
  recordWhat,
  savedWalkLater,
  shown,
  walksQueued,
  type AuditFilter,
  type PrivacyForm,
} from "../privacy";
import { EraseSeveral } from "./EraseSeveral";
import { Said } from "./Said";
import { TypeToConfirm } from "./TypeToConfirm";
import { useSettingsForm, type Shown } from "./useSettingsForm";

/** The audit log's customer, named by email or phone, is nobody (an erased customer's phone). */
class NoCustomer extends Error {}

/** The API's refusals of one field, under it (and named by it: `aria-describedby`). */
export function FieldErrors({ id, errors }: { id: string; errors: string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <span id={id} class="form-error" role="alert">
      {errors.join("; ")}
    </span>
  );
}

const invalid = (id: string, errors: string[] | undefined) =>
  errors?.length ? { "aria-invalid": true as const, "aria-describedby": id } : {};

// ---------------------------------------------------------------- the audit log

/** The audit trail, newest first: who did what, when, from where, to which customer, and what a change changed;
 *  filtered by actor, customer and time (the admin's own time), a page at a time. */
export function AuditAdmin() {
  const { store, t, locale, timeZone } = useApp();
  const state = useStore(store); // the agents: the filter takes a name, the rows say whose
  const [filter, setFilter] = useState<AuditFilter>({ actor: "", customer_id: "", from: "", to: "", outcome: "", lists: false });
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [listsOf, setListsOf] = useState<string | undefined>(); // the customer the records' lists showed
  const [cursor, setCursor] = useState<string | null>(null);
  const [message, setMessage] = useState<Shown | null>(null);
  const asked = useRef(auditQuery(filter));
  const latest = useRef(0); // an answer to an earlier request (the first, unfiltered load) never replaces a later one
  // after Show more, the first row it loaded takes the focus (the button goes with the last page; focus would fall to
  // the top of the page)
  const table = useRef<HTMLTableElement>(null);
  const focusRow = useRef<number | null>(null);
  useEffect(() => {
    // an effect can run late, after the next page was asked: the row is taken only once it is on the page
    const at = focusRow.current;
    const row = at === null ? undefined : table.current?.querySelectorAll<HTMLElement>("tbody tr")[at];
    if (!row) return;
    focusRow.current = null;
    row.focus();
  }, [records]);
  const load = async (more: boolean) => {
    setMessage(null);
    const mine = ++latest.current;
    try {
      if (!more) asked.current = await withCustomerId(auditQuery(filter, state.agents));
      if (mine !== latest.current) return;
      const page = await store.api.audit({ ...asked.current, cursor: more ? cursor : undefined });
      if (mine !== latest.current) return;
      focusRow.current = more && page.items.length ? (records?.length ?? 0) : null;
      setRecords(more ? [...(records ?? []), ...page.items] : page.items);
      setListsOf(asked.current.lists ? asked.current.customer_id : undefined);
      setCursor(page.next_cursor ?? null);
    } catch (error) {
      if (mine !== latest.current) return;
      // a filter refused (from after to) in the API's words, a customer not found in the admin's: not "went wrong"
      setMessage({ kind: "error", text: error instanceof NoCustomer ? error.message : failureWords(error, t) });
      if (!more) {
        setRecords(null); // what is listed would look like the answer to the filter that failed
        setCursor(null);
      }
    }
  };
  /** The customer named by email or phone is looked up as the customers page does; the trail is kept by id. */
  const withCustomerId = async (q: ReturnType<typeof auditQuery>) => {
    const name = q.customer_id;
    if (!name || nameKind(name) === "id") return q;
    const [found] = (await store.api.findCustomers(nameKind(name) === "email" ? { email: name } : { phone: name })).items;
    if (!found) throw new NoCustomer(t("privacy.noCustomer"));
    return { ...q, customer_id: found.id };
  };
  useEffect(() => {
    void load(false);
  }, []);
  const input = (key: keyof AuditFilter) => (e: Event) => {
    const value = (e.target as HTMLInputElement | HTMLSelectElement).value;
    setFilter((f) => ({ ...f, [key]: value }));
  };
  const hasCustomer = filter.customer_id.trim() !== ""; // the API takes lists only with a customer
  return (
    <section>
      <h1>{t("admin.audit")}</h1>
      <form
        class="card form audit-filter"
        aria-label={t("audit.filter")}
        onSubmit={(e) => {
          e.preventDefault();
          void load(false);
        }}
      >
        <label class="field">
          <span>{t("audit.actor")}</span>
          <input value={filter.actor} onInput={input("actor")} placeholder="alice" list="audit-actors" />
          <datalist id="audit-actors">
            {state.agents.map((a) => (
              <option key={a.id} value={a.id} label={agentName(state.agents, a.id, t("unnamedAgent"))} />
            ))}
          </datalist>
        </label>
        <label class="field">
          <span>{t("audit.customerFilter")}</span>
          <input value={filter.customer_id} onInput={input("customer_id")} />
        </label>
        <div class="field">
          <label class="field inline">
            <input
              type="checkbox"
              checked={hasCustomer && !!filter.lists}
              disabled={!hasCustomer}
              aria-describedby="audit-lists-help"
              onChange={(e) => {
                const lists = (e.target as HTMLInputElement).checked;
                setFilter((f) => ({ ...f, lists }));
              }}
            />
            <span>{t("audit.lists")}</span>
          </label>
          <span id="audit-lists-help" class="muted small">
            {t("audit.listsHelp")}
          </span>
        </div>
        <label class="field">
          <span>{t("audit.from")}</span>
          <input type="datetime-local" value={filter.from} onInput={input("from")} />
        </label>
        <label class="field">
          <span>{t("audit.to")}</span>
          <input type="datetime-local" value={filter.to} onInput={input("to")} />
        </label>
        <label class="field">
          <span>{t("audit.outcome")}</span>
          <select value={filter.outcome} onChange={input("outcome")}>
            <option value="">{t("audit.outcome.any")}</option>
            <option value="denied">{t("audit.outcome.denied")}</option>
            <option value="failed">{t("audit.outcome.failed")}</option>
            <option value="allowed">{t("audit.outcome.allowed")}</option>
          </select>
        </label>
        <button class="btn btn-primary" type="submit">
          {t("audit.apply")}
        </button>
      </form>
      <Said message={message} />
      {records && !records.length && !cursor && <p class="muted">{t("audit.none")}</p>}
      {records && records.length > 0 && (
        <table class="audit" aria-label={t("admin.audit")} ref={table}>
          <thead>
            <tr>
              <th scope="col">{t("audit.when")}</th>
              <th scope="col">{t("audit.who")}</th>
              <th scope="col">{t("audit.what")}</th>
              <th scope="col">{t("audit.customer")}</th>
              <th scope="col">{t("audit.where")}</th>
              <th scope="col">{t("audit.changes")}</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <AuditRow
                key={r.id}
                record={r}
                when={formatFull(r.at, locale, timeZone)}
                agents={state.agents}
                listsOf={listsOf}
              />
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button class="btn" onClick={() => void load(true)}>
          {t("audit.more")}
        </button>
      )}
    </section>
  );
}

/** `listsOf`: the customer whose trail was asked with the lists that showed them; such a list's row says so. */
function AuditRow(props: { record: AuditRecord; when: string; agents: readonly Agent[]; listsOf?: string }) {
  const { record: r, when, agents, listsOf } = props;
  const { t } = useApp();
  const name = agentName(agents, r.actor, t("unnamedAgent"));
  // a list named the customer, or one merged into them (the API keeps no other lists): their id when it is theirs
  const listed = listsOf ? listedCustomers(r) : null;
  const changed = changes(r.before, r.after);
  const details = Object.entries(r.details ?? {});
  const denied = r.outcome === "denied";
  const failed = r.outcome === "failed"; // allowed, it changed data, then failed (a reply the queue refused: 503)
  return (
    <tr tabIndex={-1}>
      <td>
        <time dateTime={r.at}>{when}</time>
      </td>
      <td>
        {name}
        {name !== r.actor && <span class="muted small"> · {r.actor}</span>}
        {r.roles?.length ? <span class="muted small"> ({r.roles.join(", ")})</span> : null}
      </td>
      <td>
        {denied && (
          <div>
            <strong class="chip chip-warn">{t("audit.denied")}</strong>
            {r.reason && <span class="small"> {t(`audit.reason.${r.reason}`)}</span>}
          </div>
        )}
        {failed && (
          <div>
            <strong class="chip chip-bad">{t("audit.failed")}</strong>
            <span class="small"> {t("audit.failedWhy")}</span>
          </div>
        )}
        <code>{recordWhat(r)}</code>
        {r.status != null && <span class="muted small"> · {r.status}</span>}
        {r.conversation_id && <div class="muted small">{t("audit.conversation", { id: r.conversation_id })}</div>}
      </td>
      <td>
        {listed ? (
          <>
            {listed.includes(listsOf ?? "") ? `${listsOf} · ` : ""}
            <span class="chip">{t("audit.onList")}</span>
          </>
        ) : (
          (r.customer_id ?? "")
        )}
      </td>
      <td>
        {r.source_ip ?? ""}
        {r.user_agent && <div class="muted small audit-agent">{r.user_agent}</div>}
      </td>
      <td>
        {changed.length > 0 && (
          <ul class="plain audit-changes">
            {changed.map((c) => (
              <li key={c.field}>
                {c.field && <span class="muted">{c.field}: </span>}
                <del>{c.before}</del> → <ins>{c.after}</ins>
              </li>
            ))}
          </ul>
        )}
        {details.length > 0 && (
          <ul class="plain muted small">
            {details.map(([k, v]) => (
              <li key={k}>
                {k}: {shown(v)}
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

// ---------------------------------------------------------------- a customer's export and erase

/** A customer's data exported (a zip behind a short-lived link) or erased everywhere, each a job followed until
 *  it is done or failed; the shop platform's privacy requests below. Admins only. */
export function PrivacyAdmin({ customerId = "" }: { customerId?: string }) {
  const { store, t } = useApp();
  const [id, setId] = useState(customerId);
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [jobs, setJobs] = useState<PrivacyJob[]>([]);
  const [names, setNames] = useState<Record<string, string>>({}); // whom each job is about, as the card named them
  const [erasing, setErasing] = useState(false);
  const [message, setMessage] = useState<Shown | null>(null);
  const left = useRef(false);
  useEffect(
    () => () => {
      left.current = true;
    },
    [],
  );
  const find = async (wanted: string) => {
    setMessage(null);
    setCustomer(null);
    const name = wanted.trim();
    const kind = nameKind(name);
    try {
      if (kind === "id") setCustomer(await store.api.adminCustomer(name));
      else {
        const [first] = (await store.api.findCustomers(kind === "email" ? { email: name } : { phone: name })).items;
        if (first) setCustomer(first);
        else setMessage({ kind: "error", text: t("privacy.noCustomer") });
      }
    } catch (error) {
      const missing = error instanceof ApiError && error.status === 404;
      setMessage({ kind: "error", text: missing ? t("privacy.noCustomer") : failureWords(error, t) });
    }
  };
  useEffect(() => {
    if (customerId) void find(customerId);
  }, [customerId]);
  const seen = (job: PrivacyJob) => setJobs((all) => [job, ...all.filter((j) => j.job_id !== job.job_id)]);
  const start = async (kind: "export" | "erase", who: Customer) => {
    setMessage(null);
    // their exports shown here: an erase deletes them, and they say so once it is done (their links are gone)
    const exported = jobs.filter((j) => j.kind === "export" && j.customer_id === who.id && j.status === "done");
    try {
      const { job_id } = await store.api.startPrivacyJob(who.id, kind);
      if (titleOf(who) !== who.id) setNames((n) => ({ ...n, [who.id]: titleOf(who) }));
      seen({ job_id, kind, customer_id: who.id, status: "running" });
      const last = await followJob(() => store.api.privacyJob(job_id), seen, () => left.current);
      if (kind === "erase" && last?.status === "done") {
        setCustomer(null); // nobody left to export or erase
        const now = await Promise.all(exported.map((j) => store.api.privacyJob(j.job_id)));
        setJobs((all) => all.map((j) => now.find((n) => n.job_id === j.job_id) ?? j));
      }
    } catch (error) {
      // a customer merged into another, or erased already: said in the admin's words, with whom to erase instead
      setMessage({ kind: "error", text: failureWords(error, t) });
    }
  };
  return (
    <section>
      <h1>{t("admin.privacy")}</h1>
      <form
        class="card form"
        aria-label={t("privacy.find")}
        onSubmit={(e) => {
          e.preventDefault();
          void find(id);
        }}
      >
        <label class="field">
          <span>{t("privacy.customerId")}</span>
          <input
            value={id}
            onInput={(e) => setId((e.target as HTMLInputElement).value)}
            placeholder="hendrika@example.com, +31 6 1234 5678"
            required
          />
        </label>
        <button class="btn" type="submit">
          {t("find")}
        </button>
      </form>
      {customer && (
        <div class="card" role="group" aria-label={t("privacy.customer", { name: titleOf(customer) })}>
          <h2>{titleOf(customer)}</h2>
          {titleOf(customer) !== customer.id && <p class="muted small">{customer.id}</p>}
          <p class="muted small">{t("privacy.help")}</p>
          <button class="btn" onClick={() => void start("export", customer)}>
            {t("privacy.export")}
          </button>{" "}
          <button class="btn btn-danger" onClick={() => setErasing(true)}>
            {t("privacy.erase")}
          </button>
        </div>
      )}
      <Said message={message} />
      {jobs.length > 0 && (
        <ul class="plain privacy-jobs" aria-label={t("privacy.jobs")}>
          {jobs.map((j) => (
            <JobLine key={j.job_id} job={j} name={j.customer_id ? names[j.customer_id] : undefined} />
          ))}
        </ul>
      )}
      <EraseDialog
        customer={erasing ? customer : null}
        onCancel={() => setErasing(false)}
        onConfirm={(who) => {
          setErasing(false);
          void start("erase", who);
        }}
      />
      <EraseSeveral />
      <PrivacyRequests />
    </section>
  );
}

/** What an export or erase counts, in words (one the app does not know yet: as the API names it). */
const JOB_COUNTS: Record<string, CountedKey> = {
  conversations: "privacy.count.conversations",
  files: "privacy.count.files",
  items: "privacy.count.items",
  markers: "privacy.count.markers",
  exports: "privacy.count.exports",
};

/** Whom the card is about: their name, else the address they wrote from (an SMS customer has no name), else the id. */
const titleOf = (c: Customer) => c.name || c.identities?.[0]?.address || c.id;

function JobLine({ job, name }: { job: PrivacyJob; name?: string }) {
  const { t, locale, timeZone } = useApp();
  const look = lastLookWords(job, t, locale, timeZone);
  const counts = Object.entries(job.counts ?? {})
    .map(([k, n]) => (JOB_COUNTS[k] ? counted(t, locale, JOB_COUNTS[k], n) : `${k}: ${n}`))
    .join(", ");
  return (
    <li class="card" aria-busy={job.status === "running"}>
      <span role="status">
        {t(`privacy.job.${job.kind}`, { id: name ? `${name} (${job.customer_id})` : (job.customer_id ?? "") })} ·{" "}
        {t(`privacy.status.${job.status}`)}
      </span>
      {counts && <div class="muted small">{counts}</div>}
      {look && <div class={look.failed ? "error" : "muted small"}>{look.text}</div>}
      {job.error && <div class="error">{job.error}</div>}
      {job.archive_deleted && <div class="muted small">{t(`privacy.archiveDeleted.${job.archive_deleted}`)}</div>}
      {job.download_url && (
        <div>
          <a href={job.download_url} download>
            {t("privacy.download")}
          </a>{" "}
          <span class="muted small">{t("privacy.downloadHelp")}</span>
        </div>
      )}
    </li>
  );
}

/** An erase cannot be undone: the admin confirms it by typing the customer's id. */
function EraseDialog(props: { customer: Customer | null; onCancel: () => void; onConfirm: (c: Customer) => void }) {
  const { t } = useApp();
  const c = props.customer;
  const name = c ? c.name || c.id : "";
  return (
    <TypeToConfirm
      open={c !== null}
      id="erase"
      title={t("privacy.eraseTitle", { name })}
      text={t("privacy.eraseText", { id: c?.id ?? "" })}
      label={t("privacy.eraseType", { id: c?.id ?? "" })}
      expected={c?.id ?? ""}
      confirm={t("privacy.eraseConfirm", { name })}
      onCancel={props.onCancel}
      onConfirm={() => c && props.onConfirm(c)}
    />
  );
}

/** The shop platform's privacy requests (data requests, redactions), newest first. */
function PrivacyRequests() {
  const { store, t, locale, timeZone } = useApp();
  const [items, setItems] = useState<PrivacyRequest[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = async (more: boolean) => {
    await store.run(async () => {
      const page = await store.api.privacyRequests(more ? cursor : null);
      setItems(more ? [...(items ?? []), ...page.items] : page.items);
      setCursor(page.next_cursor ?? null);
    });
  };
  useEffect(() => {
    void load(false);
  }, []);
  // the words for a topic or status we know; one a newer platform sends is shown as it came
  const known = (key: string) => (isMessageKey(key) ? t(key) : null);
  return (
    <div>
      <h2 id="privacy-requests-title">{t("privacy.requests")}</h2>
      {items && !items.length && <p class="muted">{t("privacy.requestsNone")}</p>}
      {items && items.length > 0 && (
        <table aria-labelledby="privacy-requests-title">
          <thead>
            <tr>
              <th scope="col">{t("audit.when")}</th>
              <th scope="col">{t("privacy.topic")}</th>
              <th scope="col">{t("privacy.requestCustomer")}</th>
              <th scope="col">{t("privacy.requestStatus")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>{formatFull(r.received_at, locale, timeZone)}</td>
                <td>
                  {r.platform} · {known(`privacy.topicName.${r.topic}`) ?? <code>{r.topic}</code>}
                </td>
                <td>{Object.values(r.customer ?? {}).filter(Boolean).join(", ")}</td>
                <td>{known(`privacy.requestState.${r.status}`) ?? r.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button class="btn" onClick={() => void load(true)}>
          {t("audit.more")}
        </button>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- privacy settings

/** Whether the privacy settings' form shows a refusal at a field: a class's days, a masking row's name or pattern. */
const shownAtField = (path: string) =>
  RETENTION_CLASSES.some((k) => path === `retention.${k}`) || /^masking_patterns\.\d+\.(name|pattern)$/.test(path);

const patternKey = (p: { name: string; pattern: string }) => `${p.name}\u0000${p.pattern}`;

/** What the API says of each stored pattern that a pattern added or changed now would be refused for (saved before
 *  that check came), by its name and expression: a row that still holds it shows why, a row changed shows nothing. */
function keptWarnings(saved: PrivacySettingsOut | null | undefined): Map<string, string> {
  const stored = saved?.masking_patterns ?? [];
  return new Map(
    (saved?.masking_warnings ?? []).flatMap((w) => {
      const p = stored[Number(w.loc[2])];
      return p ? [[patternKey(p), w.msg] as const] : [];
    }),
  );
}

/** Retention per data class and masking patterns, saved with the version read; the API's refusals at the
 *  fields they name. A save that adds or changes a pattern masks what is already stored with it, for good: the
 *  admin confirms it first, by typing a word in a dialog naming those patterns (cancelled: nothing is sent). */
export function PrivacySettingsAdmin() {
  const { store, t, locale, timeZone } = useApp();
  const { saved, form, setForm, refused, message, submit } = useSettingsForm({
    read: () => store.api.privacySettings(),
    write: (f: PrivacyForm, version) => store.api.putPrivacySettings(privacyFromForm(f), version),
    toForm: privacyForm,
    shows: shownAtField,
    savedAnyway: (error) => savedWalkLater(error, t, locale, timeZone), // saved; applying it comes later
    answeredAnyway: walksQueued, // and the other walk of the save, queued: followed as a save's answer names it
  });
  const errors = refused.fields;
  const applying = useFollowed(saved?.retention_job_id);
  const remasking = useFollowed(saved?.masking_job_id);
  // the patterns a save adds or changes, while the admin is asked to confirm it (it masks what is stored, for good)
  const [confirming, setConfirming] = useState<PrivacySettings["masking_patterns"] | null>(null);
  if (!form) return <p class="muted">{t("loading")}</p>;
  const save = (e: Event) => {
    e.preventDefault();
    const added = maskingAdded(saved?.masking_patterns ?? [], privacyFromForm(form).masking_patterns);
    if (added.length) setConfirming(added);
    else void submit();
  };
  const sentAs = sentMaskingIndex(form);
  const kept = keptWarnings(saved);
  const setMasking = (index: number, change: Partial<PrivacyForm["masking"][number]>) =>
    setForm({ ...form, masking: form.masking.map((m, i) => (i === index ? { ...m, ...change } : m)) });
  return (
    <section>
      <h1>{t("admin.privacySettings")}</h1>
      {saved && <p class="muted small">{t("version", { version: saved.version })}</p>}
      <form class="card form" onSubmit={save} aria-label={t("admin.privacySettings")}>
        <fieldset>
          <legend>{t("privacy.retention")}</legend>
          <p class="muted small">{t("privacy.retentionHelp")}</p>
          {RETENTION_CLASSES.map((k) => {
            const id = `retention-${k}-error`;
            const wrong = errors.get(`retention.${k}`);
            return (
              <div key={k}>
                <label class="field">
                  <span>{t(`privacy.retention.${k}`)}</span>
                  <input
                    type="number"
                    min={MIN_DAYS[k] ?? 1}
                    max={3650}
                    value={form.retention[k]}
                    required={!KEPT_WHEN_EMPTY.has(k)}
                    placeholder={KEPT_WHEN_EMPTY.has(k) ? t("privacy.keptUntilErased") : undefined}
                    onInput={(e) => setForm({ ...form, retention: { ...form.retention, [k]: (e.target as HTMLInputElement).value } })}
                    {...invalid(id, wrong)}
                  />
                </label>
                <FieldErrors id={id} errors={wrong} />
              </div>
            );
          })}
        </fieldset>
        <fieldset>
          <legend>{t("privacy.masking")}</legend>
          <p class="muted small">{t("privacy.maskingHelp")}</p>
          {form.masking.map((m, i) => {
            const nameId = `masking-${i}-name-error`;
            const patternId = `masking-${i}-pattern-error`;
            const sent = sentAs[i]; // the API counts the rows it was sent: empty rows are not
            const nameWrong = sent == null ? undefined : errors.get(`masking_patterns.${sent}.name`);
            const patternWrong = sent == null ? undefined : errors.get(`masking_patterns.${sent}.pattern`);
            const warned = kept.get(patternKey(m)); // stored before a check came: kept as it is while unchanged
            return (
              <div class="masking-row" key={i} role="group" aria-label={t("privacy.maskingRow", { n: i + 1 })}>
                <div>
                  <label class="field">
                    <span>{t("name")}</span>
                    <input value={m.name} onInput={(e) => setMasking(i, { name: (e.target as HTMLInputElement).value })} {...invalid(nameId, nameWrong)} />
                  </label>
                  <FieldErrors id={nameId} errors={nameWrong} />
                </div>
                <div>
                  <label class="field">
                    <span>{t("privacy.pattern")}</span>
                    <input
                      class="code"
                      value={m.pattern}
                      spellcheck={false}
                      onInput={(e) => setMasking(i, { pattern: (e.target as HTMLInputElement).value })}
                      {...invalid(patternId, patternWrong)}
                    />
                  </label>
                  <FieldErrors id={patternId} errors={patternWrong} />
                  {warned && !patternWrong && <p class="muted small">{t("privacy.patternKept", { why: warned })}</p>}
                </div>
                <button
                  type="button"
                  class="btn btn-small"
                  onClick={() => setForm({ ...form, masking: form.masking.filter((_, j) => j !== i) })}
                >
                  {t("privacy.removePattern")}
                  <span class="visually-hidden">: {m.name || t("privacy.maskingRow", { n: i + 1 })}</span>
                </button>
              </div>
            );
          })}
          <button type="button" class="btn btn-small" onClick={() => setForm({ ...form, masking: [...form.masking, { name: "", pattern: "" }] })}>
            + {t("privacy.addPattern")}
          </button>
        </fieldset>
        <button class="btn btn-primary" type="submit">
          {t("save")}
        </button>
        <Said message={message} />
        {applying && <Applying job={applying} />}
        {remasking && <Remasking job={remasking} />}
      </form>
      <TypeToConfirm
        open={confirming !== null}
        id="remask-confirm"
        title={t("privacy.remaskTitle")}
        text={t("privacy.remaskText", {
          patterns: new Intl.ListFormat(locale, { type: "conjunction" }).format(
            (confirming ?? []).map((p) => `${p.name} (${p.pattern})`),
          ),
        })}
        label={t("privacy.remaskType", { word: t("privacy.remaskWord") })}
        expected={t("privacy.remaskWord")}
        confirm={t("privacy.remaskConfirm")}
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          setConfirming(null);
          void submit();
        }}
      />
    </section>
  );
}

/** The job the last save started, followed until it is done or failed (null: none, or the page was left). A save
 *  that starts none shows none: an earlier save's job is not its. */
function useFollowed(jobId: string | null | undefined): PrivacyJob | null {
  const { store } = useApp();
  const [job, setJob] = useState<PrivacyJob | null>(null);
  useEffect(() => {
    setJob(null);
    if (!jobId) return;
    let left = false;
    void followJob(() => store.api.privacyJob(jobId), setJob, () => left).catch(() => undefined);
    return () => {
      left = true;
    };
  }, [jobId]);
  // the effect clears an earlier job only after the render that shows the new save: that render does not show it
  return job && job.job_id === jobId ? job : null;
}

/** What a job counted: the kinds it read, and (``_masked``) those it wrote masked. */
const total = (job: PrivacyJob, written: boolean) =>
  Object.entries(job.counts ?? {})
    .filter(([name]) => name.endsWith("_masked") === written && name !== "changed_meanwhile")
    .reduce((sum, [, n]) => sum + n, 0);

/** A masking pattern added: what is already stored masked with it, how far the job is. */
function Remasking({ job }: { job: PrivacyJob }) {
  const { t, locale } = useApp();
  const items = (n: number) => counted(t, locale, "privacy.count.items", n);
  const text =
    job.status === "running"
      ? t("privacy.remasking", { read: items(total(job, false)) })
      : job.status === "done"
        ? t("privacy.remasked", { read: items(total(job, false)), written: total(job, true) })
        : t("privacy.remaskFailed", { detail: job.error ?? "" });
  return (
    <p role="status" class={job.status === "failed" ? "error" : "muted small"} aria-busy={job.status === "running"}>
      {text}
    </p>
  );
}

/** A saved retention given to what is already stored: how far the job is. */
function Applying({ job }: { job: PrivacyJob }) {
  const { t, locale } = useApp();
  /** What the job counted of a kind, with its noun in the form that number takes. */
  const n = (key: CountedKey, name: string) => counted(t, locale, key, job.counts?.[name] ?? 0);
  const text =
    job.status === "running"
      ? t("privacy.applying", { conversations: n("privacy.count.conversations", "conversations") })
      : job.status === "done"
        ? t("privacy.applied", {
            conversations: n("privacy.count.conversationsRead", "conversations"),
            messages: n("privacy.count.messages", "messages"),
            closed: n("privacy.count.resolved", "closed_conversations"),
            timers: n("privacy.count.inactiveCustomers", "inactive_timers"),
          })
        : t("privacy.applyFailed", { detail: job.error ?? "" });
  return (
    <p role="status" class={job.status === "failed" ? "error" : "muted small"} aria-busy={job.status === "running"}>
      {text}
    </p>
  );
}
