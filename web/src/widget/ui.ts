// The widget's DOM: a launcher and a chat panel in a shadow root, so the shop's styles and ours never meet.
// Every text the API or the visitor wrote goes in as text (never as markup); web addresses become links.
import type { Entry, ServerItem } from "./conversation";
import { entries, linkRuns, openChoices, webAddress } from "./conversation";
import type { EmailState, WidgetState } from "./controller";
import type { Say } from "./words";

export interface ViewActions {
  open(): void;
  askEmail(): void;
  cancelEmail(): void;
  requestCode(address: string): void;
  confirmCode(code: string): void;
  close(): void;
  write(text: string, choice?: string): void;
  attach(file: File): void;
  retry(clientId: string): void;
  remove(clientId: string): void;
}

export interface ViewOptions {
  title: string;
  greeting: string | null;
  /** the shop's colour for the launcher, the header and the visitor's messages */
  color: string;
  language: string;
}

const STYLE = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  background: var(--accent); color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25);
  display: grid; place-items: center; z-index: 2147483000; }
.launcher:focus-visible, button:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
textarea:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #b00020; color: #fff; font-size: 12px; font-weight: 600; line-height: 22px; text-align: center; }
.panel { position: fixed; right: 20px; bottom: 88px; width: 360px; height: 540px; max-height: calc(100vh - 108px);
  display: flex; flex-direction: column; background: #fff; color: #1b1b1b; border-radius: 12px; overflow: hidden;
  box-shadow: 0 8px 30px rgba(0,0,0,.25); z-index: 2147483000; font-size: 14px; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px;
  background: var(--accent); color: #fff; }
h2 { margin: 0; font-size: 16px; font-weight: 600; }
.close { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 4px 8px; }
.status { margin: 0; padding: 8px 14px; background: #fff4d6; color: #5c4400; font-size: 13px; }
.status[hidden] { display: none; }
.log { flex: 1; overflow-y: auto; }
ol { list-style: none; margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
li { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
li.agent, li.greeting { align-self: flex-start; background: #eef0f3; }
li.visitor { align-self: flex-end; background: var(--accent); color: #fff; }
li.visitor a { color: #fff; }
li a { color: #0b4fb3; }
.who { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.meta { display: block; margin-top: 3px; font-size: 11px; opacity: .85; }
.failed { background: #fde7ea !important; color: #6b0010 !important; }
.failed button { margin: 4px 6px 0 0; }
.files img { display: block; max-width: 200px; max-height: 160px; border-radius: 6px; margin-top: 4px; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; }
.choices button, .failed button { border: 1px solid var(--accent); background: #fff; color: #0b4fb3; border-radius: 14px;
  padding: 4px 10px; cursor: pointer; font-size: 13px; }
form { display: flex; align-items: flex-end; gap: 6px; padding: 10px; border-top: 1px solid #dde1e6; }
textarea { flex: 1; resize: none; min-height: 38px; max-height: 120px; padding: 8px; border: 1px solid #8a9099;
  border-radius: 8px; font-size: 14px; color: #1b1b1b; }
.send { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 9px 14px; cursor: pointer; font-weight: 600; }
.attach { background: transparent; border: 1px solid #8a9099; border-radius: 8px; width: 38px; height: 38px; cursor: pointer;
  display: grid; place-items: center; color: #1b1b1b; }
.upload { padding: 0 12px 6px; font-size: 12px; color: #44474c; }
.email { padding: 8px 14px; border-bottom: 1px solid #dde1e6; font-size: 13px; }
.email[hidden] { display: none; }
.email p { margin: 0 0 6px; }
.email .offer { background: none; border: 0; padding: 0; color: #0b4fb3; text-decoration: underline; cursor: pointer; font-size: 13px; }
.email label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 6px; }
.email input { padding: 6px 8px; border: 1px solid #8a9099; border-radius: 6px; font-size: 14px; }
.email .step button { margin-right: 6px; border: 1px solid var(--accent); background: #fff; color: #0b4fb3;
  border-radius: 6px; padding: 4px 10px; cursor: pointer; }
.email .step button[type=submit] { background: var(--accent); color: #fff; }
.email .error { color: #8a0016; margin-top: 6px; }
.email ul { margin: 6px 0 0; padding-left: 16px; max-height: 90px; overflow-y: auto; }
.upload[hidden] { display: none; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; max-height: none; border-radius: 0; }
  .launcher[aria-expanded="true"] { display: none; }   /* the panel covers the screen and has its own close */
}
`;

// Icons drawn with the DOM (no markup parsed): a page whose Content-Security-Policy requires Trusted Types allows it.
const CHAT_ICON = { path: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z", size: 26, fill: "currentColor" };
const CLIP_ICON = { path: "M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l9-9a3.5 3.5 0 0 1 5 5l-9 9a2 2 0 0 1-3-3l8-8", size: 18, fill: "none" };

function icon({ path, size, fill }: { path: string; size: number; fill: string }): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  for (const [name, value] of Object.entries({ width: size, height: size, viewBox: "0 0 24 24", "aria-hidden": "true",
                                               focusable: "false" })) svg.setAttribute(name, String(value));
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("d", path);
  line.setAttribute("fill", fill);
  if (fill === "none") {
    for (const [name, value] of Object.entries({ stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round" }))
      line.setAttribute(name, value);
  }
  svg.append(line);
  return svg;
}

/** The widget's styles, as a constructed style sheet where the browser has them (a page's Content-Security-Policy
 *  governs style elements, not these), else as a style element. */
function adoptStyles(root: ShadowRoot): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(element("style", {}, STYLE));
  }
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {},
                                                       ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) made.setAttribute(name, value);
  made.append(...children);
  return made;
}

/** A message's words in their own direction (Hebrew or Arabic right to left, whatever the page's). */
function said(text: string): HTMLSpanElement {
  return element("span", { class: "text", dir: "auto" }, ...words(text));
}

/** A message's words, its web addresses as links that open apart from the shop's page. */
function words(text: string): Node[] {
  return linkRuns(text).map(([run, link]) =>
    link ? element("a", { href: run, target: "_blank", rel: "noopener noreferrer nofollow" }, run) : document.createTextNode(run));
}

export class WidgetView {
  readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLElement;
  private readonly status: HTMLParagraphElement;
  private readonly log: HTMLDivElement;
  private readonly list: HTMLOListElement;
  private readonly choices: HTMLDivElement;
  private readonly upload: HTMLParagraphElement;
  private readonly email: HTMLDivElement;
  private emailShown = "";
  private readonly textarea: HTMLTextAreaElement;
  private readonly file: HTMLInputElement;
  private shown = "";
  private wasOpen = false;

  constructor(private readonly say: Say, private readonly options: ViewOptions, private readonly actions: ViewActions) {
    this.host = element("div", { "data-shopdesk-widget": "" });
    this.root = this.host.attachShadow({ mode: "open" });
    adoptStyles(this.root);
    this.host.style.setProperty("--accent", options.color);

    this.badge = element("span", { class: "badge", hidden: "" });
    this.launcher = element("button", { type: "button", class: "launcher", "aria-expanded": "false",
                                        "aria-controls": "shopdesk-panel", "aria-label": say("launcher") });
    this.launcher.append(icon(CHAT_ICON), this.badge);
    this.launcher.addEventListener("click", () => (this.wasOpen ? actions.close() : actions.open()));

    const close = element("button", { type: "button", class: "close", "aria-label": say("close") }, "×");
    close.addEventListener("click", () => actions.close());
    this.status = element("p", { class: "status", role: "status", hidden: "" });
    this.list = element("ol");
    this.log = element("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": options.title,
                                tabindex: "0" }, this.list);
    this.choices = element("div", { class: "choices" });
    this.upload = element("p", { class: "upload", role: "status", hidden: "" });
    this.email = element("div", { class: "email" });

    this.textarea = element("textarea", { rows: "1", dir: "auto", "aria-label": say("message"), placeholder: say("message"),
                                          maxlength: "5000" });
    this.file = element("input", { type: "file", hidden: "", tabindex: "-1", "aria-hidden": "true" });
    const attach = element("button", { type: "button", class: "attach", "aria-label": say("attach"), title: say("attach") });
    attach.append(icon(CLIP_ICON));
    attach.addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => {
      const chosen = this.file.files?.[0];
      if (chosen) actions.attach(chosen);
      this.file.value = "";
    });
    const form = element("form", {}, attach, this.file, this.textarea,
                         element("button", { type: "submit", class: "send" }, say("send")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });

    this.panel = element("section", { id: "shopdesk-panel", class: "panel", role: "dialog", "aria-modal": "false",
                                      "aria-labelledby": "shopdesk-title", lang: options.language, hidden: "" },
                         element("header", {}, element("h2", { id: "shopdesk-title" }, options.title), close),
                         this.status, this.email, this.log, this.choices, this.upload, form);
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") actions.close();
    });
    this.root.append(this.panel, this.launcher);
  }

  render(state: WidgetState): void {
    this.launcher.setAttribute("aria-expanded", String(state.open));
    this.badge.hidden = state.open || state.unread === 0;
    this.badge.textContent = String(state.unread);
    this.launcher.setAttribute("aria-label", state.unread && !state.open
      ? `${this.say("launcher")} (${state.unread === 1 ? this.say("unreadOne") : this.say("unread", { count: state.unread })})`
      : this.say("launcher"));
    this.panel.hidden = !state.open;
    const notice = state.status === "offline" ? this.say("offline")
      : state.status === "unavailable" ? this.say("unavailable") : state.uploadError;
    this.status.hidden = !notice;
    this.status.textContent = notice ?? "";
    this.upload.hidden = state.uploading === null;
    this.upload.textContent = state.uploading === null ? "" : this.say("uploading", { name: state.uploading });
    this.renderLog(state);
    this.renderEmail(state.email);
    if (state.open && !this.wasOpen) this.textarea.focus();
    if (!state.open && this.wasOpen && this.root.activeElement) this.launcher.focus();
    this.wasOpen = state.open;
  }

  /** The offer to prove an email address, its two steps, and once proven the visitor's history. */
  private renderEmail(email: EmailState): void {
    const shown = JSON.stringify([email.step, email.address, email.error, email.busy, email.past.map((p) => p.id)]);
    if (shown === this.emailShown) return;
    this.emailShown = shown;
    const error = email.error ? [element("p", { class: "error", role: "alert" }, email.error)] : [];
    const button = (label: string, action: () => void, kind: "button" | "submit" = "button") => {
      const made = element("button", { type: kind }, label);
      if (email.busy) made.disabled = true;
      if (kind === "button") made.addEventListener("click", action);
      return made;
    };
    const form = (label: string, input: HTMLInputElement, submit: string, onSubmit: (value: string) => void,
                  other: HTMLButtonElement, ...before: Node[]) => {
      const made = element("form", { class: "step" }, ...before, element("label", {}, label, input),
                           element("span", {}, button(submit, () => undefined, "submit"), other), ...error);
      made.addEventListener("submit", (event) => {
        event.preventDefault();
        if (input.value.trim()) onSubmit(input.value);
      });
      return made;
    };
    let content: Node[] = [];
    if (email.step === "offer") {
      const offer = button(this.say("emailOffer"), () => this.actions.askEmail());
      offer.classList.add("offer");
      content = [offer];
    } else if (email.step === "address") {
      const input = element("input", { type: "email", autocomplete: "email", required: "", maxlength: "254" });
      content = [form(this.say("emailLabel"), input, this.say("sendCode"), (v) => this.actions.requestCode(v),
                      button(this.say("cancel"), () => this.actions.cancelEmail()))];
      queueMicrotask(() => input.focus());
    } else if (email.step === "code") {
      const input = element("input", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}",
                                       maxlength: "6", required: "" });
      content = [form(this.say("codeLabel"), input, this.say("confirm"), (v) => this.actions.confirmCode(v),
                      button(this.say("otherAddress"), () => this.actions.askEmail()),
                      element("p", {}, this.say("codeSent", { email: email.address ?? "" })))];
      queueMicrotask(() => input.focus());
    } else if (email.step === "linked") {
      content = [element("p", {}, this.say("linked", { email: email.address ?? "" }))];
      if (email.past.length > 1) {
        content.push(element("details", {}, element("summary", {}, this.say("past", { count: email.past.length })),
                             element("ul", {}, ...email.past.map((past) => element("li", {},
                               element("time", { datetime: past.updated_at },
                                       new Date(past.updated_at).toLocaleDateString(this.options.language)),
                               ` · ${past.channel} · ${past.last_message_preview ?? ""}`)))));
      }
    }
    this.email.replaceChildren(...content);
    this.email.hidden = content.length === 0;
  }

  private submit(): void {
    const text = this.textarea.value;
    if (!text.trim()) return;
    this.actions.write(text);
    this.textarea.value = "";
  }

  private renderLog(state: WidgetState): void {
    const all = entries(state.items, state.pending);
    const choices = openChoices(state.items, state.pending);
    const shown = JSON.stringify([all.map((e) => e.kind === "message" ? e.item.id
      : [e.pending.clientId, e.pending.state, e.pending.reason ?? ""]), choices.map((c) => c.id)]);
    if (shown === this.shown) {
      this.refreshLinks(state.items);           // presigned links are new on every listing
      return;
    }
    this.shown = shown;
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const greeting = this.options.greeting;
    this.list.replaceChildren(...(greeting ? [element("li", { class: "greeting" }, greeting)] : []),
                             ...all.map((entry) => this.entry(entry)));
    this.choices.replaceChildren(...choices.map((choice) => {
      const button = element("button", { type: "button" }, choice.title);
      button.addEventListener("click", () => this.actions.write(choice.title, choice.id));
      return button;
    }));
    if (atBottom || this.log.scrollTop === 0) this.log.scrollTop = this.log.scrollHeight;
  }

  private entry(entry: Entry): HTMLLIElement {
    if (entry.kind === "message") return this.message(entry.item);
    const { pending } = entry;
    const failed = pending.state === "failed";
    const item = element("li", { class: `visitor${failed ? " failed" : ""}`, "data-pending": pending.clientId },
                         element("span", { class: "who" }, `${this.say("you")}: `),
                         said(pending.text ?? pending.attachments.map((a) => a.filename).join(", ")));
    const note = failed ? this.say("notSent", { reason: pending.reason ?? "" }) : this.say("sending");
    item.append(element("span", { class: "meta" }, note));
    if (failed) {
      const retry = element("button", { type: "button" }, this.say("retry"));
      retry.addEventListener("click", () => this.actions.retry(pending.clientId));
      const remove = element("button", { type: "button" }, this.say("remove"));
      remove.addEventListener("click", () => this.actions.remove(pending.clientId));
      item.append(element("span", {}, retry, remove));
    }
    return item;
  }

  private message(message: ServerItem): HTMLLIElement {
    const mine = message.from === "visitor";
    const item = element("li", { class: mine ? "visitor" : "agent", "data-id": message.id },
                         element("span", { class: "who" }, `${this.say(mine ? "you" : "shop")}: `),
                         said(message.text ?? ""));
    if (message.attachments.length) {
      item.append(element("span", { class: "files" }, ...message.attachments.map((file, index) => {
        const name = file.filename ?? this.say("attachment", { name: "" }).trim();
        const url = webAddress(file.url);
        const link = element("a", { href: url ?? "#", target: "_blank", rel: "noopener noreferrer",
                                    "data-file": `${message.id}:${index}` },
                             file.content_type?.startsWith("image/") && url
                               ? element("img", { src: url, alt: this.say("attachment", { name }) })
                               : this.say("attachment", { name }));
        return link;
      })));
    }
    const at = new Date(message.created_at);
    item.append(element("time", { class: "meta", datetime: message.created_at },
                        at.toLocaleTimeString(this.options.language, { hour: "2-digit", minute: "2-digit" })));
    return item;
  }

  /** Presigned links expire in minutes: each listing brings fresh ones for the links (not the pictures). */
  private refreshLinks(items: readonly ServerItem[]): void {
    for (const message of items) {
      message.attachments.forEach((file, index) => {
        const link = this.root.querySelector<HTMLAnchorElement>(`[data-file="${CSS.escape(`${message.id}:${index}`)}"]`);
        const url = webAddress(file.url);
        if (link && url) link.href = url;    // a shown picture stays as it loaded
      });
    }
  }
}
