import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation, Priority } from "../api";
import { customerLabel, identityKind } from "../channels";
import { isAdmin, useApp } from "../context";
import { useResetOn } from "../resetOn";
import { agentName, agentNamer, formatDuration, formatFull, teamChoices, teamName } from "../format";
import { useStore } from "../store";
import { routingChange } from "../routing";
import { listedIn, slaState } from "../urgency";
import { CustomerProfile, useCustomer } from "./CustomerProfile";
import { OrdersCard } from "./OrdersCard";

const PRIORITIES: Priority[] = ["urgent", "high", "normal", "low"];

/** The customer's panel takes the focus (and so comes into view): `c`, or the conversation header's "Customer and
 * orders" where the panel is below the conversation, a long scroll away. */
export function focusCustomerPanel(): void {
  const panel = document.getElementById("customer-panel");
  // its top at the top: focus alone scrolls a panel taller than the window to wherever the browser likes (its middle)
  panel?.scrollIntoView({ block: "start" });
  panel?.focus({ preventScroll: true });
}

/** Beside the timeline: who the customer is, the SLA clocks, their orders, history and duplicates, hand-off and routing.
 * `onOpen`: the inbox's, to move on to another conversation (TransferCard, RoutingCard). */
export function CustomerPanel({ conv, onOpen }: { conv: Conversation; onOpen?: (id: string | null, toList?: boolean) => void }) {
  const { t } = useApp();
  const customer = useCustomer(conv);
  const c = customer.profile ?? conv.customer; // the profile has every identity, also those a merge brought
  return (
    <aside class="side" id="customer-panel" tabIndex={-1} aria-label={t("customer")}>
      <section class="card">
        <h3>{t("customer")}</h3>
        <p class="customer-name">{customerLabel(c, t("customerUnknown"))}</p>
        <p>
          {t("tier")}: {c.tier ? <span class="chip tier">{c.tier}</span> : <span class="muted">{t("noTier")}</span>}
        </p>
        <h4>{t("identities")}</h4>
        <ul class="plain">
          {(c.identities ?? []).map((i) => (
            <li key={`${i.kind}:${i.address}`}>
              <span class="muted small">{identityKind(i.kind, t)}</span> {i.address}
            </li>
          ))}
        </ul>
      </section>
      <SlaCard conv={conv} />
      <OrdersCard conv={conv} />
      <CustomerProfile conv={conv} customer={customer} />
      <TransferCard conv={conv} onOpen={onOpen} />
      <RoutingCard conv={conv} onOpen={onOpen} />
    </aside>
  );
}

function SlaCard({ conv }: { conv: Conversation }) {
  const { store, t, locale, timeZone } = useApp();
  const { now } = useStore(store);
  const sla = slaState(conv, now);
  return (
    <section class="card">
      <h3>{t("sla")}</h3>
      {sla.paused && <p class="muted">{t("sla.paused")}</p>}
      {!sla.targets.length && <p class="muted">{t("sla.none")}</p>}
      <ul class="plain sla-list">
        {sla.targets.map((x) => (
          <li key={x.target} class={`sla-${x.state}`} title={formatFull(x.dueAt, locale, timeZone)}>
            <span>{t(`sla.${x.target}`)}</span>
            <strong>
              {x.state === "breached"
                ? `${t("sla.breached")} · ${t("sla.overdue", { time: formatDuration(x.leftMs) })}`
                : `${x.state === "warning" ? `${t("sla.warning")} · ` : ""}${t("sla.left", { time: formatDuration(x.leftMs) })}`}
            </strong>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Hand the conversation to another agent. The choice shown is the one sent: once the conversation is the chosen
 * agent's (this transfer, or someone else's), the list no longer has them and the first one is chosen again. The
 * agents' presence and load are read again as the list is about to be used, and after a transfer. Transferred out of
 * the view the agent works through (Mine; All, held in another team's), it leaves their list: the inbox moves on to the
 * next conversation, the keyboard on its item, as after Resolve (`onOpen`), saying where it went; whoever's view still
 * lists it (All, of their team; an admin's All) stays on it. */
export function TransferCard({ conv, onOpen }: { conv: Conversation; onOpen?: (id: string | null, toList?: boolean) => void }) {
  const { store, t, who } = useApp();
  const { agents, me } = useStore(store);
  const others = agents.filter((a) => a.id !== conv.assignee);
  const [chosen, setTo] = useState("");
  const to = others.some((a) => a.id === chosen) ? chosen : (others[0]?.id ?? "");
  const [note, setNote] = useState("");
  useResetOn(conv.id, () => {
    setTo("");
    setNote("");
  });
  // Assign to me goes once the conversation is the agent's, and a keyboard user's focus with it, to the page (the next
  // Tab started again from the top bar): it goes on from this card's next control, Transfer to, instead
  const select = useRef<HTMLSelectElement>(null);
  const keepFocus = useRef(false);
  useEffect(() => {
    if (!keepFocus.current || !conv.assignee) return;
    keepFocus.current = false;
    if (!document.activeElement || document.activeElement === document.body) select.current?.focus();
  }, [conv.assignee]);
  if (conv.status === "resolved") return null;
  const assignToMe = async () => {
    keepFocus.current = true;
    const ok = await store.assign(conv.id, who.id, undefined, t("transferred", { agent: agentNamer(agents, me, who, t("unnamedAgent"))(who.id) ?? who.id }));
    if (!ok) keepFocus.current = false;
  };
  const transfer = async (e: Event) => {
    e.preventDefault();
    const target = to;
    if (!target) return;
    const next = store.nextId(); // (the list as the agent sees it now: the one after this)
    const ok = await store.assign(conv.id, target, note.trim() || undefined, t("transferred", { agent: agentName(agents, target, t("unnamedAgent")) }));
    if (ok) {
      setNote("");
      setTo("");
    }
    const { view, open } = store.state;
    const caller = { id: who.id, admin: isAdmin(who), teams: me?.teams ?? null };
    if (ok && open?.id === conv.id && !listedIn(view, open, caller)) onOpen?.(next && next !== conv.id ? next : null, true);
  };
  return (
    <section class="card">
      <h3>{t("transfer")}</h3>
      {!conv.assignee && (
        <button class="btn wide" onClick={() => void assignToMe()}>
          {t("assignToMe")}
        </button>
      )}
      <form onSubmit={transfer}>
        <label class="field">
          <span>{t("transferTo")}</span>
          <select ref={select} value={to} onFocus={() => void store.loadAgents()} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
            {others.map((a) => (
              <option key={a.id} value={a.id}>
                {agentName(agents, a.id, t("unnamedAgent"))} · {t(`presence.${a.presence}`)} · {a.active}/{a.capacity}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("handOffNote")}</span>
          <textarea rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button class="btn wide" type="submit" disabled={!others.length}>
          {t("transfer")}
        </button>
      </form>
    </section>
  );
}

/** Priority, team and skills of the conversation, with a note on the timeline; Save once the form changes one of them
 * (the API takes a note only with a change). Sent to a team the agent is not in, it is no longer theirs (the API
 * releases them, an admin too) nor in their list: the inbox moves on to the next conversation, the keyboard on its
 * item, as after Resolve (`onOpen`), and says where it went; whoever's view still lists it (an admin's All) stays on it. */
export function RoutingCard({ conv, onOpen }: { conv: Conversation; onOpen?: (id: string | null, toList?: boolean) => void }) {
  const { store, t, who } = useApp();
  const { teams, me } = useStore(store);
  const [priority, setPriority] = useState<Priority>(conv.priority);
  const [team, setTeam] = useState(conv.team);
  const [skills, setSkills] = useState((conv.skills ?? []).join(", "));
  const [note, setNote] = useState("");
  // the form follows the conversation as stored (another conversation, or a change someone else made)
  useResetOn(`${conv.id}|${conv.priority}|${conv.team}|${(conv.skills ?? []).join(",")}`, () => {
    setPriority(conv.priority);
    setTeam(conv.team);
    setSkills((conv.skills ?? []).join(", "));
  });
  if (conv.status === "resolved") return null;
  const change = routingChange(conv, { priority, team, skills, note });
  const save = async (e: Event) => {
    e.preventDefault();
    if (!change) return;
    const leaving = change.team !== undefined && !!me && !me.teams.includes(change.team);
    const next = leaving ? store.nextId() : null;
    const ok = await store.setRouting(conv.id, change, "");
    if (!ok) return;
    setNote("");
    // gone from the view (the API released the holder, an admin too): move on; whoever's view still lists it stays
    const { view, open } = store.state;
    const away = leaving && open?.id === conv.id && !listedIn(view, open, { id: who.id, admin: isAdmin(who), teams: me?.teams ?? null });
    store.notify("ok", away ? t("transferred", { agent: teamName(teams, change.team!) }) : t("saved"));
    if (away) onOpen?.(next && next !== conv.id ? next : null, true);
  };
  return (
    <section class="card">
      <h3>{t("routing")}</h3>
      <form onSubmit={save}>
        <label class="field">
          <span>{t("priority")}</span>
          <select value={priority} onChange={(e) => setPriority((e.target as HTMLSelectElement).value as Priority)}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t(`priority.${p}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("team")}</span>
          <select value={team} onChange={(e) => setTeam((e.target as HTMLSelectElement).value)}>
            {teamChoices(teams, [conv.team]).map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t("skills")}</span>
          <input value={skills} onInput={(e) => setSkills((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t("routingNote")}</span>
          <input value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn wide" type="submit" disabled={!change}>
          {t("save")}
        </button>
      </form>
    </section>
  );
}
