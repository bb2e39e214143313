// The web-chat widget on a shop's page:
//
//   <script src="https://<inbox>/widget.js" data-api="https://<widget api>" data-token-url="/shopdesk/visitor-token"
//           data-title="Acme" async></script>
//
// data-api: the widget API's base URL (the stack's WidgetApiUrl output). data-token-url: an address of the shop's
// own site that answers {"visitor_token": "..."} for the page's visitor, signed on the shop's server with the
// widget secret (README, "The web-chat widget"). Optional: data-title, data-greeting, data-color, data-lang.
// window.shopdeskWidget.open() / .close() let the page open it from its own "Contact us" button.
import { WidgetClient } from "./client";
import { WidgetController } from "./controller";
import { WidgetView } from "./ui";
import { sayer, widgetLanguage } from "./words";

declare global {
  interface Window {
    shopdeskWidget?: { open(): void; close(): void };
  }
}

function tabStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage refused (some privacy settings): the widget works for this page only
  }
}

/** A client_message_id: random, so a retry of the same message is the same id and no two messages share one. */
function newId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();   // secure pages (https, localhost)
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function start(script: HTMLScriptElement): void {
  const data = script.dataset;
  const api = (data.api ?? "").replace(/\/+$/, "");
  if (!api || !data.tokenUrl) {
    console.error("shopdesk widget: data-api and data-token-url are required on its script tag");
    return;
  }
  const language = widgetLanguage(data.lang ?? null, navigator.languages ?? [navigator.language]);
  const say = sayer(language);
  const storage = tabStorage();
  const client = new WidgetClient({ api, tokenUrl: data.tokenUrl, storage });
  let controller: WidgetController | null = null;
  const view = new WidgetView(say, {
    title: data.title ?? say("title"),
    greeting: data.greeting ?? say("greeting"),
    color: data.color && /^#[0-9a-fA-F]{3,8}$/.test(data.color) ? data.color : "#1a5fd0",
    language,
  }, {
    open: () => controller?.open(),
    close: () => controller?.close(),
    askEmail: () => controller?.askEmail(),
    cancelEmail: () => controller?.cancelEmail(),
    requestCode: (address) => void controller?.requestCode(address),
    confirmCode: (code) => void controller?.confirmCode(code),
    write: (text, choice) => controller?.write(text, choice),
    attach: (file) => void controller?.attach(file),
    retry: (id) => controller?.retry(id),
    remove: (id) => controller?.remove(id),
  });
  controller = new WidgetController({
    client, storage, key: `shopdesk-widget:${api}`, render: (state) => view.render(state),
    clock: { set: (callback, seconds) => window.setTimeout(callback, seconds * 1000), clear: (h) => window.clearTimeout(h),
             now: () => Date.now() / 1000 },
    newId: newId,
    hidden: () => document.visibilityState === "hidden",
    connect: (url, events) => {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => events.open());
      socket.addEventListener("message", () => events.changed());
      socket.addEventListener("close", () => events.closed());
      return socket;
    },
  });
  document.body.append(view.host);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") controller?.visible();
    else controller?.hide();
  });
  window.shopdeskWidget = { open: () => controller?.open(), close: () => controller?.close() };
  void controller.boot();
}

const script = document.currentScript as HTMLScriptElement | null;
if (script) {
  if (document.body) start(script);
  else document.addEventListener("DOMContentLoaded", () => start(script), { once: true });
}
