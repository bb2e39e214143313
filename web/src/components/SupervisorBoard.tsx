import { useEffect, useState } from "preact/hooks";
import type { AdminAgent, Conversation } from "../api";
import { useApp } from "../context";
import { formatDuration } from "../format";
import { useStore } from "../store";
import { slaState } from "../urgency";

interface TeamRow {
  team: string;
  waiting: number;
  more: boolean;
  oldest: string | null;
}

/** Waiting conversations per team with the oldest wait, agents with presence and load, SLA trouble. */
export function SupervisorBoard() {
  const { store, t } = useApp();
  const { now } = useStore(store);
  const [rows, setRows] = useState<TeamRow[]>([]);
  const [agents, setAgents] = useState<AdminAgent[]>([]);
  const [trouble, setTrouble] = useState<Conversation[]>([]);

  const load = async () => {
    await store.run(async () => {
      const [agentList, teamList] = await Promise.all([store.api.adminAgents(), store.api.teams()]);
      setAgents(agentList.items);
      const teams = [...new Set([...teamList.items.map((x) => x.id), ...agentList.items.flatMap((a) => a.teams)])].sort();
      setRows(
        await Promise.all(
          teams.map(async (team) => {
            const page = await store.api.conversations({ view: "unassigned", team, limit: 100 });
            const since = page.items.map((c) => c.waiting_since ?? c.created_at).sort();
            return { team, waiting: page.items.length, more: Boolean(page.next_cursor), oldest: since[0] ?? null };
          }),
        ),
      );
      const open = await store.api.conversations({ view: "all", status: "open", limit: 100 });
      const day = Date.now() - 86_400_000;
      setTrouble(
        open.items.filter((c) => {
          const s = slaState(c, Date.now());
          return (s.breached || s.warning) && Date.parse(c.updated_at) >= day;
        }),
      );
    });
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
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
                  <td>{r.team}</td>
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
                  <td>{a.name || a.id}</td>
                  <td>
                    <span class={`chip presence-${a.presence}`}>{t(`presence.${a.presence}`)}</span>
                  </td>
                  <td>
                    <meter min={0} max={Math.max(1, a.capacity)} value={a.active} aria-label={t("load", { active: a.active, capacity: a.capacity })} />{" "}
                    {a.active}/{a.capacity}
                  </td>
                  <td>{a.teams.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card wide-card" aria-labelledby="sla-title">
          <h2 id="sla-title">{t("slaEvents")}</h2>
          {!trouble.length && <p class="muted">{t("noSlaEvents")}</p>}
          <ul class="plain">
            {trouble.map((c) => {
              const s = slaState(c, now);
              return (
                <li key={c.id} class={s.breached ? "sla-breached" : "sla-warning"}>
                  <a href={`/c/${encodeURIComponent(c.id)}`}>{c.customer.name || c.customer.identities?.[0]?.address || c.id}</a>{" "}
                  · {c.team} · {c.assignee ?? t("unassigned")} · {s.breached ? t("sla.breached") : t("sla.warning")}
                </li>
              );
            })}
          </ul>
        </section>
      </div>
    </div>
  );
}
