import { describe, expect, it } from "vitest";
import { translator } from "./i18n";
import { actionPreview, customersOwn, leftToRefund, money, namedFirst, refundLines, statusWords } from "./orders";

describe("money", () => {
  it("formats an amount in its currency, in the agent's language", () => {
    expect(money("45.00", "USD", "en")).toBe("$45.00");
    const euros = money("45.5", "EUR", "pt"); // where the sign goes depends on the ICU data
    expect(euros).toContain("45,50");
    expect(euros).toContain("€");
  });
  it("falls back to the raw values", () => {
    expect(money(null, "USD", "en")).toBe("—");
    expect(money("12", null, "en")).toBe("12");
    expect(money("12", "XXXXX", "en")).toBe("12 XXXXX");
  });
});

describe("statusWords", () => {
  it("turns platform statuses into words", () => {
    expect(statusWords("PARTIALLY_FULFILLED")).toBe("partially fulfilled");
    expect(statusWords("paid")).toBe("paid");
    expect(statusWords(null)).toBe("—");
  });
});

describe("leftToRefund", () => {
  it("takes the platform's refundable count when it gives one, else bought less refunded, never below zero", () => {
    expect(leftToRefund({ quantity: 2, refunded_quantity: 1 })).toBe(1);
    expect(leftToRefund({ quantity: 2, refunded_quantity: 1, refundable_quantity: 0 })).toBe(0);
    expect(leftToRefund({ quantity: 2 })).toBe(2);
    expect(leftToRefund({ quantity: 1, refunded_quantity: 3 })).toBe(0);
  });
});

describe("refundLines", () => {
  it("keeps whole quantities above zero", () => {
    expect(refundLines({ a: 1, b: 0, c: 2.7, d: Number.NaN })).toEqual([
      { line_item_id: "a", quantity: 1 },
      { line_item_id: "c", quantity: 2 },
    ]);
  });
});

describe("actionPreview", () => {
  const body = {
    status: 409,
    code: "confirmation_required",
    detail: 'Cancel order #1004 (45.00 USD). Send the same request with "confirm": true to do it.',
    preview: { summary: "Cancel order #1004 (45.00 USD), refund what was paid" },
  };
  it("shows the preview's summary of a confirmation-required answer", () => {
    expect(actionPreview(409, body)).toBe("Cancel order #1004 (45.00 USD), refund what was paid.");
    expect(actionPreview(409, { ...body, preview: {} })).toBe(body.detail);
  });
  it("is null for other answers: a conflict of state, a refusal", () => {
    expect(actionPreview(409, { code: "conflict", detail: "already cancelled" })).toBeNull();
    expect(actionPreview(422, { code: "platform_refused" })).toBeNull();
  });
});

describe("namedFirst", () => {
  it("puts the orders named in the messages first, the rest newest first as given", () => {
    const orders = [
      { name: "#1004", matched_by: ["phone"] },
      { name: "#1001", matched_by: ["number", "phone"] },
      { name: "#0999" },
    ];
    expect(namedFirst(orders).map((o) => o.name)).toEqual(["#1001", "#1004", "#0999"]);
  });
});

describe("statusWords in the agent's language", () => {
  it("says the platforms' statuses the inbox knows in the agent's words, others as the platform names them", () => {
    expect(statusWords("fulfilled", translator("es"))).toBe("enviado");
    expect(statusWords("PARTIALLY_REFUNDED", translator("pt"))).toBe("reembolsado em parte");
    expect(statusWords("paid", translator("en"))).toBe("paid");
    expect(statusWords("SOMETHING_NEW", translator("es"))).toBe("something new");
    expect(statusWords(null, translator("es"))).toBe("—");
  });
});

describe("customersOwn", () => {
  it("is an order found by the customer's email or phone, never one found only by the number they wrote", () => {
    expect(customersOwn({ matched_by: ["email"] })).toBe(true);
    expect(customersOwn({ matched_by: ["number", "phone"] })).toBe(true);
    expect(customersOwn({ matched_by: ["number"] })).toBe(false);
    expect(customersOwn({})).toBe(false);
  });
});
