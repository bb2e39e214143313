import { useEffect, useState } from "preact/hooks";
import type { AdminAgent, SlaEvent } from "../api";
import type { MessageKey } from "../i18n";
import { isAdmin, useApp } from "../context";
import { agentName, formatDuration, formatFull, formatTime, teamName, teamNames } from "../format";
import { useStore } from "../store";
import { ConversationLink } from "./ConversationLink";

interface TeamRow {
  team: string;
  waiting: number;
  more: boolean;
  oldest: string | null;
}

/** Waiting conversations per team with the oldest wait, agents with presence and load, SLA trouble. */
export function SupervisorBoard() {
  const { store, t, locale, timeZone, who } = useApp();
  const { now, teams: named } = useStore(store);
  const [rows, setRows] = useState<TeamRow[]>([]);
  const [agents, setAgents] = useState<AdminAgent[]>([]);
  const [trouble, setTrouble] = useState<SlaEvent[]>([]);

  const load = async () => {
    await store.run(async () => {
      const [agentList, teamList] = await Promise.all([store.api.adminAgents(), store.api.teams()]);
      setAgents(agentList.items);
      // the queues the viewer may read: an admin's every team's, a supervisor's only their own teams' (403 for another)
      const teams = isAdmin(who)
        ? [...new Set([...teamList.items.map((x) => x.id), ...agentList.items.flatMap((a) => a.teams)])].sort()
        : [...new Set((store.state.me ?? (await store.api.me())).teams)].sort();
      setRows(
        await Promise.all(
          teams.map(async (team) => {
            const page = await store.api.conversations({ view: "unassigned", team, limit: 100 });
            const since = page.items.map((c) => c.waiting_since ?? c.created_at).sort();
            return { team, waiting: page.items.length, more: Boolean(page.next_cursor), oldest: since[0] ?? null };
          }),
        ),
      );
      // every warning and breach the sweep recorded in the last 24 hours (GET /admin/sla-events), newest first
      setTrouble((await store.api.slaEvents({ hours: 24, limit: 200 })).items);
    });
  };
  useEffect(() => {
    void load();
    // live: a change notice (a breach or warning changes its conversation) reloads the board, a burst once
    let soon: ReturnType<typeof setTimeout> | null = null;
    const stop = store.onChange(() => {
      soon ??= setTimeout(() => {
        soon = null;
        void load();
      }, 300);
    });
    const timer = setInterval(() => void load(), 15_000); // what notices do not announce (presence, load)
    return () => {
      stop();
      clearInterval(timer);
      if (soon) clearTimeout(soon);
    };
  }, []);

  return (
    <div class="board">
      <h1>{t("board")}</h1>
      <div class="board-grid">
        <section class="card" aria-labelledby="waiting-title">
          <h2 id="waiting-title">{t("waitingPerTeam")}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("team")}</th>
                <th scope="col">{t("waiting")}</th>
                <th scope="col">{t("oldestWait")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.team}>
                  <td>{teamName(named, r.team)}</td>
                  <td>{r.more ? `${r.waiting}+` : r.waiting}</td>
                  <td>{r.oldest ? formatDuration(now - Date.parse(r.oldest)) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card" aria-labelledby="agents-title">
          <h2 id="agents-title">{t("agents")}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("name")}</th>
                <th scope="col">{t("presence")}</th>
                <th scope="col">{t("capacity")}</th>
                <th scope="col">{t("team")}</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={a.id}>
                  <td>{agentName(agents, a.id, t("unnamedAgent"))}</td>
                  <td>
                    <span class={`chip presence-${a.presence}`}>{t(`presence.${a.presence}`)}</span>
                  </td>
                  <td>
                    <meter min={0} max={Math.max(1, a.capacity)} high={Math.max(1, a.capacity) - 0.5} value={a.active} aria-label={t("load", { active: a.active, capacity: a.capacity })} />{" "}
                    {a.active}/{a.capacity}
                    {a.active > a.capacity ? (
                      <span class="chip load-over"> {t("load.over")}</span>
                    ) : a.active === a.capacity ? (
                      <span class="chip load-full"> {t("load.full")}</span>
                    ) : null}
                  </td>
                  <td>{teamNames(named, a.teams)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card wide-card" aria-labelledby="sla-title">
          <h2 id="sla-title">{t("slaEvents")}</h2>
          {!trouble.length && <p class="muted">{t("noSlaEvents")}</p>}
          <ul class="plain sla-events">
            {trouble.map((e) => (
              <li key={`${e.at}#${e.conversation_id}#${e.target}#${e.kind}`} class={e.kind === "breach" ? "sla-breached" : "sla-warning"}>
                <ConversationLink id={e.conversation_id}>{e.customer_name || e.conversation_id}</ConversationLink> ·{" "}
                {t(e.kind === "breach" ? "sla.breached" : e.kind === "risk" ? "sla.risk" : "sla.warning")} · {t(`sla.${e.target}` as MessageKey)} · {e.team ? teamName(named, e.team) : "—"} ·{" "}
                {e.assignee ? agentName(agents, e.assignee, t("unnamedAgent")) : t("unassigned")} ·{" "}
                <time dateTime={e.at} title={formatFull(e.at, locale, timeZone)}>
                  {formatTime(e.at, locale, new Date(now), timeZone)}
                </time>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
