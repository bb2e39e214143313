// @vitest-environment happy-dom
// The assist panel reads its suggestions again only when the customer's messages they answer change.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api, Message } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { AssistPanel } from "./AssistPanel";

const root = eachRoot();
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

const message = (id: string, direction: Message["direction"], author: string | null, text = "words"): Message =>
  ({ id, direction, author, text, channel: "sms", status: null, attachments: [], created_at: "2026-12-03T09:00:00Z", attempts: 0, possibly_duplicate: false, sender_unproven: false, stuck: false }) as Message;

const suggestion = {
  language: "en", sentiment: "neutral", urgent: false, intent: null, handoff_reason: null, answer: null,
  articles: [{ article_id: "a1", title: "Returning an item", text: "Within 30 days.", language: "en", confidence: 0.9, url: null }],
};

describe("AssistPanel", () => {
  it("reads again when the customer writes, not for an acknowledgement, the bot, a note or a timeline entry", async () => {
    const assist = vi.fn(async () => ({ suggestion }));
    const store = new Store({ assist } as unknown as Api);
    const show = (messages: Message[]) =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <AssistPanel conv={testConversation("c1", { messages, message_count: messages.length })} onInsert={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
    const asked = [message("m1", "inbound", null, "Where is my parcel?")];
    show(asked);
    await tick();
    expect(assist).toHaveBeenCalledTimes(1);
    expect(root().textContent).toContain("Returning an item");

    // Given the acknowledgement, the bot's answer, a note and a timeline entry after it: the question is the same
    show([...asked, message("m2", "outbound", null), message("m3", "outbound", "bot"), message("m4", "note", "bob"),
      message("m5", "system", "bob")]);
    await tick();
    expect(assist).toHaveBeenCalledTimes(1);
    expect(root().textContent).toContain("Returning an item");

    // When the customer writes again: read again
    show([...asked, message("m2", "outbound", null), message("m6", "inbound", null, "It was due on Monday.")]);
    await tick();
    expect(assist).toHaveBeenCalledTimes(2);
    expect(assist).toHaveBeenLastCalledWith("c1", "m1,m6");
  });

  it("shows no suggestion, without a read, once an agent has answered", async () => {
    const assist = vi.fn(async () => ({ suggestion }));
    const store = new Store({ assist } as unknown as Api);
    const show = (messages: Message[]) =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <AssistPanel conv={testConversation("c1", { messages, message_count: messages.length })} onInsert={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
    const asked = [message("m1", "inbound", null, "Where is my parcel?")];
    show(asked);
    await tick();
    expect(assist).toHaveBeenCalledTimes(1);

    // Given alice's reply: the API would answer no suggestion (shopdesk.bot.assist), so none is asked for
    show([...asked, message("m2", "outbound", "alice")]);
    await tick();
    expect(assist).toHaveBeenCalledTimes(1);
    expect(root().textContent).not.toContain("Returning an item");
    expect(root().textContent).toContain(testContext().t("assist.none"));
  });
});
