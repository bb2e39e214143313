import { useEffect, useState } from "preact/hooks";
import { ApiError, type Conversation, type Order, type OrderPanel } from "../api";
import { useApp } from "../context";
import { formatFull } from "../format";
import { counted } from "../i18n";
import { failureWords } from "../problems";
import { actionPreview, customersOwn, leftToRefund, money, namedFirst, refundLines, statusWords } from "../orders";

/** The customer's recent orders beside the conversation (by their emails and phones, and any order number
 * written in the messages), with tracking; cancel and refund for the agents whose role allows them. */
export function OrdersCard({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const [panel, setPanel] = useState<OrderPanel | null>(null);
  const [error, setError] = useState("");
  const inbound = (conv.messages ?? []).filter((m) => m.direction === "inbound").length;
  const load = () =>
    store.api.orders(conv.id, inbound).then(
      (p) => {
        setPanel(p);
        setError("");
      },
      (e: unknown) => setError(failureWords(e, t)),
    );
  useEffect(() => {
    setPanel(null);
    void load();
  }, [conv.id]);
  useEffect(() => {
    // a new message may name another order; with no shop connected (source "none") there is none to find
    if (panel && panel.source !== "none") void load();
  }, [inbound]);

  return (
    <section class="card orders" aria-labelledby="orders-title">
      <h3 id="orders-title">{t("orders")}</h3>
      {error && <p class="form-error" role="alert">{error}</p>}
      {!panel && !error && <p class="muted">{t("loading")}</p>}
      {panel?.warnings?.map((w) => (
        <p key={w} class="muted small">
          {w}
        </p>
      ))}
      {panel && !panel.items.length && <p class="muted">{t("noOrders")}</p>}
      {panel && (
        <ul class="plain order-list">
          {namedFirst(panel.items).map((o, i) => (
            <OrderItem key={o.id} conv={conv} order={o} first={i === 0} mayAct={panel.actions_allowed} onChanged={load} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** One order: the first (the one the customer named, else the newest) open, the others one line until opened. */
function OrderItem(props: { conv: Conversation; order: Order; first: boolean; mayAct: boolean; onChanged: () => void }) {
  const { conv, order, mayAct, onChanged } = props;
  const { t, locale, timeZone } = useApp();
  const a = order.shipping_address;
  const tracking = order.tracking ?? [];
  return (
    <li class="order">
      <details open={props.first}>
        <summary class="order-head">
          <strong>{order.name}</strong>{" "}
          <span class="muted small">
            {money(order.total, order.currency, locale)} · {order.cancelled_at ? t("order.cancelled") : statusWords(order.fulfillment_status, t)}
          </span>
        </summary>
        <article aria-label={t("orderOf", { name: order.name })}>
          <p class="muted small">{t("order.placed", { date: formatFull(order.created_at, locale, timeZone) })}</p>
          <dl class="order-facts">
            <dt>{t("order.total")}</dt>
            <dd>{money(order.total, order.currency, locale)}</dd>
            <dt>{t("order.payment")}</dt>
            <dd>{statusWords(order.financial_status, t)}</dd>
            <dt>{t("order.fulfilment")}</dt>
            <dd>
              {order.cancelled_at ? <span class="chip sla-breached">{t("order.cancelled")}</span> : statusWords(order.fulfillment_status, t)}
            </dd>
          </dl>
          <h4>{t("order.items")}</h4>
          <ul class="plain small">
            {(order.line_items ?? []).map((li, i) => (
              <li key={li.id ?? i}>
                {li.quantity} × {li.title}
                {li.variant_title ? ` (${li.variant_title})` : ""}
                {li.refunded_quantity ? " " : null}
                {li.refunded_quantity ? <span class="chip">{counted(t, locale, "order.refunded", li.refunded_quantity)}</span> : null}
                {li.price ? <span class="muted"> · {money(li.price, order.currency, locale)}</span> : null}
              </li>
            ))}
          </ul>
          {a && (
            <>
              <h4>{t("order.shipTo")}</h4>
              <address class="small">
                {[a.name, a.company, a.address1, a.address2, [a.zip, a.city].filter(Boolean).join(" "), a.province, a.country_code]
                  .filter(Boolean)
                  .join(", ")}
              </address>
            </>
          )}
          <h4>{t("order.tracking")}</h4>
          {tracking.length ? (
            <ul class="plain small tracking">
              {tracking.map((tr, i) => (
                <li key={`${tr.number}-${i}`}>
                  {tr.url ? (
                    <a href={tr.url} target="_blank" rel="noopener noreferrer">
                      {t("order.track", { number: tr.number ?? "", carrier: tr.company ?? "" })}
                    </a>
                  ) : (
                    <span>
                      {tr.number} {tr.company ? `(${tr.company})` : ""}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted small">{t("order.noTracking")}</p>
          )}
          {order.matched_by?.length ? (
            <p class="muted small">{t("order.matchedBy", { how: order.matched_by.map((m) => matchWords(t, m)).join(", ") })}</p>
          ) : null}
          {mayAct &&
            !order.cancelled_at &&
            (customersOwn(order) ? (
              <OrderActions conv={conv} order={order} onChanged={onChanged} />
            ) : (
              <p class="muted small">{t("order.notTheirs")}</p>
            ))}
        </article>
      </details>
    </li>
  );
}

/** How an order was found, in words: by an identity of the customer's, or a number they wrote. */
function matchWords(t: ReturnType<typeof useApp>["t"], how: string): string {
  const key = how === "number" ? "match.order" : `match.${how}`;
  const words = t(key as Parameters<typeof t>[0]);
  return words === key ? how : words;
}

type Step = { kind: "cancel" | "refund"; summary: string; body: Record<string, unknown> } | null;

/** Cancel or refund in two steps, as the API wants them: ask without `confirm` (a 409 with the preview),
 * show what it would do, then the same request with `confirm: true`. A refusal is shown in its words. */
function OrderActions({ conv, order, onChanged }: { conv: Conversation; order: Order; onChanged: () => void }) {
  const { store, t } = useApp();
  const [mode, setMode] = useState<"all" | "chosen">("all");
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [step, setStep] = useState<Step>(null);
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const unfulfilled = !order.fulfillment_status || /^unfulfilled$/i.test(order.fulfillment_status);
  // a refund's preview is of the choice it was asked for: another choice takes it away (Confirm would do the old one)
  const choose = (next: { mode?: "all" | "chosen"; quantities?: Record<string, number> }) => {
    if (next.mode) setMode(next.mode);
    if (next.quantities) setQuantities(next.quantities);
    setStep((shown) => (shown?.kind === "refund" ? null : shown));
  };

  const call = (kind: "cancel" | "refund", body: Record<string, unknown>) =>
    kind === "cancel" ? store.api.cancelOrder(conv.id, order.id, body) : store.api.refundOrder(conv.id, order.id, body);

  const ask = async (kind: "cancel" | "refund") => {
    const body: Record<string, unknown> = kind === "refund" && mode === "chosen" ? { line_items: refundLines(quantities) } : {};
    setBusy(true);
    setProblem("");
    try {
      await call(kind, body); // a server that skips the preview step: done already
      setStep(null);
      onChanged();
    } catch (e) {
      const preview = e instanceof ApiError ? actionPreview(e.status, e.body) : null;
      if (preview) setStep({ kind, summary: preview, body });
      else setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (!step) return;
    setBusy(true);
    setProblem("");
    try {
      const done = await call(step.kind, { ...step.body, confirm: true });
      store.notify("ok", done.message);
      setStep(null);
      onChanged();
      void store.refreshOpen(); // the action is on the conversation's timeline
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      setProblem(e instanceof ApiError && e.status === 422 ? t("order.refused", { detail }) : detail);
      void store.refreshOpen(); // a refusal is on the timeline too
    } finally {
      setBusy(false);
    }
  };

  const name = (key: "order.cancel" | "order.refund") => `${t(key)} ${order.name}`;
  return (
    <details class="order-actions">
      <summary>{t("actions")}</summary>
      {unfulfilled && (
        <button class="btn" type="button" disabled={busy} onClick={() => void ask("cancel")}>
          {name("order.cancel")}
        </button>
      )}
      <fieldset class="refund">
        <legend>{t("order.refund")}</legend>
        <label>
          <input type="radio" name={`refund-${order.id}`} checked={mode === "all"} onChange={() => choose({ mode: "all" })} /> {t("order.refundAll")}
        </label>
        <label>
          <input type="radio" name={`refund-${order.id}`} checked={mode === "chosen"} onChange={() => choose({ mode: "chosen" })} />{" "}
          {t("order.refundChosen")}
        </label>
        {mode === "chosen" &&
          (order.line_items ?? []).map((li) =>
            li.id && leftToRefund(li) > 0 ? (
              <label class="field inline" key={li.id}>
                <span>{t("order.refundQuantity", { item: li.title })}</span>
                <input
                  type="number"
                  min={0}
                  max={leftToRefund(li)}
                  value={quantities[li.id] ?? 0}
                  onInput={(e) => choose({ quantities: { ...quantities, [li.id!]: Number((e.target as HTMLInputElement).value) } })}
                />
              </label>
            ) : null,
          )}
        <button
          class="btn"
          type="button"
          disabled={busy || (mode === "chosen" && !refundLines(quantities).length)}
          onClick={() => void ask("refund")}
        >
          {name("order.refund")}
        </button>
      </fieldset>
      {step && (
        <div class="confirm" role="group" aria-label={t("order.confirm")}>
          <p>{step.summary}</p>
          <button class="btn btn-primary" type="button" disabled={busy} onClick={() => void confirm()}>
            {t("order.confirm")}
          </button>{" "}
          <button class="btn" type="button" disabled={busy} onClick={() => setStep(null)}>
            {t("cancel")}
          </button>
        </div>
      )}
      {problem && (
        <p class="form-error" role="alert">
          {problem}
        </p>
      )}
    </details>
  );
}
