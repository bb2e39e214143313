// @vitest-environment happy-dom
// The order actions' two steps: what Confirm does is what the form shows.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, NoAnswer, type Api, type Message } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { OrdersCard } from "./OrdersCard";

const root = eachRoot();
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
const order = {
  id: "o1001", name: "#1001", total: "119.00", currency: "USD", created_at: "2026-11-20T10:00:00Z",
  financial_status: "paid", fulfillment_status: "fulfilled", matched_by: ["phone"], tracking: [],
  line_items: [
    { id: "li1", title: "Trail running shoes", quantity: 1, price: "99.00" },
    { id: "li2", title: "Wool socks", quantity: 2, price: "10.00" },
  ],
};

describe("OrdersCard's refund", () => {
  it("asks again when the agent changes what to refund after the preview, and confirms what the form shows", async () => {
    const refunds: Record<string, unknown>[] = [];
    const refundOrder = vi.fn(async (_c: string, _o: string, body: Record<string, unknown>) => {
      refunds.push(body);
      if (!body.confirm) {
        const what = body.line_items ? "Refund the chosen items" : "Refund everything not yet refunded";
        throw new ApiError(409, "Confirmation required", { code: "confirmation_required", preview: { summary: what } });
      }
      return { action: "refund", message: "Refunded", order, timeline_message_id: "m1" };
    });
    const api = {
      orders: async () => ({ items: [order], actions_allowed: true, warnings: [] }),
      refundOrder,
      conversation: async () => testConversation("c1"),
    } as unknown as Api;
    const store = new Store(api);
    render(
      <AppContext.Provider value={testContext(store)}>
        <OrdersCard conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    const button = (name: string) => [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === name)!;
    const confirmText = () => root().querySelector(".confirm p")?.textContent ?? null;

    // Given the preview of a refund of everything
    button("Refund #1001").click();
    await tick();
    expect(confirmText()).toBe("Refund everything not yet refunded.");

    // When the agent then chooses one pair of socks instead
    const [, chosen] = root().querySelectorAll<HTMLInputElement>("input[type=radio]");
    chosen!.checked = true;
    chosen!.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    // Then the preview of everything is gone: Confirm cannot refund what the form no longer shows
    expect(confirmText()).toBeNull();
    const [, socks] = root().querySelectorAll<HTMLInputElement>("input[type=number]");
    socks!.value = "1";
    socks!.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    button("Refund #1001").click();
    await tick();
    expect(confirmText()).toBe("Refund the chosen items.");
    button("Confirm").click();
    await tick();
    expect(refunds.at(-1)).toEqual({ line_items: [{ line_item_id: "li2", quantity: 1 }], confirm: true });
  });

  it("says what was refunded already and offers only what is left to refund", async () => {
    const refunded = {
      ...order,
      line_items: [
        { id: "li1", title: "Trail running shoes", quantity: 1, price: "99.00", refunded_quantity: 0 },
        { id: "li2", title: "Wool socks", quantity: 2, price: "10.00", refunded_quantity: 2 },
        { id: "li3", title: "Laces", quantity: 3, price: "2.00", refunded_quantity: 1 },
      ],
    };
    const api = {
      orders: async () => ({ items: [refunded], actions_allowed: true, warnings: [] }),
      conversation: async () => testConversation("c1"),
    } as unknown as Api;
    render(
      <AppContext.Provider value={testContext(new Store(api))}>
        <OrdersCard conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    await tick();
    const lines = [...root().querySelectorAll("ul.plain.small > li")].map((li) => li.textContent ?? "");
    expect(lines.find((l) => l.includes("Wool socks"))).toBe("2 × Wool socks 2 refunded · $10.00");
    expect(lines.find((l) => l.includes("Laces"))).toContain("1 refunded");
    expect(lines.find((l) => l.includes("Trail running shoes"))).not.toContain("refunded");
    const [, chosen] = root().querySelectorAll<HTMLInputElement>("input[type=radio]");
    chosen!.checked = true;
    chosen!.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    // the socks are all refunded: no quantity to choose; the laces may take 2 more
    const inputs = [...root().querySelectorAll<HTMLInputElement>("input[type=number]")];
    expect(inputs.map((i) => i.closest("label")?.textContent)).toEqual([
      "Quantity of Trail running shoes to refund",
      "Quantity of Laces to refund",
    ]);
    expect(inputs.map((i) => i.max)).toEqual(["1", "2"]);
  });
});

describe("OrdersCard's reads", () => {
  const said = (id: string) =>
    ({ id, direction: "inbound", author: null, text: "order 1001?", channel: "sms", status: null, attachments: [], created_at: "2026-12-03T09:00:00Z", attempts: 0, possibly_duplicate: false, sender_unproven: false, stuck: false }) as Message;
  const shown = (orders: () => Promise<unknown>) => {
    const store = new Store({ orders } as unknown as Api);
    return (messages: Message[]) =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <OrdersCard conv={testConversation("c1", { messages })} />
        </AppContext.Provider>,
        root(),
      );
  };

  it("reads again when the customer writes: the message may name another order", async () => {
    const orders = vi.fn(async () => ({ items: [], identities: [], numbers: [], source: "cache", warnings: [], actions_allowed: false }));
    const show = shown(orders);
    show([said("m1")]);
    await tick();
    show([said("m1"), said("m2")]);
    await tick();
    expect(orders).toHaveBeenCalledTimes(2);
  });

  it("does not read again when no shop is connected: no message can name an order it would find", async () => {
    const orders = vi.fn(async () => ({ items: [], identities: [], numbers: [], source: "none", warnings: [], actions_allowed: false }));
    const show = shown(orders);
    show([said("m1")]);
    await tick();
    show([said("m1"), said("m2")]);
    await tick();
    expect(orders).toHaveBeenCalledTimes(1);
    expect(root().textContent).toContain(testContext().t("noOrders"));
  });
});

describe("OrdersCard's read", () => {
  it("says orders that could not be read for want of an answer in the agent's words, not the browser's", async () => {
    const api = { orders: async () => { throw new NoAnswer("GET", new TypeError("Failed to fetch")); } } as unknown as Api;
    render(
      <AppContext.Provider value={testContext(new Store(api), "pt")}>
        <OrdersCard conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().querySelector("[role=alert]")).not.toBeNull());
    expect(root().querySelector("[role=alert]")!.textContent).toBe("Sem resposta do shopdesk: a conexão caiu? Tente novamente em instantes.");
  });
});
