// @vitest-environment happy-dom
// The timeline in a DOM: who wrote each reply and note, by name.
import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Api, Message } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { Timeline } from "./Timeline";

const root = eachRoot();
const store = new Store({} as Api);
const context = testContext(store);

const message = (id: string, over: Partial<Message>): Message => ({
  id,
  direction: "outbound",
  channel: "sms",
  text: id,
  status: null,
  attachments: [],
  created_at: "2026-12-03T09:00:00Z",
  attempts: 0,
  possibly_duplicate: false,
  ...over,
});


describe("Timeline", () => {
  it("names the agents who replied and wrote notes, an unknown one by id", () => {
    store.set({
      agents: [
        { id: "alice", name: "Alice Example", presence: "online", capacity: 3, active: 1, teams: ["default"] },
        { id: "bob", name: "Bob Example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      ],
    });
    const conv = testConversation("c1", {
      messages: [
        message("reply", { author: "alice", status: "sent" }),
        message("note", { direction: "note", channel: null, author: "bob" }),
        message("old", { author: "carol" }),
      ],
    });
    render(
      <AppContext.Provider value={context}>
        <Timeline conv={conv} />
      </AppContext.Provider>,
      root(),
    );
    const heads = [...root().querySelectorAll(".msg-head strong")].map((e) => e.textContent);
    expect(heads).toEqual(["Alice Example", "Internal note · Bob Example", "carol"]);
  });
});
