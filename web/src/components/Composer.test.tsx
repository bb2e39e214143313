// @vitest-environment happy-dom
// The reply box in a DOM, with its effects held back as a busy browser holds them back. Preact runs a
// component's effects after paint (a frame or a 35 ms timer later, then a task), or at the start of its next
// render when that comes first; the timers here are fake, so effects run only when the test says. An agent
// who presses `r` and types at once types before them: the first keystroke's render runs them.
import { render } from "preact";
import { setupRerender } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api, ApiError, type Conversation } from "../api";
import { AppContext } from "../context";
import { Drafts } from "../drafts";
import { Store } from "../store";
import { testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { Composer } from "./Composer";

// the bucket's upload form (an XMLHttpRequest to S3) taken as done: the files' own tests are the browser's
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), sendToBucket: async () => undefined }));

const conv = (id: string) => testConversation(id, { customer: { id: `cu-${id}`, name: id } });

let root: HTMLElement;
let rerender: () => void;
const store = new Store({} as Api);
const context = testContext(store);

/** The composer of ``c``, on the file's store or on ``on``. */
function show(c: Conversation, on?: Store): void {
  render(
    <AppContext.Provider value={on ? testContext(on) : context}>
      <Composer conv={c} />
    </AppContext.Provider>,
    root,
  );
}

const replyBox = () => root.querySelector<HTMLTextAreaElement>("#reply-box")!;
const noteBox = () => root.querySelector<HTMLTextAreaElement>("#note-box")!;

/** What the API answers a reply (or a note, a template) it took. */
const queued = { id: "m1", direction: "outbound", status: "queued", attachments: [], created_at: "2026-12-03T09:00:00Z", attempts: 0, possibly_duplicate: false, sender_unproven: false, stuck: false };

/** The note box's text as the browser sets it: its value, then its input event. */
function writeNote(text: string): void {
  noteBox().value = text;
  noteBox().dispatchEvent(new Event("input", { bubbles: true }));
  rerender();
}

/** Send (``.reply-form``) or Add note (``.note-form``) pressed. */
function submit(form: ".reply-form" | ".note-form"): void {
  root.querySelector<HTMLFormElement>(form)!.dispatchEvent(new Event("submit", { cancelable: true }));
}

/** One key as the browser applies it: the box's value changes, then its input event; Preact renders next. */
function type(text: string): void {
  for (const key of text) {
    const box = replyBox();
    box.value += key;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    rerender();
  }
}

/** The one approved template the WhatsApp tests offer. */
const orderUpdate = { name: "order_update", language: "en_US", body: "Hi! There is news about your order {{1}}", parameters: 1 };

const sendTemplateButton = () =>
  [...root.querySelectorAll<HTMLButtonElement>(".template-form button")].find((b) => b.textContent === "Send template")!;

/** The template's first parameter as the browser sets it. */
function writeParameter(text: string): void {
  const input = root.querySelector<HTMLInputElement>(".template-form input")!;
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  rerender();
}

/** An API whose ``n``th template send (from 1) is lost, refused as its key went with another one, or taken; each
 * send's Idempotency-Key is pushed to ``keys``. */
function templateApi(keys: (string | null)[], answer: (n: number) => "lost" | 422 | 202) {
  const reused = { type: "/problems/validation", title: "Invalid", status: 422, detail: "reused", code: "idempotency_key_reused", params: {} };
  return vi.fn(async (url: string, init: RequestInit) => {
    if (init?.method !== "POST" || !url.endsWith("/templates")) return { ok: true, status: 200, text: async () => "{}" };
    keys.push(new Headers(init.headers).get("Idempotency-Key"));
    const now = answer(keys.length);
    if (now === "lost") throw new TypeError("Failed to fetch");
    if (now === 422) return { ok: false, status: 422, text: async () => JSON.stringify(reused) };
    return { ok: true, status: 202, text: async () => JSON.stringify({ ...queued, kind: "template" }) };
  });
}

/** Send template pressed, until the API has seen ``count`` sends and its answer is shown. */
async function sendTemplate(keys: unknown[], count: number): Promise<void> {
  sendTemplateButton().click();
  await vi.waitFor(() => expect(keys).toHaveLength(count));
  await vi.runAllTimersAsync();
  rerender();
}

beforeEach(() => {
  store.drafts.clear();
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "requestAnimationFrame", "cancelAnimationFrame"] });
  rerender = setupRerender();
  root = document.createElement("div");
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  vi.runAllTimers(); // Preact's queue of effects is shared: leave it empty for the next test
  root.remove();
  vi.useRealTimers();
});

describe("Composer", () => {
  it("keeps the first keys typed before its effects ran (r, then typing at once)", () => {
    show(conv("c1"));
    type("Answered");
    expect(replyBox().value).toBe("Answered");
    vi.runAllTimers(); // the effects, late
    rerender();
    expect(replyBox().value).toBe("Answered");
  });

  it("shows another conversation with an empty box at once, and keeps what is typed into it before the effects ran", () => {
    show(conv("c1"));
    vi.runAllTimers();
    rerender();
    type("for c1");
    show(conv("c2"));
    expect(replyBox().value).toBe("");
    type("for c2");
    expect(replyBox().value).toBe("for c2");
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("for c2");
  });

  it("keeps the draft when the same conversation is shown again (a refetch)", () => {
    show(conv("c1"));
    vi.runAllTimers();
    type("half a reply");
    show({ ...conv("c1"), message_count: 2 });
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("half a reply");
  });

  it("keeps each conversation's unsent reply and note: there again when the agent comes back to it", () => {
    show(conv("c1"));
    vi.runAllTimers();
    type("half a reply for c1");
    writeNote("ask @bob");
    show(conv("c2"));
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("");
    type("for c2");
    show(conv("c1"));
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("half a reply for c1");
    expect(noteBox().value).toBe("ask @bob");
    // the inbox left for a settings page and back: the composer mounts again with the draft
    render(null, root);
    vi.runAllTimers();
    show(conv("c2"));
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("for c2");
  });

  it("does not keep a reply or note sent while the agent moved on as that conversation's draft", async () => {
    // Given replies and notes the API takes only after the agent has opened another conversation
    const answers: (() => void)[] = [];
    const later = () => new Promise<never>((resolve) => answers.push(() => resolve({} as never)));
    const slow = new Store({ reply: later, note: later } as unknown as Api);
    slow.set({ live: "live" }); // the notices bring the rest
    show(conv("c1"), slow);
    vi.runAllTimers();
    type("It ships today");
    writeNote("told them");
    submit(".reply-form");
    submit(".note-form");
    expect(answers).toHaveLength(2);

    // When the composer goes (the next conversation loads) before the API answers, and then it answers
    render(null, root);
    vi.runAllTimers();
    answers.forEach((answer) => answer());
    await vi.waitFor(() => expect(slow.drafts.has("c1")).toBe(false));

    // Then coming back shows empty boxes: nothing already sent waits there to be sent again
    show(conv("c1"), slow);
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("");
    expect(noteBox().value).toBe("");
  });

  it("keeps what was not sent when the rest of the draft went while the agent was elsewhere", async () => {
    const answers: (() => void)[] = [];
    const slow = new Store({ note: () => new Promise((resolve) => answers.push(() => resolve({}))) } as unknown as Api);
    slow.set({ live: "live" });
    show(conv("c1"), slow);
    vi.runAllTimers();
    type("half a reply");
    writeNote("told them");
    submit(".note-form");
    render(null, root);
    vi.runAllTimers();
    answers.forEach((answer) => answer());
    await vi.waitFor(() => expect(slow.drafts.get("c1")).toMatchObject({ text: "half a reply", note: "" }));
  });

  it("sends what was typed while a reply went, and kept as the agent moved on, as a new reply with a new key", async () => {
    // Given a reply the API takes only after the agent typed more and opened another conversation
    const keys: (string | undefined)[] = [];
    const answers: (() => void)[] = [];
    const reply = (_id: string, _text: unknown, _channel: unknown, _files: unknown, key?: string) => {
      keys.push(key);
      return keys.length === 1 ? new Promise((resolve) => answers.push(() => resolve(queued))) : Promise.resolve(queued);
    };
    const slow = new Store({ reply } as unknown as Api);
    slow.set({ live: "live" });
    show(conv("c1"), slow);
    vi.runAllTimers();
    type("It ships today");
    submit(".reply-form");
    type(" by UPS");
    render(null, root);
    vi.runAllTimers();
    answers.forEach((answer) => answer());
    await vi.waitFor(() => expect(slow.drafts.get("c1")).toMatchObject({ text: "It ships today by UPS" }));
    await vi.runAllTimersAsync();

    // When the agent comes back and sends what is in the box
    show(conv("c1"), slow);
    vi.runAllTimers();
    rerender();
    expect(replyBox().value).toBe("It ships today by UPS");
    submit(".reply-form");
    await vi.waitFor(() => expect(keys).toHaveLength(2));

    // Then it goes with a new key: the first one went with the text the API took (a 422 idempotency_key_reused else)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it("keeps the files attached to an unsent reply with its draft, and sends them when the reply goes", async () => {
    // Given a reply with a file uploaded for it, in a conversation the agent then leaves
    const replies: unknown[][] = [];
    const withFiles = new Store({
      upload: async (f: { filename: string; content_type: string; size: number }) => ({ key: `media/outbound/c1/alice/u/${f.filename}`, url: "https://bucket", fields: {}, ...f, expires_in: 300 }),
      reply: async (...args: unknown[]) => {
        replies.push(args);
        return queued;
      },
    } as unknown as Api);
    withFiles.set({ live: "live" });
    const chips = () => [...root.querySelectorAll(".attach-chip .attach-name")].map((e) => e.textContent);
    show(conv("c1"), withFiles);
    vi.runAllTimers();
    type("Your return label is attached");
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    Object.defineProperty(paste, "clipboardData", { value: { files: [new File(["%PDF-1.4"], "label.pdf", { type: "application/pdf" })] } });
    replyBox().dispatchEvent(paste);
    await vi.waitFor(() => {
      rerender();
      expect(root.querySelector(".attach-ready")).not.toBeNull();
    });
    render(null, root); // another conversation loads
    vi.runAllTimers();

    // When the agent comes back to it
    show(conv("c1"), withFiles);
    vi.runAllTimers();
    rerender();

    // Then the text and the file are both there, and Send sends both
    expect(replyBox().value).toBe("Your return label is attached");
    expect(chips()).toEqual(["label.pdf"]);
    submit(".reply-form");
    await vi.waitFor(() => expect(replies).toHaveLength(1));
    expect(replies[0]![3]).toEqual([{ key: "media/outbound/c1/alice/u/label.pdf", filename: "label.pdf", content_type: "application/pdf", size: 8 }]);
    await vi.waitFor(() => {
      rerender();
      expect(chips()).toEqual([]);
    });
    render(null, root);
    vi.runAllTimers();
    expect(withFiles.drafts.has("c1")).toBe(false);
  });

  it("asks for a file's upload for the reply's channel, and shows at once on its chip a file the channel refuses", async () => {
    const asked: unknown[][] = [];
    const refusing = new Store({
      upload: async (...args: unknown[]) => {
        asked.push(args);
        throw new ApiError(422, "invoice.pdf is 700 KB; SMS (Twilio MMS) takes application/pdf of at most 500 KB", {});
      },
    } as unknown as Api);
    show(conv("c11"), refusing);
    vi.runAllTimers();
    rerender();
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    Object.defineProperty(paste, "clipboardData", { value: { files: [new File(["%PDF-1.4"], "invoice.pdf", { type: "application/pdf" })] } });
    replyBox().dispatchEvent(paste);
    await vi.waitFor(() => {
      rerender();
      expect(root.querySelector(".attach-error")?.textContent).toContain("at most 500 KB");
    });
    expect(asked[0]!.slice(1)).toEqual(["c11", "sms"]);
  });

  it("forgets a kept draft once it is sent from the box it came back to", async () => {
    sessionStorage.clear();
    const drafts = new Drafts(sessionStorage, "shopdesk.drafts.alice");
    drafts.set("c1", { text: "written before the reload", note: "" });
    const sending = new Store({ reply: async () => queued } as unknown as Api, undefined, drafts);
    sending.set({ live: "live" });
    show(conv("c1"), sending);
    vi.runAllTimers();
    expect(replyBox().value).toBe("written before the reload");
    submit(".reply-form");
    // sent, the box still open: what the tab keeps has it no more (a crash now would not bring it back to send again)
    await vi.waitFor(() => expect(new Drafts(sessionStorage, "shopdesk.drafts.alice").has("c1")).toBe(false));
  });

  it("keeps what is in the boxes as the page goes (a reload unmounts nothing), for the next page of the tab", () => {
    sessionStorage.clear();
    const kept = new Store({} as Api, undefined, new Drafts(sessionStorage, "shopdesk.drafts.alice"));
    show(conv("c1"), kept);
    vi.runAllTimers();
    type("a long careful answer");
    window.dispatchEvent(new Event("pagehide"));
    expect(new Drafts(sessionStorage, "shopdesk.drafts.alice").get("c1")?.text).toBe("a long careful answer");
  });

  it("picks an agent to mention from the keyboard: arrows choose, Enter writes them (not a new line)", () => {
    store.set({
      agents: [
        { id: "bob", name: "Bob Example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
        { id: "bea", name: "Bea Example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      ],
    });
    show(conv("c1"));
    vi.runAllTimers();
    const key = (k: string) => {
      const event = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
      noteBox().dispatchEvent(event);
      rerender();
      return event.defaultPrevented;
    };
    noteBox().value = "please check @b";
    noteBox().setSelectionRange(15, 15);
    noteBox().dispatchEvent(new Event("input", { bubbles: true }));
    rerender();
    const chosen = () => root.querySelector(".mention-suggestions [aria-pressed=true]")?.textContent;
    expect(chosen()).toBe("Bob Example");
    expect(key("ArrowDown")).toBe(true);
    expect(chosen()).toBe("Bea Example");
    expect(key("Enter")).toBe(true);
    expect(noteBox().value).toBe("please check @bea ");
    vi.runAllTimers(); // the caret after the name (a frame later)
    rerender();
    expect(root.querySelector(".mention-suggestions")).toBeNull();
    expect(key("Enter")).toBe(false); // no agent suggested: Enter is a new line again
  });

  it("suggests an agent the desk has no name for by their work email, else as unnamed, never by id; the id is what is written", () => {
    store.set({
      agents: [
        { id: "u_7f3a", name: null, email: "ana@shop.example", presence: "online", capacity: 3, active: 0, teams: ["default"] },
        { id: "u_9c1d", name: "  ", presence: "online", capacity: 3, active: 0, teams: ["default"] },
      ],
    });
    show(conv("c1"));
    vi.runAllTimers();
    noteBox().value = "ask @u";
    noteBox().setSelectionRange(6, 6);
    noteBox().dispatchEvent(new Event("input", { bubbles: true }));
    rerender();
    const shown = [...root.querySelectorAll(".mention-suggestions button")].map((b) => b.textContent);
    expect(shown).toEqual(["ana@shop.example", "Unnamed agent"]);
    // the handle a choice writes is on hover, telling two unnamed colleagues apart
    const handles = [...root.querySelectorAll(".mention-suggestions button")].map((b) => b.getAttribute("title"));
    expect(handles).toEqual(["@u_7f3a", "@u_9c1d"]);
    // and a colleague is found by their email too; choosing them writes their id, the token a mention is stored as
    noteBox().value = "ask @ana";
    noteBox().setSelectionRange(8, 8);
    noteBox().dispatchEvent(new Event("input", { bubbles: true }));
    rerender();
    const found = root.querySelector<HTMLButtonElement>(".mention-suggestions button")!;
    expect(found.textContent).toBe("ana@shop.example");
    found.click();
    rerender();
    expect(noteBox().value).toBe("ask @u_7f3a ");
  });

  it("says a customer unsubscribed from the channel (STOP) and offers no way to send there, and another channel stays open", () => {
    show(testConversation("stopped", { channels: ["email", "sms"], opted_out: ["sms"] }));
    rerender();
    expect(root.querySelector("[role=status].window-closed")?.textContent).toContain("unsubscribed from SMS");
    expect(replyBox().disabled).toBe(true);
    expect(root.querySelector<HTMLButtonElement>(".reply-form button[type=submit], form button.btn-primary")!.disabled).toBe(true);
    const select = root.querySelector<HTMLSelectElement>("select")!;
    select.value = "email";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    rerender();
    expect(root.querySelector(".window-closed")).toBeNull();
    expect(replyBox().disabled).toBe(false);
  });

  it("takes the /shortcode out of the box when its response cannot be inserted, so it is not sent as it is", async () => {
    const canned = vi.fn(async () => ({ items: [{
      id: "wismo", scope: "shared" as const, title: "Where is my order", shortcode: "wis", attachments: [], uses: 0,
      version: 1, language: "en", bodies: { en: "{{order.name}} is on its way" },
    }] }));
    const preview = vi.fn(async () => { throw new Error("no value for order.name"); });
    const refusing = new Store({ canned, preview } as unknown as Api);
    show(conv("c10"), refusing);
    vi.runAllTimers();
    rerender();
    type("Hi! /wis");
    await vi.runAllTimersAsync();
    rerender();
    replyBox().dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await vi.runAllTimersAsync();
    rerender();
    expect(preview).toHaveBeenCalled();
    expect(replyBox().value).toBe("Hi! ");
    expect(root.textContent).toContain("no value for order.name");
  });

  it("suggests a canned response with the body it will insert: the conversation's language, not the first one", async () => {
    const canned = vi.fn(async () => ({ items: [{
      id: "returns", scope: "shared" as const, title: "Returns policy", shortcode: "returns", attachments: [], uses: 0,
      version: 1, language: "es",
      bodies: { en: "Hi there, returns are free for 30 days.", es: "Hola, las devoluciones son gratis 30 días." },
    }] }));
    const spanish = new Store({ canned } as unknown as Api);
    show({ ...conv("c9"), language: "es" } as Conversation, spanish);
    vi.runAllTimers();
    rerender();
    type("/ret");
    await vi.runAllTimersAsync();
    rerender();
    expect(canned).toHaveBeenCalledWith("ret", "c9"); // the API says, for this conversation, which body
    const option = root.querySelector('[role="option"]');
    expect(option?.textContent).toContain("Hola, las devoluciones son gratis 30 días.");
    expect(option?.textContent).not.toContain("returns are free");
  });

  it("keeps what the agent typed while a reply or note was on its way: only what was sent leaves the box", async () => {
    // Given replies and notes the API answers only when the test says
    const answers: (() => void)[] = [];
    const sent: unknown[][] = [];
    const later = (...args: unknown[]) => {
      sent.push(args);
      return new Promise((resolve) => answers.push(() => resolve(queued)));
    };
    const slow = new Store({ reply: later, note: later } as unknown as Api);
    slow.set({ live: "live" });
    show(conv("c1"), slow);
    vi.runAllTimers();
    type("It ships today.");
    writeNote("told them");
    submit(".reply-form");
    submit(".note-form");
    await vi.waitFor(() => expect(sent).toHaveLength(2));

    // When the agent writes the next reply and note before the API answers the first ones
    replyBox().value = "";
    type("Tracking follows by SMS.");
    writeNote("and asked for a photo");
    answers.forEach((answer) => answer());
    await vi.runAllTimersAsync();
    rerender();

    // Then those are still in the boxes, to send, and nothing more went
    expect(replyBox().value).toBe("Tracking follows by SMS.");
    expect(noteBox().value).toBe("and asked for a photo");
    expect(sent).toHaveLength(2);
    render(null, root);
    vi.runAllTimers();
    expect(slow.drafts.get("c1")).toMatchObject({ text: "Tracking follows by SMS.", note: "and asked for a photo" });
  });

  it("gives the focus back to the box after Send or Add note was pressed, as the disabled button dropped it", async () => {
    const answers: (() => void)[] = [];
    const later = () => new Promise((resolve) => answers.push(() => resolve(queued)));
    const slow = new Store({ reply: later, note: later } as unknown as Api);
    slow.set({ live: "live" });
    show(conv("c1"), slow);
    vi.runAllTimers();
    for (const [form, box, write] of [
      [".reply-form", replyBox, () => type("It ships today.")],
      [".note-form", noteBox, () => writeNote("told them")],
    ] as const) {
      write();
      // a keyboard user on the button presses Enter: the button is disabled while it sends, the focus falls to the page
      const button = root.querySelector<HTMLButtonElement>(`${form} button[type=submit]`)!;
      button.focus();
      submit(form);
      button.blur();
      expect(document.activeElement).toBe(document.body);
      answers.splice(0).forEach((answer) => answer());
      await vi.runAllTimersAsync();
      rerender();
      expect(document.activeElement).toBe(box());
      box().blur();
    }
  });

  it("sends a WhatsApp template once however often Send template is pressed while it goes", async () => {
    const answers: (() => void)[] = [];
    const sendTemplate = vi.fn(() => new Promise((resolve) => answers.push(() => resolve({ ...queued, kind: "template" }))));
    const slow = new Store({ sendTemplate } as unknown as Api);
    slow.set({ live: "live", templates: [{ name: "order_update", language: "en_US", body: "Hi! There is news about your order {{1}}", parameters: 1 }] });
    show(testConversation("w1", { channel: "whatsapp" }), slow);
    vi.runAllTimers();
    rerender();
    const parameter = root.querySelector<HTMLInputElement>(".template-form input")!;
    parameter.value = "#1001";
    parameter.dispatchEvent(new Event("input", { bubbles: true }));
    rerender();
    const send = () => [...root.querySelectorAll<HTMLButtonElement>(".template-form button")].find((b) => b.textContent === "Send template")!;
    send().click(); // a double click: the second comes before the API answers the first
    send().click();
    rerender();
    send().click();
    expect(sendTemplate).toHaveBeenCalledTimes(1);
    expect(send().disabled).toBe(true);
    answers.forEach((answer) => answer());
    await vi.runAllTimersAsync();
    rerender();
    expect(send().disabled).toBe(false);
  });

  it("gives the focus back to the template form after Send template was pressed, as the disabled button dropped it", async () => {
    const answers: (() => void)[] = [];
    const sendTemplate = vi.fn(() => new Promise((resolve) => answers.push(() => resolve({ ...queued, kind: "template" }))));
    const slow = new Store({ sendTemplate } as unknown as Api);
    slow.set({ live: "live", templates: [orderUpdate] });
    show(testConversation("w1", { channel: "whatsapp" }), slow);
    vi.runAllTimers();
    rerender();
    writeParameter("#1001");
    // a keyboard user on the button presses Enter: the button is disabled while it sends, the focus falls to the page
    const button = sendTemplateButton();
    button.focus();
    button.click();
    button.blur();
    rerender();
    expect(document.activeElement).toBe(document.body);
    answers.splice(0).forEach((answer) => answer());
    await vi.runAllTimersAsync();
    rerender();
    expect(document.activeElement).toBe(root.querySelector(".template-form input"));
  });

  it("sends a WhatsApp template again after no answer with the same Idempotency-Key, and the next one with another", async () => {
    // Given an API whose first answer to a template is lost (the connection dropped), then answers
    const keys: (string | null)[] = [];
    vi.stubGlobal("fetch", templateApi(keys, (n) => (n === 1 ? "lost" : 202)));
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live", templates: [orderUpdate] });
    show(testConversation("w1", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    rerender();
    writeParameter("#1001");
    await sendTemplate(keys, 1);

    // When the agent looks at another conversation, comes back, and presses Send template again
    show(testConversation("w2", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    show(testConversation("w1", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    rerender();
    writeParameter("#1001");
    await sendTemplate(keys, 2);

    // Then the retry carries the first send's key (the API answers the template it took, sending nothing again)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);

    // And the next template sent there is another one, with another key
    writeParameter("#1002");
    await sendTemplate(keys, 3);
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    vi.unstubAllGlobals();
  });

  it("sends a WhatsApp template again after no answer and a reload with the same Idempotency-Key, shown as it went", async () => {
    // Given an agent's tab whose first template send gets no answer (the connection dropped), then answers
    sessionStorage.clear();
    const keys: (string | null)[] = [];
    vi.stubGlobal("fetch", templateApi(keys, (n) => (n === 1 ? "lost" : 202)));
    const delivery = { ...orderUpdate, name: "delivery", body: "Your parcel {{1}} is on its way" };
    const tab = () => new Store(new Api("https://api.test", async () => "t"), undefined, new Drafts(sessionStorage, "shopdesk.drafts.alice"));
    const first = tab();
    first.set({ live: "live", templates: [orderUpdate, delivery] });
    show(testConversation("w1", { channel: "whatsapp" }), first);
    vi.runAllTimers();
    rerender();
    const choice = () => root.querySelector<HTMLSelectElement>(".template-form select")!;
    choice().value = "1";
    choice().dispatchEvent(new Event("change", { bubbles: true }));
    rerender();
    writeParameter("#1001");
    await sendTemplate(keys, 1);

    // When the agent reloads the page (a new store on the tab's storage, its templates read after it shows) and
    // presses Send template again
    render(null, root);
    vi.runAllTimers();
    const reloaded = tab();
    reloaded.set({ live: "live" });
    show(testConversation("w1", { channel: "whatsapp" }), reloaded);
    vi.runAllTimers();
    reloaded.set({ templates: [orderUpdate, delivery] });
    rerender();
    expect(root.querySelector(".template-body")!.textContent).toBe(delivery.body);
    expect(root.querySelector<HTMLInputElement>(".template-form input")!.value).toBe("#1001");
    await sendTemplate(keys, 2);

    // Then the send carries the first one's key (the API answers the template it took, sending nothing again)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    // and, taken, it is kept no more: the next template sent there is another one, with another key
    expect(new Drafts(sessionStorage, "shopdesk.drafts.alice").has("w1")).toBe(false);
    writeParameter("#1002");
    await sendTemplate(keys, 3);
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    vi.unstubAllGlobals();
  });

  it("starts another conversation's template form empty: a parameter typed for one customer never goes to another", async () => {
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live", templates: [orderUpdate, { ...orderUpdate, name: "delivery", body: "Your parcel {{1}}" }] });
    show(testConversation("w1", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    rerender();
    writeParameter("#1001 for Ana");
    const choice = root.querySelector<HTMLSelectElement>(".template-form select")!;
    choice.value = "1";
    choice.dispatchEvent(new Event("change", { bubbles: true }));
    rerender();

    show(testConversation("w2", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    rerender();
    expect(root.querySelector<HTMLInputElement>(".template-form input")!.value).toBe("");
    expect(root.querySelector(".template-body")!.textContent).toBe(orderUpdate.body);
  });

  it("sends a changed template as a new one, with a new key, once the API said its key went with the first", async () => {
    // Given a first send whose answer is lost, then the API taking the key with that first template
    const keys: (string | null)[] = [];
    vi.stubGlobal("fetch", templateApi(keys, (n) => (n === 1 ? "lost" : n === 2 ? 422 : 202)));
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live", templates: [orderUpdate] });
    show(testConversation("w1", { channel: "whatsapp" }), live);
    vi.runAllTimers();
    rerender();
    writeParameter("#1001");
    await sendTemplate(keys, 1);

    // When the agent changes the parameter and sends it (refused: the key went with the first), then sends again
    writeParameter("#1002");
    await sendTemplate(keys, 2);
    expect(keys[1]).toBe(keys[0]);
    await sendTemplate(keys, 3);

    // Then that send is a new template, with a new key
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    vi.unstubAllGlobals();
  });

  it("sends a reply again after no answer with the same Idempotency-Key, kept with its draft, and the next one with another", async () => {
    // Given an API whose first answer to a reply is lost (the connection dropped), then answers
    const keys: (string | null)[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (!url.endsWith("/replies")) return { ok: true, status: 200, text: async () => "{}" };
        keys.push(new Headers(init.headers).get("Idempotency-Key"));
        if (keys.length === 1) throw new TypeError("Failed to fetch");
        return { ok: true, status: 202, text: async () => JSON.stringify(queued) };
      }),
    );
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live" });
    const send = async (count: number) => {
      submit(".reply-form");
      await vi.waitFor(() => expect(keys).toHaveLength(count));
      await vi.runAllTimersAsync();
      rerender();
    };
    show(conv("c1"), live);
    vi.runAllTimers();
    type("It ships today");
    await send(1);
    expect(replyBox().value).toBe("It ships today"); // no answer: it stays, to send again

    // When the agent looks at another conversation, comes back, and presses Send again
    show(conv("c2"), live);
    vi.runAllTimers();
    show(conv("c1"), live);
    vi.runAllTimers();
    rerender();
    await send(2);

    // Then the retry carries the first send's key (the API answers the reply it took, sending nothing again)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(replyBox().value).toBe("");

    // And the next reply composed there is another one, with another key
    type("Tracking follows");
    await send(3);
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    vi.unstubAllGlobals();
  });

  it("sends a changed reply as a new one, with a new key, once the API said its key went with the first text", async () => {
    // Given a first send whose answer is lost, then the API taking the key with that first text
    const keys: (string | null)[] = [];
    const reused = { type: "/problems/validation", title: "Invalid", status: 422, detail: "reused", code: "idempotency_key_reused", params: {} };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (!url.endsWith("/replies")) return { ok: true, status: 200, text: async () => "{}" };
        keys.push(new Headers(init.headers).get("Idempotency-Key"));
        if (keys.length === 1) throw new TypeError("Failed to fetch");
        if (keys.length === 2) return { ok: false, status: 422, text: async () => JSON.stringify(reused) };
        return { ok: true, status: 202, text: async () => JSON.stringify(queued) };
      }),
    );
    const live = new Store(new Api("https://api.test", async () => "t"));
    live.set({ live: "live" });
    show(conv("c1"), live);
    const send = async (count: number) => {
      submit(".reply-form");
      await vi.waitFor(() => expect(keys).toHaveLength(count));
      await vi.runAllTimersAsync();
      rerender();
    };
    vi.runAllTimers();
    type("It ships today");
    await send(1);

    // When the agent changes the text and sends it (refused: the key went with the first text), then sends again
    type(" by UPS");
    await send(2);
    expect(keys[1]).toBe(keys[0]);
    expect(replyBox().value).toBe("It ships today by UPS");
    await send(3);

    // Then that send is a new reply, with a new key
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[2]).not.toBe(keys[0]);
    expect(replyBox().value).toBe("");
    vi.unstubAllGlobals();
  });
});
