import { describe, expect, it } from "vitest";
import { WidgetError } from "./client";
import type { ServerItem } from "./conversation";
import type { ControllerDeps, SocketEvents, WidgetState } from "./controller";
import { KEEPALIVE_S, WidgetController } from "./controller";
import { MemoryStorage } from "./testStorage";

/** The widget API as the controller sees it: stores what is sent (once per client id) unless `failing` says
 * otherwise, and lists what it stored. */
class FakeApi {
  stored: ServerItem[] = [];
  sent: string[] = [];
  failing: (WidgetError | null)[] = [];
  hasSession = true;
  liveAddress: string | null = null;
  otherVisitor = false;
  conversation = "c";

  proven: string | null = null;
  mailed: string | null = null;

  async checkVisitor() { return this.otherVisitor; }
  async requestCode(email: string) { this.mailed = email.toLowerCase(); return { email: this.mailed, expires_in: 600 }; }
  async confirmCode(code: string) {
    if (code !== "123456") throw new WidgetError(400, "That code is not right");
    this.proven = this.mailed;
    return { verified: true as const, linked: true };
  }
  async pastConversations() {
    return { email: this.proven, next_cursor: null, items: [] };
  }
  async poll() { this.polls += 1; return { conversation_id: this.conversation, items: [...this.stored] }; }
  polls = 0;
  async upload(): Promise<never> { throw new WidgetError(415, "this kind of file is not accepted"); }
  async send(message: { clientId: string; text: string | null }) {
    this.sent.push(message.clientId);
    const failure = this.failing.shift();
    if (failure) throw failure;
    if (this.stored.some((s) => s.id === `m-${message.clientId}`)) return { status: "duplicate" as const, message_id: null, conversation_id: "c" };
    this.stored.push({ id: `m-${message.clientId}`, from: "visitor", text: message.text, created_at: new Date(this.stored.length).toISOString(),
                       attachments: [], choices: [] });
    return { status: "stored" as const, message_id: `m-${message.clientId}`, conversation_id: "c" };
  }
}

/** The sockets the controller opened, each with the events the fake server can play, what the widget sent on it
 * and whether it was closed. */
interface FakeSocket { url: string; events: SocketEvents; closed: boolean; sent: string[] }

function controller(api: FakeApi, storage = new MemoryStorage(), now = { at: 1_000 }, sockets?: FakeSocket[]) {
  const timers: { callback: () => void; seconds: number; cleared?: boolean }[] = [];
  let ids = 0;
  let last: WidgetState | null = null;
  const deps: ControllerDeps = {
    client: api, storage, key: "w", render: (state) => { last = structuredClone(state); },
    clock: { set: (callback, seconds) => timers.push({ callback, seconds }),      // the handle: its place + 1
             clear: (handle) => { timers[handle - 1]!.cleared = true; }, now: () => now.at },
    newId: () => `c${++ids}`, hidden: () => false,
    connect: sockets && ((url, events) => {
      const socket: FakeSocket = { url, events, closed: false, sent: [] };
      sockets.push(socket);
      return { close: () => { socket.closed = true; }, send: (data) => { socket.sent.push(data); } };
    }),
  };
  const made = new WidgetController(deps);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { made, timers, settle, state: () => last as unknown as WidgetState, storage };
}

describe("what the visitor writes", () => {
  it("goes out in order: a failure worth retrying holds the later ones back until it is sent", async () => {
    const api = new FakeApi();
    api.failing = [new WidgetError(0, "no answer")];
    const { made, timers, settle, state } = controller(api);
    made.open();
    made.write("first");
    made.write("second");
    await settle();
    expect(api.stored.map((s) => s.text)).toEqual([]);
    expect(state().status).toBe("offline");
    expect(state().pending.map((p) => [p.text, p.state])).toEqual([["first", "sending"], ["second", "sending"]]);
    const retry = timers.filter((t) => t.seconds === 1).pop();
    retry?.callback();
    await settle();
    expect(api.stored.map((s) => s.text)).toEqual(["first", "second"]);
    expect(state().status).toBe("ok");
    expect(state().pending).toEqual([]);
  });

  it("a message written while another is on its way goes out after it, without waiting for anything else", async () => {
    const api = new FakeApi();
    let release: () => void = () => undefined;
    const slow = api.send.bind(api);
    api.send = async (message) => {
      if (message.clientId === "c1") await new Promise<void>((resolve) => { release = resolve; });
      return slow(message);
    };
    const { made, settle, state } = controller(api);
    made.write("first");
    await settle();
    made.open();                 // a listing while it is on its way (the pending list is read anew)
    await settle();
    made.write("second, while the first is on its way");
    release();
    await settle();
    await settle();
    expect(api.stored.map((s) => s.text)).toEqual(["first", "second, while the first is on its way"]);
    expect(state().pending).toEqual([]);
  });

  it("a refused message is marked with the reason and the line goes on; retry and remove are the visitor's", async () => {
    const api = new FakeApi();
    api.failing = [new WidgetError(400, "The message is too long")];
    const { made, settle, state } = controller(api);
    made.write("too long");
    made.write("short");
    await settle();
    expect(api.stored.map((s) => s.text)).toEqual(["short"]);
    expect(state().pending.map((p) => [p.text, p.state, p.reason])).toEqual([["too long", "failed", "The message is too long"]]);
    made.retry("c1");
    await settle();
    expect(api.stored.map((s) => s.text)).toEqual(["short", "too long"]);
    api.failing = [new WidgetError(422, "no")];
    made.write("oops");
    await settle();
    made.remove(state().pending[0]!.clientId);
    expect(state().pending).toEqual([]);
  });

  it("is kept in the tab until it is listed: a reload sends it again with the same id, stored once", async () => {
    const api = new FakeApi();
    api.failing = [new WidgetError(503, "down")];
    const first = controller(api);
    first.made.write("kept");
    await first.settle();
    expect(api.stored).toEqual([]);
    const reloaded = controller(api, first.storage);     // the page again, same tab
    await reloaded.made.boot();
    await reloaded.settle();
    expect(api.sent).toEqual(["c1", "c1"]);
    expect(api.stored.map((s) => s.text)).toEqual(["kept"]);
  });

  it("a file the API refuses says why, and nothing is queued", async () => {
    const api = new FakeApi();
    const { made, state } = controller(api);
    await made.attach(new File(["x"], "virus.exe"));
    expect(state().uploadError).toBe("this kind of file is not accepted");
    expect(state().pending).toEqual([]);
  });
});

describe("the conversation", () => {
  it("counts replies while closed, and opening marks them seen", async () => {
    const api = new FakeApi();
    api.stored = [{ id: "a1", from: "agent", text: "Hi", created_at: "1", attachments: [], choices: [] }];
    const { made, settle, state } = controller(api);
    await made.boot();
    await settle();
    expect(state().unread).toBe(1);
    made.open();
    await settle();
    expect(state().unread).toBe(0);
    made.close();
    api.stored.push({ id: "a2", from: "agent", text: "Anything else?", created_at: "2", attachments: [], choices: [] });
    made.visible();
    await settle();
    expect(state().unread).toBe(1);
  });

  it("polls often while the conversation moves, less while it is quiet, rarely while closed", async () => {
    const api = new FakeApi();
    const now = { at: 1_000 };
    const { made, timers, settle } = controller(api, new MemoryStorage(), now);
    made.open();
    await settle();
    expect(timers.at(-1)?.seconds).toBe(10);          // open, nothing written yet
    made.write("hello");
    await settle();
    expect(timers.at(-1)?.seconds).toBe(3);           // waiting for an answer
    now.at += 61;
    timers.at(-1)?.callback();
    await settle();
    expect(timers.at(-1)?.seconds).toBe(10);          // a minute without a message
    api.stored.push({ id: "a1", from: "agent", text: "Hi!", created_at: "9", attachments: [], choices: [] });
    timers.at(-1)?.callback();
    await settle();
    expect(timers.at(-1)?.seconds).toBe(3);           // the agent answered: the conversation moves again
    made.close();
    expect(timers.at(-1)?.seconds).toBe(30);
  });

  it("drops what another visitor left in this tab (a sign-in on a shared computer)", async () => {
    const api = new FakeApi();
    api.failing = [new WidgetError(0, "no answer")];
    const before = controller(api);
    before.made.write("private");
    await before.settle();
    api.otherVisitor = true;
    const after = controller(api, before.storage);
    await after.made.boot();
    await after.settle();
    expect(after.state().pending).toEqual([]);
    expect(api.stored).toEqual([]);
  });
});

describe("the widget's socket", () => {
  const reply = (id: string) => ({ id, from: "agent" as const, text: "Hi!", created_at: id, attachments: [], choices: [] });

  it("reads the conversation as soon as a frame says it changed, and polls only once a minute while it is open", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const { made, timers, settle, state } = controller(api, new MemoryStorage(), { at: 1_000 }, sockets);
    made.open();
    await settle();
    expect(sockets.map((s) => s.url)).toEqual(["ws://live/dev?session=s"]);   // the conversation shown: listen
    expect(timers.at(-1)?.seconds).toBe(10);          // not open yet: polled as without one
    sockets[0]!.events.open();
    await settle();
    expect(api.polls).toBe(2);                        // what moved while it was opening
    expect(timers.at(-1)?.seconds).toBe(60);
    api.stored.push(reply("a1"));
    sockets[0]!.events.changed();
    await settle();
    expect(state().items.map((i) => i.id)).toEqual(["a1"]);
    expect(timers.at(-1)?.seconds).toBe(60);          // moving, but the socket says when: no 3 s polling
    expect(sockets).toHaveLength(1);                  // the same conversation: the same socket
  });

  it("shows the newer of two reads when a frame comes while a poll is on its way, whichever answers last", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const { made, settle, state } = controller(api, new MemoryStorage(), { at: 1_000 }, sockets);
    made.open();
    await settle();
    sockets[0]!.events.open();
    await settle();
    // the next two reads are held: the first (before the reply) answers last
    const held: ((items: ServerItem[]) => void)[] = [];
    api.poll = () => new Promise((resolve) => held.push((items) => resolve({ conversation_id: "c", items })));
    sockets[0]!.events.changed();                     // a read begins
    sockets[0]!.events.changed();                     // the agent's reply: another begins
    await settle();
    held[1]!([reply("a1")]);
    await settle();
    held[0]!([]);
    await settle();
    expect(state().items.map((i) => i.id)).toEqual(["a1"]);
  });

  it("falls back to polling when the socket closes, and connects again later, spaced out after refusals", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const now = { at: 1_000 };
    const { made, timers, settle } = controller(api, new MemoryStorage(), now, sockets);
    made.open();
    await settle();
    sockets[0]!.events.closed();                      // refused before it opened
    expect(timers.at(-1)?.seconds).toBe(10);
    timers.at(-1)?.callback();
    await settle();
    expect(sockets).toHaveLength(1);                  // not at once after a refusal
    now.at += 2;
    timers.at(-1)?.callback();
    await settle();
    expect(sockets).toHaveLength(2);
    sockets[1]!.events.open();
    await settle();
    expect(timers.at(-1)?.seconds).toBe(60);
    sockets[1]!.events.closed();                      // an open socket dropped (API Gateway's 2 hours): again at once
    expect(timers.at(-1)?.seconds).toBe(10);
    timers.at(-1)?.callback();
    await settle();
    expect(sockets).toHaveLength(3);
  });

  it("hangs up while the tab is hidden, listens to a new conversation anew, and never connects without an address", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const { made, settle } = controller(api, new MemoryStorage(), { at: 1_000 }, sockets);
    made.open();
    await settle();
    made.hide();
    expect(sockets[0]!.closed).toBe(true);
    made.visible();
    await settle();
    expect(sockets).toHaveLength(2);
    api.conversation = "c2";                          // the last one was resolved; the visitor wrote again
    api.stored.push(reply("a2"));
    sockets[1]!.events.changed();
    await settle();
    expect(sockets[1]!.closed).toBe(true);
    expect(sockets).toHaveLength(3);
    const polling = new FakeApi();                    // an API without a socket
    const without: FakeSocket[] = [];
    const other = controller(polling, new MemoryStorage(), { at: 1_000 }, without);
    other.made.open();
    await other.settle();
    expect(without).toEqual([]);
    expect(other.timers.at(-1)?.seconds).toBe(10);
  });
});

describe("the widget's keepalive", () => {
  const keepalives = <T extends { seconds: number; cleared?: boolean }>(timers: T[]) =>
    timers.filter((t) => t.seconds === KEEPALIVE_S && !t.cleared);

  it("sends a keepalive every 9 minutes while its socket is open, before API Gateway's 10 idle minutes", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const { made, timers, settle } = controller(api, new MemoryStorage(), { at: 1_000 }, sockets);
    made.open();
    await settle();
    expect(KEEPALIVE_S).toBeLessThan(600);
    expect(keepalives(timers)).toEqual([]);            // not before the socket is open
    sockets[0]!.events.open();
    await settle();
    const polls = api.polls;
    for (const times of [1, 2, 3]) {
      const [due] = keepalives(timers).filter((t) => !("fired" in t));
      Object.assign(due!, { fired: true });
      due!.callback();
      expect(sockets[0]!.sent).toEqual(Array(times).fill('{"action":"keepalive"}'));
    }
    await settle();
    expect(api.polls).toBe(polls);                     // a keepalive is not a listing
    sockets[0]!.events.changed();                      // a frame heard does not move the cadence
    await settle();
    expect(keepalives(timers).filter((t) => !("fired" in t))).toHaveLength(1);
  });

  it("stops when the socket closes or the tab hides, and starts again with the next socket", async () => {
    const api = new FakeApi();
    api.liveAddress = "ws://live/dev?session=s";
    const sockets: FakeSocket[] = [];
    const { made, timers, settle } = controller(api, new MemoryStorage(), { at: 1_000 }, sockets);
    made.open();
    await settle();
    sockets[0]!.events.open();
    await settle();
    const first = keepalives(timers);
    expect(first).toHaveLength(1);
    sockets[0]!.events.closed();                       // dropped: no keepalive left waiting, and none sent
    expect(keepalives(timers)).toEqual([]);
    first[0]!.callback();                              // (a timer the browser fires anyway sends nothing)
    expect(sockets[0]!.sent).toEqual([]);
    timers.at(-1)?.callback();                         // the next listing connects again
    await settle();
    sockets[1]!.events.open();
    await settle();
    expect(keepalives(timers)).toHaveLength(1);
    made.hide();                                       // the tab hides: the socket hangs up, its keepalive with it
    expect(sockets[1]!.closed).toBe(true);
    expect(keepalives(timers)).toEqual([]);
    expect(sockets[1]!.sent).toEqual([]);
  });
});

describe("an email address, proven", () => {
  it("is offered when the API says none is yet, and a wrong code says why and lets the visitor try again", async () => {
    const api = new FakeApi();
    const { made, settle, state } = controller(api);
    made.open();
    await settle();
    expect(state().email.step).toBe("offer");
    made.askEmail();
    await made.requestCode("  Ana@Example.com ");
    expect([state().email.step, state().email.address]).toEqual(["code", "ana@example.com"]);
    await made.confirmCode("000000");
    expect([state().email.step, state().email.error, state().email.busy]).toEqual(["code", "That code is not right", false]);
    await made.confirmCode(" 123456 ");
    expect([state().email.step, state().email.address, state().email.error]).toEqual(["linked", "ana@example.com", null]);
  });

  it("is not offered to a visitor whose address is proven already (a signed-in customer's)", async () => {
    const api = new FakeApi();
    api.proven = "bo@example.com";
    const { made, settle, state } = controller(api);
    made.open();
    await settle();
    expect([state().email.step, state().email.address]).toEqual(["linked", "bo@example.com"]);
  });
});
