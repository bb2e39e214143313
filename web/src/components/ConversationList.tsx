import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ConversationStatus, Priority, View } from "../api";
import { CHANNELS, channelName, customerLabel } from "../channels";
import { useApp } from "../context";
import { agentNamer, formatDuration, formatTime, teamName } from "../format";
import { addable } from "../labels";
import { useStore } from "../store";
import { LabelChips } from "./Labels";
import { SelectionBar } from "./Macros";
import { filtersSet, riskPercent, slaState, type Filters } from "../urgency";
import { Mood } from "./Mood";

const VIEWS: View[] = ["mine", "unassigned", "all", "granted", "mentions"];
const STATUSES: ConversationStatus[] = ["open", "pending", "snoozed", "resolved"];
const PRIORITIES: Priority[] = ["urgent", "high", "normal", "low"];

export function ConversationList({ listRef, onOpen }: { listRef: RefObject<HTMLUListElement>; onOpen: (id: string) => void }) {
  const { store, t, locale, timeZone, who } = useApp();
  const state = useStore(store);
  const list = store.visible();
  // an assignee by name as the conversation's header names them (agentNamer): anyone not named yet only as
  // "Assigned", never by their id
  const nameOf = agentNamer(state.agents, state.me, who, t("unnamedAgent"));
  const assignee = (id: string) => nameOf(id) ?? t("assignedSomeone");
  // who mentioned the agent, the same way: said only once they can be named
  const mentionedBy = (id: string | null | undefined) => {
    const by = id ? nameOf(id) : null;
    return by ? t("mention.by", { agent: by }) : undefined;
  };
  const teams = [...new Set([...(state.me?.teams ?? []), ...state.items.map((c) => c.team)])].sort();
  // Lists of thousands stay light: pages of 50 from the API's cursor, the next one fetched as the end scrolls into view.
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    const target = end.current;
    if (!target || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void store.loadMore();
    }, { root: listRef.current, rootMargin: "400px" });
    observer.observe(target);
    return () => observer.disconnect();
  }, [state.nextCursor]);
  const narrowed = filtersSet(state.filters, state.view); // folded away, they still hide conversations: say so
  const filter = <K extends keyof Filters>(key: K, value: string) =>
    store.setFilters({ ...state.filters, [key]: value || undefined });

  const select = (key: keyof Filters, label: string, options: { value: string; label: string }[], disabled = false) => (
    <label class="field">
      <span>{label}</span>
      <select value={(state.filters[key] as string) ?? ""} disabled={disabled} onChange={(e) => filter(key, (e.target as HTMLSelectElement).value)}>
        <option value="">{t("filter.any")}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section class="list-pane" aria-labelledby="list-title">
      <h2 id="list-title" class="visually-hidden">
        {t("conversations")}
      </h2>
      <div class="views" role="group" aria-label={t("views")}>
        {VIEWS.map((v) => (
          <button key={v} class="view" aria-pressed={state.view === v} onClick={() => store.setView(v)}>
            <span class="view-label" data-label={t(`view.${v}`)}>
              {t(`view.${v}`)}
            </span>
            {state.counts[v] !== undefined && (v !== "mentions" || state.counts[v]! > 0) && (
              <span class={v === "mentions" ? "count unread" : "count"} aria-label={v === "mentions" ? t("unreadMentions", { count: state.counts[v]! }) : undefined}>
                {state.counts[v]}
              </span>
            )}
          </button>
        ))}
      </div>
      <details class="filters">
        <summary>{narrowed ? t("filtersSet", { count: narrowed }) : t("filters")}</summary>
        <div class="filter-grid">
          {select("status", t("filter.status"), STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) })), state.view === "unassigned")}
          {select("team", t("filter.team"), teams.map((x) => ({ value: x, label: teamName(state.teams, x) })))}
          {select("channel", t("filter.channel"), CHANNELS.map((c) => ({ value: c, label: channelName(c, t) })))}
          {select("priority", t("filter.priority"), PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) })))}
          {select("label", t("filter.label"), addable(state.labels).map((l) => ({ value: l.id, label: l.name })))}
          <label class="field">
            <span>{t("sort")}</span>
            <select
              value={state.filters.sort ?? ""}
              disabled={state.view !== "unassigned"}
              onChange={(e) => filter("sort", (e.target as HTMLSelectElement).value)}
            >
              <option value="">{t("sort.urgency")}</option>
              <option value="breach_risk">{t("sort.breachRisk")}</option>
            </select>
          </label>
        </div>
      </details>
      {state.listFailed && (
        // never "No conversations" for a list that could not be read: what was shown stays, said to be stale (not an
        // alert: the store's error toast says the failure once, in the page's alert)
        <p class="empty list-failed">
          {state.listRefused
            ? t(state.items.length ? "listRefusedStale" : "listRefused", { reason: state.listRefused })
            : t(state.items.length ? "listStale" : "listFailed")}{" "}
          <button class="btn btn-small" onClick={() => store.retryList(true)} disabled={state.loading}>
            {t("listRetry")}
          </button>
        </p>
      )}
      {!list.length && !state.loading && !state.listFailed && (
        <p class="empty">
          {narrowed ? (
            <>
              {t("noMatch")}{" "}
              <button class="btn btn-small" onClick={() => store.setFilters(state.filters.sort ? { sort: state.filters.sort } : {})}>
                {t("clearFilters")}
              </button>
            </>
          ) : (
            t("noConversations")
          )}
        </p>
      )}
      <ul class="conversations" ref={listRef} aria-label={t("conversations")} aria-busy={state.loading}>
        {list.map((c, i) => {
          const sla = slaState(c, state.now);
          const name = customerLabel(c.customer, t("customerUnknown"));
          return (
            <li key={c.id} class={i === state.selected ? "selected" : undefined}>
              <input
                type="checkbox"
                class="pick"
                // one stop in the tab order for the whole list, as its buttons: the selected row's (x picks)
                tabIndex={i === state.selected ? 0 : -1}
                aria-label={t("pick", { name })}
                checked={state.picked.includes(c.id)}
                onChange={() => store.togglePick(c.id)}
              />
              <button
                class="conv"
                aria-current={c.id === state.openId ? "true" : undefined}
                tabIndex={i === state.selected ? 0 : -1}
                onClick={() => onOpen(c.id)}
                onFocus={() => i !== state.selected && store.set({ selected: i })}
              >
                <span class="conv-top">
                  <span class="customer">{name}</span>
                  <time dateTime={c.updated_at}>{formatTime(c.updated_at, locale, new Date(state.now), timeZone)}</time>
                </span>
                <span class="preview">{c.last_message_preview ?? ""}</span>
                <span class="conv-meta">
                  <span class={`chip channel-${c.channel}`}>{channelName(c.channel, t)}</span>
                  {c.priority !== "normal" && <span class={`chip priority-${c.priority}`}>{t(`priority.${c.priority}`)}</span>}
                  <Mood sentiment={c.sentiment} urgent={c.urgent} t={t} />
                  {c.status !== "open" && <span class="chip">{t(`status.${c.status}`)}</span>}
                  {c.mention && c.mention.unread > 0 && <span class="chip mention-unread" title={mentionedBy(c.mention.by)}>@ {t("mention.unread")}</span>}
                  {sla.breached ? (
                    <span class="chip sla-breached">{t("sla.breached")}</span>
                  ) : sla.nextDueMs !== null ? (
                    <span class={`chip ${sla.warning ? "sla-warning" : "sla-ok"}`}>{t("sla.left", { time: formatDuration(sla.nextDueMs) })}</span>
                  ) : null}
                  {c.breach_risk != null && (
                    <span class={`chip ${c.breach_risk >= 0.5 ? "risk-high" : "risk"}`} title={t("risk.title")}>
                      {t("risk.short", { percent: riskPercent(c.breach_risk) })}
                    </span>
                  )}
                  <LabelChips conv={c} />
                  {state.view !== "mine" && <span class="assignee">{c.assignee ? assignee(c.assignee) : t("unassigned")}</span>}
                </span>
              </button>
            </li>
          );
        })}
        <li ref={end} class="list-end" aria-hidden="true" />
      </ul>
      <SelectionBar />
      {state.nextCursor && (
        <button class="btn wide" onClick={() => store.loadMore()} disabled={state.loading}>
          {t("loadMore")}
        </button>
      )}
    </section>
  );
}
