// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ServerItem } from "./conversation";
import type { ViewActions, ViewOptions } from "./ui";
import { WidgetView } from "./ui";
import type { WidgetState } from "./controller";
import { sayer } from "./words";

const MARKUP = '<img src=x onerror="window.__ran = 1">';

const actions: ViewActions = {
  open: vi.fn(), askEmail: vi.fn(), cancelEmail: vi.fn(), requestCode: vi.fn(), confirmCode: vi.fn(),
  close: vi.fn(), write: vi.fn(), attach: vi.fn(), retry: vi.fn(), remove: vi.fn(),
};

function view(options: Partial<ViewOptions> = {}): WidgetView {
  const shown = new WidgetView(sayer("en"), { title: "Chat", greeting: null, color: "#0b4fb3", language: "en", ...options },
                               actions);
  document.body.append(shown.host);
  return shown;
}

function state(items: ServerItem[], pending: WidgetState["pending"] = []): WidgetState {
  return { open: true, items, pending, status: "ok", unread: 0, uploading: null, uploadError: null,
           email: { step: "none", address: null, error: null, busy: false, past: [] } };
}

function message(text: string | null, change: Partial<ServerItem> = {}): ServerItem {
  return { id: "m1", from: "agent", text, created_at: "2026-12-06T10:00:00Z", attachments: [], choices: [], ...change };
}

function root(shown: WidgetView): ShadowRoot {
  return shown.host.shadowRoot!;
}

afterEach(() => {
  document.body.replaceChildren();
  delete (window as unknown as Record<string, unknown>).__ran;
});

describe("WidgetView", () => {
  it("shows a message's markup as text, never as elements", () => {
    const shown = view({ title: MARKUP, greeting: MARKUP });
    shown.render(state([message(MARKUP), message(MARKUP, { id: "m2", from: "visitor" })],
                       [{ clientId: "p1", text: MARKUP, attachments: [], state: "failed", reason: MARKUP, attempts: 1 }]));
    const panel = root(shown);
    expect(panel.querySelectorAll("img")).toHaveLength(0);
    expect([...panel.querySelectorAll("li .text")].map((t) => t.textContent)).toEqual([MARKUP, MARKUP, MARKUP]);
    expect(panel.querySelector("li.greeting")!.textContent).toBe(MARKUP);
    expect(panel.querySelector("h2")!.textContent).toBe(MARKUP);
    expect(panel.querySelector("li.failed .meta")!.textContent).toContain(MARKUP);
    expect((window as unknown as Record<string, unknown>).__ran).toBeUndefined();
  });

  it("names a file and a choice as text", () => {
    const shown = view();
    shown.render(state([message("see", {
      attachments: [{ url: null, filename: MARKUP, content_type: "application/pdf" }],
      choices: [{ id: "c1", title: MARKUP }],
    })]));
    const panel = root(shown);
    expect(panel.querySelectorAll("img")).toHaveLength(0);
    expect(panel.querySelector("[data-file]")!.textContent).toContain(MARKUP);
    expect([...panel.querySelectorAll(".choices button")].map((b) => b.textContent)).toEqual([MARKUP]);
  });

  it("opens a web address in a message and a file apart from the shop's page, with rel noopener noreferrer", () => {
    const shown = view();
    shown.render(state([message("track it at https://shop.example/track?id=1 please", {
      attachments: [{ url: "https://files.example/label.pdf?X-Amz-Signature=x", filename: "label.pdf",
                      content_type: "application/pdf" }],
    })]));
    const links = [...root(shown).querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://shop.example/track?id=1", "https://files.example/label.pdf?X-Amz-Signature=x"]);
    for (const link of links) {
      expect(link.getAttribute("target")).toBe("_blank");
      expect(link.getAttribute("rel")!.split(" ")).toEqual(expect.arrayContaining(["noopener", "noreferrer"]));
    }
  });
});
