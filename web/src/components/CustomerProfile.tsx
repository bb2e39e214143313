import { useEffect, useState } from "preact/hooks";
import type { Agent, Conversation, CustomerEvent, CustomerProfile as Profile, Duplicate, SearchResult } from "../api";
import { channelName, customerLabel, identityKind } from "../channels";
import { useApp } from "../context";
import { agentName, formatFull, formatTime } from "../format";
import { undoableMerges } from "../customers";
import { useStore } from "../store";
import { failureWords } from "../problems";
import { PrivacyLink } from "./PrivacyLink";

export interface CustomerData {
  profile: Profile | null;
  duplicates: Duplicate[];
  error: string;
  changed: () => Promise<void>;
  more: () => Promise<void>;
}

/** The customer behind the conversation, from GET /agent/customers/{id} (the conversation carries only the
 * customer as it was when it began: after a merge the profile has every identity), with likely duplicates. */
export function useCustomer(conv: Conversation): CustomerData {
  const { store, t } = useApp();
  const customerId = conv.customer.id;
  const [profile, setProfile] = useState<Profile | null>(null);
  const [duplicates, setDuplicates] = useState<Duplicate[]>([]);
  const [error, setError] = useState("");
  const load = async () => {
    try {
      const [p, d] = await Promise.all([store.api.customer(customerId), store.api.duplicates(customerId)]);
      setProfile(p);
      setDuplicates(d.items);
      setError("");
    } catch (e) {
      setError(failureWords(e, t)); // in the agent's words: the browser's "Failed to fetch" is no one's to read
    }
  };
  useEffect(() => {
    setProfile(null);
    setDuplicates([]);
    void load();
  }, [customerId, conv.id]);
  const changed = async () => {
    await load();
    void store.refreshOpen(); // the conversation's timeline may have changed
    void store.refresh();
  };
  /** The next page of the customer's conversations (GET /agent/customers/{id}?cursor=). */
  const more = async () => {
    if (!profile?.next_cursor) return;
    await store.run(async () => {
      const page = await store.api.customer(customerId, profile.next_cursor);
      const seen = new Set(profile.conversations.map((c) => c.id));
      setProfile({
        ...profile,
        conversations: [...profile.conversations, ...page.conversations.filter((c) => !seen.has(c.id))],
        next_cursor: page.next_cursor ?? null,
      });
    });
  };
  return { profile, duplicates, error, changed, more };
}

/** The customer's one history on every channel, their own timeline (merges, unmerges, links, each merge with
 * an undo while it can be undone), likely duplicates with the evidence, and merging one in with a reason. */
export function CustomerProfile({ conv, customer }: { conv: Conversation; customer: CustomerData }) {
  const { t, navigate } = useApp();
  const onOpen = (id: string) => navigate(`/c/${encodeURIComponent(id)}`);
  const { profile, duplicates, error, changed, more } = customer;
  if (error) return <p class="form-error" role="alert">{error}</p>;
  if (!profile) return <p class="muted">{t("loading")}</p>;
  return (
    <>
      <HistoryCard profile={profile} openId={conv.id} onOpen={onOpen} more={more} />
      <CustomerTimeline profile={profile} onChanged={changed} />
      <DuplicatesCard customerId={profile.id} duplicates={duplicates} onChanged={changed} />
      <MergeAnother customerId={profile.id} onChanged={changed} />
      <PrivacyLink customerId={profile.id} />
    </>
  );
}

function HistoryCard(props: { profile: Profile; openId: string; onOpen: (id: string) => void; more: () => Promise<void> }) {
  const { profile, openId, onOpen } = props;
  const { store, t, locale, timeZone } = useApp();
  const { now } = useStore(store);
  const others = profile.conversations.filter((c) => c.id !== openId);
  return (
    <section class="card" aria-labelledby="history-title">
      <h3 id="history-title">{t("customerHistory")}</h3>
      {profile.merged_into && <p class="muted small">{t("mergedInto", { id: profile.merged_into })}</p>}
      {!others.length && <p class="muted small">{t("noOtherConversations")}</p>}
      <ul class="plain history">
        {others.map((c) => (
          <li key={c.id}>
            <a
              href={`/c/${encodeURIComponent(c.id)}`}
              onClick={(e) => {
                e.preventDefault();
                onOpen(c.id);
              }}
            >
              <span class="chip">{channelName(c.channel, t)}</span> <span class="chip">{t(`status.${c.status}`)}</span>{" "}
              <time dateTime={c.updated_at} title={formatFull(c.updated_at, locale, timeZone)}>
                {formatTime(c.updated_at, locale, new Date(now), timeZone)}
              </time>
              <span class="preview small">{c.last_message_preview ?? ""}</span>
            </a>
          </li>
        ))}
      </ul>
      {profile.next_cursor && (
        <button class="btn btn-small" type="button" onClick={() => void props.more()}>
          {t("loadMore")}
        </button>
      )}
    </section>
  );
}

function CustomerTimeline({ profile, onChanged }: { profile: Profile; onChanged: () => Promise<void> }) {
  const { store, t, locale, timeZone } = useApp();
  const { agents } = useStore(store);
  const events = profile.timeline ?? [];
  const undoable = undoableMerges(events);
  const [busy, setBusy] = useState(false);
  // an undo is asked for its reason first, as a merge is (both customers' timelines say it)
  const [undoing, setUndoing] = useState<{ id: string; reason: string } | null>(null);
  if (!events.length) return null;
  const undo = async (ev: Event, e: CustomerEvent) => {
    ev.preventDefault();
    const why = undoing?.reason.trim();
    if (!e.merge_id || !why) return;
    setBusy(true);
    const ok = await store.run(() => store.api.unmerge(profile.id, e.merge_id!, why), t("unmerged"));
    setBusy(false);
    if (ok) {
      setUndoing(null);
      await onChanged();
    }
  };
  return (
    <section class="card" aria-labelledby="customer-timeline-title">
      <h3 id="customer-timeline-title">{t("customerTimeline")}</h3>
      <ol class="plain customer-events">
        {[...events].reverse().map((e) => (
          <li key={e.id}>
            <span>{eventWords(t, e, agents)}</span>{" "}
            <time class="muted small" dateTime={e.at}>
              {formatFull(e.at, locale, timeZone)}
            </time>
            {undoable.has(e.id) && undoing?.id !== e.id && (
              <button class="btn btn-small" type="button" disabled={busy} onClick={() => setUndoing({ id: e.id, reason: "" })}>
                {t("unmerge")}
              </button>
            )}
            {undoing?.id === e.id && (
              <form class="undo-merge" onSubmit={(ev) => void undo(ev, e)}>
                <label class="field">
                  <span>{t("unmergeReason")}</span>
                  <input
                    value={undoing.reason}
                    required
                    maxLength={2000}
                    onInput={(ev) => setUndoing({ id: e.id, reason: (ev.target as HTMLInputElement).value })}
                  />
                </label>
                <button class="btn btn-small" type="submit" disabled={busy || !undoing.reason.trim()}>
                  {t("unmergeConfirm")}
                </button>{" "}
                <button class="btn btn-small" type="button" onClick={() => setUndoing(null)}>
                  {t("cancel")}
                </button>
              </form>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function eventWords(t: ReturnType<typeof useApp>["t"], e: CustomerEvent, agents: readonly Agent[]): string {
  const values = { by: agentName(agents, e.by, t("unnamedAgent")), other: e.other_name ?? e.other_id ?? "", reason: e.reason, identity: (e.identity ?? "").replace("#", " ") };
  // the other customer of a merge was erased: their id stays, the reason (the agent's words about them) went
  if (e.other_erased && e.kind !== "linked") return t(`event.${e.kind}_erased`, values);
  return t(`event.${e.kind}`, values);
}

function DuplicatesCard({ customerId, duplicates, onChanged }: { customerId: string; duplicates: Duplicate[]; onChanged: () => Promise<void> }) {
  const { store, t, locale, timeZone } = useApp();
  const [reason, setReason] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const merge = async (e: Event, other: Duplicate) => {
    e.preventDefault();
    const why = (reason[other.customer.id] ?? "").trim();
    if (!why) return;
    setBusy(true);
    const ok = await store.run(() => store.api.merge(customerId, other.customer.id, why), t("merged"));
    setBusy(false);
    if (ok) await onChanged();
  };
  return (
    <section class="card" aria-labelledby="duplicates-title">
      <h3 id="duplicates-title">{t("duplicates")}</h3>
      {!duplicates.length && <p class="muted small">{t("noDuplicates")}</p>}
      <ul class="plain duplicates">
        {duplicates.map((d) => {
          const name = customerLabel(d.customer, d.customer.id);
          return (
            <li key={d.customer.id}>
              <article aria-label={name}>
                <strong>{name}</strong>
                <ul class="plain small">
                  {(d.customer.identities ?? []).map((i) => (
                    <li key={`${i.kind}:${i.address}`}>
                      <span class="muted">{identityKind(i.kind, t)}</span> {i.address}
                    </li>
                  ))}
                </ul>
                <ul class="evidence small">
                  {d.evidence.map((ev, i) => (
                    <li key={i}>
                      {ev.why} <span class="muted">({formatFull(ev.at, locale, timeZone)})</span>
                    </li>
                  ))}
                </ul>
                <form onSubmit={(e) => void merge(e, d)}>
                  <label class="field">
                    <span>{t("mergeReason")}</span>
                    <input
                      value={reason[d.customer.id] ?? ""}
                      required
                      maxLength={2000}
                      onInput={(e) => setReason({ ...reason, [d.customer.id]: (e.target as HTMLInputElement).value })}
                    />
                  </label>
                  <button class="btn wide" type="submit" disabled={busy || !(reason[d.customer.id] ?? "").trim()}>
                    {t("mergeWith", { name })}
                  </button>
                </form>
              </article>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type Found = SearchResult["customers"][number];

/** Merge in a customer the duplicates card does not suggest: found by a phone, an email, a handle or a name (the
 * inbox's search, so only customers the agent may see), merged with a reason as a suggested one is. */
function MergeAnother({ customerId, onChanged }: { customerId: string; onChanged: () => Promise<void> }) {
  const { store, t } = useApp();
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Found[] | null>(null);
  const [chosen, setChosen] = useState<Found | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const find = async (e: Event) => {
    e.preventDefault();
    const q = query.trim();
    if (!q) return;
    setChosen(null);
    await store.run(async () => setFound((await store.api.search(q, 10)).customers.filter((c) => c.id !== customerId)));
  };
  const merge = async (e: Event) => {
    e.preventDefault();
    const why = reason.trim();
    if (!chosen || !why) return;
    setBusy(true);
    const ok = await store.run(() => store.api.merge(customerId, chosen.id, why), t("merged"));
    setBusy(false);
    if (ok) {
      setFound(null);
      setChosen(null);
      setQuery("");
      setReason("");
      await onChanged();
    }
  };
  return (
    <section class="card" aria-labelledby="merge-another-title">
      <h3 id="merge-another-title">{t("mergeAnother")}</h3>
      <form role="search" onSubmit={(e) => void find(e)}>
        <label class="field">
          <span>{t("mergeAnotherFind")}</span>
          <input value={query} maxLength={200} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn btn-small" type="submit" disabled={!query.trim()}>
          {t("mergeAnotherSearch")}
        </button>
      </form>
      {found && !found.length && <p class="muted small">{t("mergeAnotherNone")}</p>}
      {found && found.length > 0 && (
        <ul class="plain small">
          {found.map((c) => {
            const name = customerLabel(c, c.id);
            return (
              <li key={c.id}>
                <label>
                  <input type="radio" name="merge-another" checked={chosen?.id === c.id} onChange={() => setChosen(c)} />{" "}
                  {name}
                  {(c.identities ?? []).length > 0 && (
                    <span class="muted"> · {(c.identities ?? []).map((i) => i.address).join(", ")}</span>
                  )}
                </label>
              </li>
            );
          })}
        </ul>
      )}
      {chosen && (
        <form onSubmit={(e) => void merge(e)}>
          <label class="field">
            <span>{t("mergeReason")}</span>
            <input value={reason} required maxLength={2000} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          </label>
          <button class="btn wide" type="submit" disabled={busy || !reason.trim()}>
            {t("mergeWith", { name: customerLabel(chosen, chosen.id) })}
          </button>
        </form>
      )}
    </section>
  );
}
