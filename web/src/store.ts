// The one store of live state: what the inbox shows, refetched when a change notice (or a poll) says so.
import { useEffect, useState } from "preact/hooks";
import {
  ApiError,
  type Agent,
  type Api,
  type ApplyOut,
  type Change,
  type Conversation,
  type ConversationStatus,
  type Label,
  type Macro,
  type Message,
  type NamedTeam,
  type Priority,
  type ReplyContent,
  type SnoozePreset,
  type Template,
  type UploadedFile,
  type View,
} from "./api";
import { Drafts, isEmptyDraft, type Draft, type KeptTemplate } from "./drafts";
import { stillShown, toggled, unknownLabels } from "./labels";
import { backoffDelay, type LiveState } from "./live";
import { byRisk, byUrgency, matches, type Filters } from "./urgency";

export const PAGE = 50;

// Delivery states in the order they happen, as the server ranks them (shopdesk.models.message): a status shown
// only ever moves forward.
const DELIVERY_RANK: Record<string, number> = {
  queued: 0, accepted: 10, scheduled: 10, sending: 20, sent: 30,
  delivered: 40, undelivered: 45, failed: 45, read: 50, received: 50,
};

/** When a presigned link stops working (ms since the epoch): its X-Amz-Date plus X-Amz-Expires (SigV4), else its
 * Expires (SigV2); null for a link that says neither. */
export function linkExpiry(url: string): number | null {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return null;
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get("X-Amz-Date") ?? "");
  const expires = Number(params.get("X-Amz-Expires"));
  if (date && expires > 0) {
    const [, y, mo, d, h, mi, se] = date.map(Number) as number[];
    return Date.UTC(y!, mo! - 1, d!, h!, mi!, se!) + expires * 1000;
  }
  const v2 = Number(params.get("Expires"));
  return v2 > 0 ? v2 * 1000 : null;
}

/** The attachment links a conversation shows: the soonest to stop working, and for how long it was signed. */
export function soonestLink(conv: Conversation): { at: number; lifetime: number } | null {
  let soonest: { at: number; lifetime: number } | null = null;
  for (const m of conv.messages ?? []) {
    for (const a of m.attachments ?? []) {
      const at = a.url ? linkExpiry(a.url) : null;
      if (at === null || (soonest && soonest.at <= at)) continue;
      const lifetime = Number(new URL(a.url!).searchParams.get("X-Amz-Expires")) * 1000 || 300_000;
      soonest = { at, lifetime };
    }
  }
  return soonest;
}

/** How long before a link stops working the open conversation is read again for new ones. */
export const RENEW_EARLY_MS = 30_000;

/** While the desk has no macro, how long after the last read of the labels and macros another conversation opened
 * (or the tab shown again) reads them again: the desk's first macro, made in another session, is offered within it. */
export const TOOLS_AGAIN_MS = 60_000;

/** Every delivery state a message can show. */
export const DELIVERY_STATUSES = Object.keys(DELIVERY_RANK);

export function deliveryRank(status: string): number {
  return DELIVERY_RANK[status] ?? 0;
}

/** A send with an Idempotency-Key (a reply, a template, a macro's apply): its answer; `keyUsed` is called when the
 * API says the key went with another body (the first send went: `422` `idempotency_key_reused`), so what is sent next
 * goes with a new key. */
function keyed<T>(sent: Promise<T>, keyUsed?: () => void): Promise<T> {
  return sent.catch((error: unknown) => {
    if (error instanceof ApiError && (error.body as { code?: unknown } | null)?.code === "idempotency_key_reused") keyUsed?.();
    throw error;
  });
}

/** The conversation as read, except that no message's delivery state is shown going back: a receipt a notice showed
 * while the read was on its way (`showReceipt`) is newer than what the read found, and no other notice would come to
 * put it back. */
export function keepReceipts(read: Conversation, shown: Conversation | null): Conversation {
  if (!shown || shown.id !== read.id || !shown.messages || !read.messages) return read;
  const before = new Map(shown.messages.map((m) => [m.id, m.status]));
  let kept = false;
  const messages = read.messages.map((m) => {
    const was = before.get(m.id);
    if (!was || deliveryRank(was) <= deliveryRank(m.status ?? "")) return m;
    kept = true;
    return { ...m, status: was };
  });
  return kept ? { ...read, messages } : read;
}

export interface Toast {
  kind: "ok" | "error";
  text: string;
  id: number;
}

export interface State {
  me: Agent | null;
  view: View;
  filters: Filters;
  items: Conversation[];
  nextCursor: string | null;
  loading: boolean;
  /** The last read of the list failed: what it shows (if anything) may be out of date, and it is read again by
   * itself (with backoff), on the next change notice, as the tab is shown again and as the socket opens. */
  listFailed: boolean;
  /** The API refused the list's last read (a 4xx but 429: a 403 of a team the agent left, a 400), in its words:
   * reading it again would be refused again (and recorded as denied), so nothing reads it by itself; Try now does. */
  listRefused: string | null;
  counts: Partial<Record<View, number>>;
  selected: number; // the keyboard cursor in the (filtered) list
  openId: string | null;
  open: Conversation | null;
  /** The last read of the open conversation failed (not a 404: that closes it): what it shows (if anything) may be
   * out of date, and it is read again as the list is (`listFailed`). */
  openFailed: boolean;
  agents: Agent[];
  teams: NamedTeam[]; // every team by name, to show a team's name for its id
  templates: Template[];
  live: LiveState;
  toast: Toast | null;
  now: number;
  labels: Label[]; // the shop's labels (retired ones too: conversations keep them)
  macros: Macro[]; // the agent's own, then the shared ones
  picked: string[]; // conversations selected in the list (to apply a macro to)
  applied: ApplyOut | null; // the last macro's per-conversation results
  gone: string | null; // the open conversation's id when a read of it found it no longer there (erased, out of reach)
}

type Listener = () => void;

export class Store {
  state: State = {
    me: null,
    view: "mine",
    filters: {},
    items: [],
    nextCursor: null,
    loading: true, // until the first list (it waits for the live updates' position: see Live's onStart)
    listFailed: false,
    listRefused: null,
    counts: {},
    selected: 0,
    openId: null,
    open: null,
    openFailed: false,
    agents: [],
    teams: [],
    templates: [],
    live: "connecting",
    toast: null,
    now: Date.now(),
    labels: [],
    macros: [],
    picked: [],
    applied: null,
    gone: null,
  };

  /** A reply or note the API took: the draft kept of it (as the composer went on to another conversation or page
   * before the answer, or as the agent left it the last time) is no longer one. Only the part that was sent goes (and
   * only if it is still what was sent: a reply's text, with its files); the rest of the draft stays. */
  forgetSent(id: string, part: "text" | "note", sent: string, key?: string): void {
    const draft = this.drafts.get(id);
    if (!draft) return;
    if (draft[part] !== sent) {
      // what the agent wrote since stays, but not under the key the API took with what went: it is another reply
      if (part === "text" && key !== undefined && draft.replyKey === key) {
        const { replyKey: _taken, ...kept } = draft;
        this.drafts.set(id, kept);
      }
      return;
    }
    // the reply's key goes with it: the next reply composed there is another one
    const { replyKey: _sent, ...rest } = draft;
    const left: Draft = part === "text" ? { ...rest, text: "", files: [] } : { ...draft, note: "" };
    if (!isEmptyDraft(left)) this.drafts.set(id, left);
    else this.drafts.delete(id);
  }
  private listeners = new Set<Listener>();
  private changeListeners = new Set<(change: Change) => void>();
  private listVersion = 0;
  /** The list's next read after a failed one, and how many failed in a row (its backoff). */
  private listRetry: ReturnType<typeof setTimeout> | null = null;
  private listFailures = 0;
  /** The same for the open conversation. */
  private openRetry: ReturnType<typeof setTimeout> | null = null;
  private openFailures = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the change notices since the last refetch call for. */
  private due = { list: false, counts: false, open: false };
  private toastId = 0;

  /** `drafts`: the reply (its text and the files uploaded for it) and the note an agent left unsent, by conversation
   * (Composer): there again when the agent comes back to it (after another conversation, a settings page, a reload),
   * until sent or emptied; gone as the agent signs out. */
  constructor(
    readonly api: Api,
    private readonly words: {
      error: (detail: string) => string;
      problem?: (error: unknown) => string | null;
      gone?: () => string; // the open conversation is no longer there
    } = {
      error: (d) => d,
    },
    readonly drafts: Drafts = new Drafts(),
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(patch: Partial<State>): void {
    // the selected place follows its conversation wherever a change re-sorts the list (a new message moves one up, a
    // minute passing brings another's SLA closer): j and k go on from it, not from whoever is in its old place now
    const resorts = !("selected" in patch) && ("items" in patch || "now" in patch || "filters" in patch);
    const selectedId = resorts ? this.visible()[this.state.selected]?.id : undefined;
    this.state = { ...this.state, ...patch };
    if (selectedId) {
      const at = this.visible().findIndex((c) => c.id === selectedId);
      if (at >= 0 && at !== this.state.selected) this.state = { ...this.state, selected: at };
    }
    if (patch.items || patch.open) this.learnLabels();
    this.listeners.forEach((l) => l());
  }

  /** Whether the labels and macros were read once (before that, every label is unknown); the label ids the
   * conversations carried that the labels read then lacked, read again for already (once each). */
  private toolsRead = false;
  private labelsAskedFor = new Set<string>();

  /** A conversation shown with a label made since the labels were read (by an admin in another session): read the
   * labels and macros again, so its chip, the label menu and the label filter have it without a reload. */
  private learnLabels(): void {
    if (!this.toolsRead) return;
    const { items, open, labels } = this.state;
    const fresh = unknownLabels(open ? [...items, open] : items, labels).filter((id) => !this.labelsAskedFor.has(id));
    if (!fresh.length) return;
    fresh.forEach((id) => this.labelsAskedFor.add(id));
    void this.loadTools();
  }

  /** The list as shown: the client-side filters applied, most urgent first. */
  visible(): Conversation[] {
    const { items, filters, now, view } = this.state;
    const order = view === "unassigned" && filters.sort === "breach_risk" ? byRisk(now) : byUrgency(now);
    return items.filter((c) => matches(c, filters, view)).sort(order);
  }

  notify(kind: Toast["kind"], text: string): void {
    this.set({ toast: { kind, text, id: ++this.toastId } });
  }

  private fail(error: unknown): void {
    this.notify("error", this.failureText(error));
  }

  private failureText(error: unknown): string {
    const detail = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
    // a refusal the API names, in the agent's language; else its own words
    return this.words.problem?.(error) ?? this.words.error(detail);
  }

  /** Run an action; its API error is shown in words. Resolves true when it succeeded. */
  async run(action: () => Promise<unknown>, ok?: string): Promise<boolean> {
    try {
      await action();
      if (ok) this.notify("ok", ok);
      return true;
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  // ------------------------------------------------------------------ loading
  async start(): Promise<void> {
    await Promise.all([
      this.run(async () => this.set({ me: await this.api.me() })),
      this.loadList(),
      this.loadCounts(),
      this.run(async () => this.set({ agents: (await this.api.agents()).items })),
      this.loadTeams(),
      this.api
        .templates()
        .then((t) => this.set({ templates: t.items }))
        .catch(() => undefined),
      this.loadTools(),
    ]);
  }

  /** Every agent with presence and load (whom to transfer to), again: they change all day. */
  loadAgents = async (): Promise<void> => {
    await this.api
      .agents()
      .then((a) => this.set({ agents: a.items }))
      .catch(() => undefined);
  };

  /** The teams by name (optional: without them a team shows by its id). */
  async loadTeams(): Promise<void> {
    await this.api
      .agentTeams()
      .then((t) => this.set({ teams: t.items }))
      .catch(() => undefined);
  }

  /** When the labels and macros were last asked for (ms), and that read while it is under way. */
  private toolsAskedAt = 0;
  private toolsReading: Promise<void> | null = null;

  /** The labels and macros (optional: the inbox works without them); read again as their menus open, and when a
   * conversation shows a label the inbox does not know. */
  async loadTools(): Promise<void> {
    this.toolsAskedAt = Date.now();
    const reading = this.readTools();
    this.toolsReading = reading;
    await reading.finally(() => {
      if (this.toolsReading === reading) this.toolsReading = null;
    });
  }

  /** While the desk has no macro, whether one was made since (in another session: no change notice says so): read
   * the labels and macros again, but not while a read is under way nor within ``TOOLS_AGAIN_MS`` of the last one
   * asked for, so an agent moving from conversation to conversation does not read them at each one. With macros
   * read, their list's opening reads them again instead. */
  toolsIfNone(): void {
    if (this.state.macros.length || this.toolsReading) return;
    if (Date.now() - this.toolsAskedAt < TOOLS_AGAIN_MS) return;
    void this.loadTools().catch(() => undefined);
  }

  private async readTools(): Promise<void> {
    await Promise.all([
      this.api
        .labels()
        .then((l) => {
          this.toolsRead = true;
          this.set({ labels: l.items });
        })
        .catch(() => undefined),
      this.api
        .macros()
        .then((m) => this.set({ macros: m.items }))
        .catch(() => undefined),
    ]);
  }

  private query(cursor: string | null, limit = PAGE) {
    const { view, filters } = this.state;
    return {
      view,
      status: view === "unassigned" ? undefined : filters.status,
      team: view === "unassigned" ? filters.team : undefined,
      label: filters.label,
      sort: view === "unassigned" && !filters.label ? filters.sort : undefined,
      limit,
      cursor,
    };
  }

  async loadList(): Promise<void> {
    const version = ++this.listVersion;
    this.set({ loading: true });
    try {
      const page = await this.api.conversations(this.query(null));
      if (version !== this.listVersion) return;
      this.set({ items: page.items, nextCursor: page.next_cursor ?? null, selected: 0, picked: stillShown(this.state.picked, page.items) });
      this.listRead();
      // the first list on screen: what bench/inbox.py reports as first_load_ms
      if (!performance.getEntriesByName("shopdesk:list").length) performance.mark("shopdesk:list");
    } catch (error) {
      if (version === this.listVersion) this.listFailedAgain(error);
    } finally {
      if (version === this.listVersion) this.set({ loading: false });
    }
  }

  /** A read of the list failed: said once in a toast (the list says it as long as it lasts), what was shown stays,
   * and the list is read again after 1 s, 2 s, 4 s … up to 30 s (`backoffDelay`) when sending it again may work
   * (`retryable`); a refusal is said and left to the agent (`listRefused`). */
  private listFailedAgain(error: unknown): void {
    if (!this.listFailures) this.fail(error);
    if (this.listRetry) clearTimeout(this.listRetry);
    this.listRetry = null;
    if (error instanceof ApiError && !error.retryable) {
      this.listFailures = 0;
      this.set({ listFailed: true, listRefused: this.failureText(error) });
      return;
    }
    this.set({ listFailed: true, listRefused: null });
    this.listRetry = setTimeout(() => {
      this.listRetry = null;
      this.retryList();
    }, backoffDelay(this.listFailures));
    this.listFailures += 1;
  }

  /** The list was read: no retry is due. */
  private listRead(): void {
    if (this.listRetry) clearTimeout(this.listRetry);
    this.listRetry = null;
    this.listFailures = 0;
    if (this.state.listFailed) this.set({ listFailed: false, listRefused: null });
  }

  /** Nothing more to do by itself (the app is closing: signed out). */
  stop(): void {
    if (this.listRetry) clearTimeout(this.listRetry);
    this.listRetry = null;
    if (this.linkRenewal) clearTimeout(this.linkRenewal);
    this.linkRenewal = null;
    this.openRead();
  }

  /** Read the list again now if its last read failed (the tab shown again, the socket open again); else nothing.
   * A refused read only when the agent asks (`asked`: Try now). */
  retryList(asked = false): void {
    if (this.state.listFailed && (asked || !this.state.listRefused)) void this.loadList();
  }

  async loadMore(): Promise<void> {
    const cursor = this.state.nextCursor;
    if (!cursor || this.state.loading) return;
    const version = this.listVersion;
    this.set({ loading: true });
    try {
      const page = await this.api.conversations(this.query(cursor));
      if (version !== this.listVersion) return;
      const seen = new Set(this.state.items.map((c) => c.id));
      this.set({
        items: [...this.state.items, ...page.items.filter((c) => !seen.has(c.id))],
        nextCursor: page.next_cursor ?? null,
      });
    } catch (error) {
      this.fail(error);
    } finally {
      if (version === this.listVersion) this.set({ loading: false });
    }
  }

  /** Refetch what is shown: the loaded part of the list (up to 100 at once), the counts, the open conversation. */
  async refresh(): Promise<void> {
    await this.refreshList();
    void this.loadCounts();
    if (this.state.openId) void this.refreshOpen();
    this.loadMe();
  }

  /** The list as long as it is now (a change notice's refetch); with `withCounts`, the badges in the same request. */
  /** Background refreshes of the list started so far: as with the open conversation, only the latest one's answer
   * is shown (an older one coming back last would show the list, and the badges, as they were before). */
  private listRefreshes = 0;

  private async refreshList(withCounts = false): Promise<void> {
    const version = this.listVersion;
    const mine = ++this.listRefreshes;
    const limit = Math.min(100, Math.max(PAGE, this.state.items.length));
    try {
      const page = await this.api.conversations({ ...this.query(null, limit), ...(withCounts ? { counts: true } : {}) });
      if (mine !== this.listRefreshes) return;
      if (page.counts) this.setCounts(page.counts, true);
      if (version !== this.listVersion) return;
      const fresh = new Set(page.items.map((c) => c.id));
      const tail = this.state.items.length > limit ? this.state.items.slice(limit).filter((c) => !fresh.has(c.id)) : [];
      const nextCursor = tail.length ? this.state.nextCursor : (page.next_cursor ?? null);
      this.set({ items: [...page.items, ...tail], nextCursor, now: Date.now() }); // (the selection follows: set)
      this.listRead();
    } catch {
      /* a failed background refresh is retried by the next notice or poll */
    }
  }

  private loadMe(): void {
    void this.api
      .me()
      .then((me) => this.set({ me }))
      .catch(() => undefined);
  }

  /** The agent's own presence and load again (the tab is shown again: another tab may have changed them). */
  refreshMe(): void {
    this.loadMe();
  }

  /** The views' badges; with `meToo`, the agent's own load as well when the count of theirs moved. */
  async loadCounts(meToo = false): Promise<void> {
    try {
      this.setCounts((await this.api.counts()).views, meToo);
    } catch {
      /* badges are optional */
    }
  }

  /** A provider's receipt the notice carries (delivered, read) shown on the open conversation's message, never
   * moving it back (notices can come out of order); false when the notice carries none or the message is not
   * shown yet: then the conversation is refetched. */
  private showReceipt(change: Change): boolean {
    const open = this.state.open;
    const status = change.kind === "message_update" ? change.status : null;
    const shown = status && open?.id === change.conversation_id ? open.messages?.find((m) => m.id === change.message_id) : undefined;
    if (!status || !open || !shown) return false;
    if (deliveryRank(status) > deliveryRank(shown.status ?? "")) {
      const messages = (open.messages ?? []).map((m) => (m.id === shown.id ? { ...m, status } : m));
      this.set({ open: { ...open, messages } });
    }
    return true;
  }

  private setCounts(counts: Partial<Record<View, number>>, meToo: boolean): void {
    const before = this.state.counts.mine;
    this.set({ counts });
    if (meToo && counts.mine !== before) this.loadMe();
  }

  /** Be told of every change notice (the supervisor board reloads its SLA events on them). */
  onChange(listener: (change: Change) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** A change notice: refetch, 150 ms later (notices come in bursts), what it can have changed and no more.
   * A conversation's change (or a mention) can move it into or out of a view and change the counts: the
   * list and the counts. A new message changes the list only if the conversation is in it, or may be on a
   * page not loaded (it can move up); getting into a view takes a conversation's change. A message update
   * (a delivery receipt, a send error) shows only in the open conversation. The agent's own load is
   * refetched when the count of their conversations moves. */
  applyChange(change: Change): void {
    this.changeListeners.forEach((l) => l(change));
    const due = this.due;
    if (change.conversation_id === this.state.openId && !this.showReceipt(change)) due.open = true;
    const listed = this.state.nextCursor !== null || this.state.items.some((c) => c.id === change.conversation_id);
    if (change.kind === "conversation" || change.kind === "mention") {
      due.list = true;
      due.counts = true;
    } else if ((change.kind === "message" && listed) || (this.state.listFailed && !this.state.listRefused)) {
      due.list = true; // (any notice, while the list's last read failed, unless it was refused)
    }
    if (this.state.openFailed) due.open = true; // (any notice, while the open conversation's last read failed)
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      const { list, counts, open } = this.due;
      this.due = { list: false, counts: false, open: false };
      if (list) void this.refreshList(counts);
      else if (counts) void this.loadCounts(true);
      if (open && this.state.openId) void this.refreshOpen();
    }, 150);
  }

  // ------------------------------------------------------------------ navigation
  setView(view: View): void {
    if (view === this.state.view) return;
    const filters = { ...this.state.filters };
    if (view === "unassigned") delete filters.status;
    this.set({ view, filters, items: [], nextCursor: null, selected: 0 });
    void this.loadList();
  }

  setFilters(filters: Filters): void {
    const before = this.state.filters;
    this.set({ filters, selected: 0 });
    const server =
      before.status !== filters.status ||
      before.label !== filters.label ||
      (this.state.view === "unassigned" && (before.team !== filters.team || before.sort !== filters.sort));
    if (server) void this.loadList();
  }

  move(delta: number): void {
    const count = this.visible().length;
    if (!count) return;
    this.set({ selected: Math.max(0, Math.min(count - 1, this.state.selected + delta)) });
  }

  async openConversation(id: string | null): Promise<void> {
    if (id !== this.state.openId) this.openRead(); // another one's retry is called off
    if (!id) {
      this.set({ openId: null, open: null });
      return;
    }
    const index = this.visible().findIndex((c) => c.id === id);
    this.set({ openId: id, gone: null, open: this.state.open?.id === id ? this.state.open : null, ...(index >= 0 ? { selected: index } : {}) });
    // with its side panels, which take them from the api as they mount (one shown already does not mount again)
    await this.readOpen(this.state.open?.id === id ? this.api.conversation : this.api.openConversation);
  }

  /** The open conversation again (alone: its panels read again by themselves when they must, after it shows; the
   * assist panel in the same request made a new message show 0.5 s later on this machine, bench/README.md). */
  async refreshOpen(): Promise<void> {
    await this.readOpen(this.api.conversation);
  }

  /** Reads of the open conversation started so far: only the latest one's answer is shown. Two can be on their way
   * (notices a few hundred ms apart), and the older, which may come back last, read what the newer read after it. */
  private openReads = 0;

  private async readOpen(read: (id: string) => Promise<Conversation>): Promise<void> {
    const id = this.state.openId;
    if (!id) return;
    const mine = ++this.openReads;
    try {
      const conv = await read(id);
      if (this.state.openId === id && mine === this.openReads) {
        this.set({ open: keepReceipts(conv, this.state.open), now: Date.now() });
        this.openRead();
        this.renewLinks(conv);
      }
    } catch (error) {
      if (this.state.openId !== id || mine !== this.openReads) return;
      if (error instanceof ApiError && error.status === 404) {
        // no longer there (its customer erased, its retention over) or no longer the agent's to see: it closes, and
        // leaves the list, rather than stay on the screen with what it showed
        this.set({ openId: null, open: null, gone: id, items: this.state.items.filter((c) => c.id !== id) });
        this.drafts.delete(id); // an unsent reply to it has nowhere to go (and may quote the erased customer)
        this.notify("error", this.words.gone?.() ?? this.words.error(error.message));
      } else this.openFailedAgain(error);
    }
  }

  /** A read of the open conversation failed (a fault, the store busy, the network): as the list's, said once in a
   * toast, what was shown stays (the conversation says it may be out of date; none shown: that it could not be
   * loaded, never "Loading…" for good), and it is read again after 1 s, 2 s, 4 s … up to 30 s (`backoffDelay`), at
   * once on the next change notice, as the tab is shown or focused and as the socket opens (`retryOpen`). */
  private openFailedAgain(error: unknown): void {
    if (!this.openFailures) this.fail(error);
    this.set({ openFailed: true });
    if (this.openRetry) clearTimeout(this.openRetry);
    this.openRetry = setTimeout(() => {
      this.openRetry = null;
      this.retryOpen();
    }, backoffDelay(this.openFailures));
    this.openFailures += 1;
  }

  /** The open conversation was read (or another one opened, or none): no retry is due. */
  private openRead(): void {
    if (this.openRetry) clearTimeout(this.openRetry);
    this.openRetry = null;
    this.openFailures = 0;
    if (this.state.openFailed) this.set({ openFailed: false });
  }

  /** Read the open conversation again now if its last read failed (with its side panels when it never showed);
   * else nothing. */
  retryOpen(): void {
    const id = this.state.openId;
    if (!id || !this.state.openFailed) return;
    void this.readOpen(this.state.open?.id === id ? this.api.conversation : this.api.openConversation);
  }

  /** The open conversation's attachment links are presigned for minutes (five: docs/security.md): it is read again
   * (one GET, nothing else) RENEW_EARLY_MS before its soonest link stops working, while it is still the one open, so
   * no link is shown past its expiry. A conversation without links costs nothing; any read of it puts the renewal
   * after its new links. The time left is counted from the link's own lifetime when this browser's clock and the
   * server's disagree, and never sooner than 15 s after a read. */
  private linkRenewal: ReturnType<typeof setTimeout> | null = null;

  private renewLinks(conv: Conversation): void {
    if (this.linkRenewal) clearTimeout(this.linkRenewal);
    this.linkRenewal = null;
    const soonest = soonestLink(conv);
    if (!soonest) return;
    const left = Math.min(soonest.at - Date.now(), soonest.lifetime);
    this.linkRenewal = setTimeout(() => {
      this.linkRenewal = null;
      if (this.state.openId === conv.id) void this.refreshOpen();
    }, Math.max(15_000, left - RENEW_EARLY_MS));
  }

  /** The conversation after the open one in the list (or the first), for "next conversation". */
  nextId(): string | null {
    const list = this.visible();
    if (!list.length) return null;
    const at = list.findIndex((c) => c.id === this.state.openId);
    return list[(at + 1) % list.length]?.id ?? null;
  }

  // ------------------------------------------------------------------ actions on the open conversation
  /** After the agent's own action: what the API answered (the conversation, or the message written) is shown at
   * once; the rest (the list's order and previews, the counts, the message's delivery) follows the change's
   * notice, as anyone else's change does, so the action costs no refetch (but without an open socket). */
  private async changed(id: string, answer: { conv?: Conversation; message?: Message } = {}): Promise<void> {
    const { conv, message } = answer;
    if (conv) {
      const messages = this.state.open?.id === conv.id ? this.state.open.messages : [];
      if (conv.id === this.state.openId) this.set({ open: { ...conv, messages: messages ?? [] } });
      // (a list entry keeps what only a list read carries: the caller's mentions in the mentions view)
      this.set({ items: this.state.items.map((c) => (c.id === conv.id ? { ...conv, messages: c.messages, mention: c.mention } : c)) });
    }
    const open = this.state.open;
    if (message && open?.id === id) {
      const shown = open.messages ?? [];
      const messages = shown.some((m) => m.id === message.id)
        ? shown.map((m) => (m.id === message.id ? message : m))
        : [...shown, message];
      this.set({ open: { ...open, messages } });
    }
    await this.refetchUnlessLive();
  }

  /** Without an open socket (polling, offline) no notice is coming: the open conversation and the list now. */
  private async refetchUnlessLive(): Promise<void> {
    if (this.state.live !== "live") await Promise.all([this.refreshOpen(), this.refreshList()]);
  }

  private write = (id: string, send: () => Promise<Message>, ok: string) =>
    this.run(async () => this.changed(id, { message: await send() }), ok);

  /** `key`: the composed reply's Idempotency-Key (the Composer's, kept with its draft until the reply is taken);
   * `keyUsed`: called when the API says the key went with another text (the first send went: `422`
   * `idempotency_key_reused`), so the text now in the box, sent again, goes as a new reply with a new key. */
  reply = (
    id: string,
    text: string | ReplyContent,
    channel: string | undefined,
    ok: string,
    attachments: UploadedFile[] = [],
    key?: string,
    keyUsed?: () => void,
  ) => this.write(id, () => keyed(this.api.reply(id, text, channel, attachments, key), keyUsed), ok);

  /** Send a failed reply again (its text, files or template), as the API does: parts already sent are skipped. The
   * send goes with the failed reply's key (`retryKeys`). */
  retry = async (id: string, messageId: string, ok: string): Promise<boolean> => {
    const key = this.retryKeys.get(messageId) ?? crypto.randomUUID();
    this.retryKeys.set(messageId, key);
    const sent = await this.write(id, () => this.api.retry(id, messageId, key), ok);
    if (sent && this.retryKeys.get(messageId) === key) this.retryKeys.delete(messageId);
    return sent;
  };

  /** Each failed reply's Send again Idempotency-Key (by the failed reply's id), kept until the API took that send, so
   * Send again pressed after no answer gets the first answer (the same new reply) and sends nothing twice. If the new
   * reply fails too, its own Send again is another failed reply's, with another key. */
  readonly retryKeys = new Map<string, string>();

  /** A WhatsApp template; `key` and `keyUsed` as a reply's (the Composer's key of the composed template, kept with
   * the conversation's draft: `keepTemplate`). */
  sendTemplate = (
    id: string,
    t: { name: string; language: string; parameters: string[]; channel?: string },
    ok: string,
    key?: string,
    keyUsed?: () => void,
  ) => this.write(id, () => keyed(this.api.sendTemplate(id, t, key), keyUsed), ok);

  /** A WhatsApp template on its way, with its Idempotency-Key: kept with the conversation's draft (in the tab's
   * sessionStorage, as a reply's key is with its text), so the form shows it again (another conversation and back, a
   * reload) and Send template again after no answer sends it once. Which template and its parameters are kept with the
   * key: the template composed again after a reload is the one that went, not a new one whose change would be a 422
   * (`idempotency_key_reused`). Gone with the draft (signing out, the customer's erase). */
  keepTemplate(id: string, template: KeptTemplate): void {
    this.drafts.set(id, { ...(this.drafts.get(id) ?? { text: "", note: "" }), template });
  }

  /** The template sent with `key` is no longer kept: the API took it, or said its key went with another one (the next
   * template composed there is another one, with another key). */
  forgetTemplate(id: string, key: string): void {
    const draft = this.drafts.get(id);
    if (draft?.template?.key !== key) return;
    const { template: _gone, ...rest } = draft;
    if (!isEmptyDraft(rest)) this.drafts.set(id, rest);
    else this.drafts.delete(id);
  }

  note = (id: string, text: string, ok: string) => this.write(id, () => this.api.note(id, text), ok);

  /** Assign or transfer; the agents' loads are read again after it (theirs changed). */
  assign = (id: string, agentId: string, note: string | undefined, ok: string) =>
    this.run(async () => {
      await this.changed(id, { conv: await this.api.assign(id, agentId, note) });
      void this.loadAgents();
    }, ok);

  setStatus = (id: string, status: ConversationStatus, ok: string, until?: string, preset?: SnoozePreset) =>
    this.run(async () => this.changed(id, { conv: await this.api.setStatus(id, status, until, preset) }), ok);

  setRouting = (id: string, change: { priority?: Priority; team?: string; skills?: string[]; note?: string }, ok: string) =>
    this.run(async () => this.changed(id, { conv: await this.api.setRouting(id, change) }), ok);

  changeLabels = (id: string, change: { add?: string[]; remove?: string[] }, ok: string) =>
    this.run(async () => this.changed(id, { conv: await this.api.changeLabels(id, change) }), ok);

  // ------------------------------------------------------------------ a selection, and macros on it
  togglePick = (id: string): void => this.set({ picked: toggled(this.state.picked, id) });

  clearPicks = (): void => this.set({ picked: [], applied: null });

  /** Apply a macro; applied to the selection (`toSelection`), its per-conversation results stay on screen under the
   * list (``applied``) until the next one; applied to the open conversation alone, the caller says how it went. */
  applyMacro = async (macroId: string, ids: string[], toSelection = true): Promise<ApplyOut | null> => {
    const composed = [macroId, ...ids].join("\n");
    const key = this.applyKeys.get(composed) ?? crypto.randomUUID();
    this.applyKeys.set(composed, key);
    let out: ApplyOut | null = null;
    await this.run(async () => {
      out = await keyed(this.api.applyMacro(macroId, ids, key), () => this.applyKeys.delete(composed));
      if (this.applyKeys.get(composed) === key) this.applyKeys.delete(composed);
      const picked = this.state.picked.filter((id) => !ids.includes(id) || out?.results.some((r) => r.conversation_id === id && r.result === "refused"));
      this.set(toSelection ? { applied: out, picked } : { picked });
      // what it changed in each conversation follows their notices
      await this.refetchUnlessLive();
    });
    return out;
  };

  /** Each composed apply's Idempotency-Key (by the macro and the conversations, in order), kept until the API answered
   * it, so Apply pressed again after no answer gets the first answer and the macro's reply is sent once; renewed when
   * the API says the key went with another apply (`422` `idempotency_key_reused`). One key for the whole request: the
   * API answers each conversation from its own record. */
  readonly applyKeys = new Map<string, string>();

  setPresence = (presence: Agent["presence"]) =>
    this.run(async () => {
      this.set({ me: await this.api.setPresence(presence) });
      void this.refresh();
    });
}

/** Re-render a component whenever the store changes. */
export function useStore(store: Store): State {
  const [, tick] = useState(0);
  useEffect(() => store.subscribe(() => tick((n) => n + 1)), [store]);
  return store.state;
}
