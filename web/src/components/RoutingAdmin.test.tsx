// @vitest-environment happy-dom
// Settings → Routing is a form, not JSON: teams by name from the desk's, texts per language over the shipped ones,
// times in minutes; saved over the version read, the API's refusals at the row they name.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api, type RoutingSettings } from "../api";
import { AppContext } from "../context";
import { translator, type Locale } from "../i18n";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { AdminPages } from "./AdminPages";

const root = eachRoot();

const stored: RoutingSettings & { version: number } = {
  sticky_days: 7, offline_grace_seconds: 300, reassign_after_silence_seconds: null, default_team: "default",
  team_by_channel: { email: "returns" }, team_by_label: {}, reassign_on_breach: false, acknowledgements: true,
  acknowledgement_burst_seconds: 600, acknowledgement_templates: {}, average_handle_seconds: 600,
  default_language: "en", transcript_on_resolve: false, shop_name: "Acme", skill_keywords: {},
  priority_on_negative: "high", priority_on_urgent: "urgent", version: 4,
};

function show(putRouting: (body: RoutingSettings, version?: number) => Promise<unknown>, groups = ["admins"],
              locale: Locale = "en") {
  const api = {
    routing: vi.fn(async () => stored),
    putRouting: vi.fn(putRouting),
    teams: async () => ({ items: [{ id: "returns", name: "Returns & exchanges", description: null, version: 1 }] }),
  };
  render(
    <AppContext.Provider value={{ ...testContext(new Store(api as unknown as Api), locale), who: { id: "alice", name: "Alice", groups } }}>
      <AdminPages section="routing" />
    </AppContext.Provider>,
    root(),
  );
  return api;
}

const select = (name: string) => root().querySelector<HTMLSelectElement>(`select[aria-label="${name}"]`)!;
const choose = (element: HTMLSelectElement | HTMLInputElement | HTMLTextAreaElement, value: string) => {
  element.value = value;
  element.dispatchEvent(new Event(element instanceof HTMLSelectElement ? "change" : "input", { bubbles: true }));
};
const form = () => root().querySelector<HTMLFormElement>("form.routing-form")!;
const loaded = () => vi.waitFor(() => expect(select("Default team")).not.toBeNull());

describe("Settings → Routing", () => {
  it("is a form: teams by name (the desk's, and one only the settings name), no JSON to edit", async () => {
    show(async () => stored);
    await loaded();
    expect(root().querySelector("textarea.code")).toBeNull();
    expect(root().textContent).not.toContain("Settings (JSON)");
    const options = [...select("Default team").options].map((o) => [o.value, o.textContent]);
    expect(options).toEqual([["returns", "Returns & exchanges"], ["default", "default"]]);
    expect(select("Default team").value).toBe("default");
    expect(select("Team by channel: Email").value).toBe("returns");
    expect(select("Team by channel: WhatsApp").value).toBe(""); // the default team
    const minutes = [...root().querySelectorAll("label")].find((l) => l.textContent?.startsWith("Not again within"))!;
    expect(minutes.querySelector("input")!.value).toBe("10");
  });

  it("shows the shipped text of each language greyed, with what {eta} is, and saves a text of the shop's own", async () => {
    const api = show(async (body) => ({ ...stored, ...body, version: 5 }));
    await loaded();
    const spanish = [...root().querySelectorAll("details")].find((d) => d.querySelector("summary")!.textContent!.startsWith("es"))!;
    const open = spanish.querySelector("textarea")!;
    expect(open.placeholder).toBe("Hola, {name}, gracias por escribir a {shop}. Te responderemos {eta}.");
    expect(document.getElementById("routing-eta-hint")!.textContent).toContain("Each text must contain {eta}");
    expect(open.getAttribute("aria-describedby")).toContain("routing-eta-hint");
    choose(open, "Hola {name}: te escribimos {eta}.");
    choose(select("Team by channel: WhatsApp"), "returns");
    await new Promise((resolve) => setTimeout(resolve, 10));
    form().requestSubmit();
    await vi.waitFor(() => expect(api.putRouting).toHaveBeenCalled());
    const [body, version] = api.putRouting.mock.calls[0]!;
    expect(version).toBe(4);
    expect(body.acknowledgement_templates).toEqual({ es: { open_now: "Hola {name}: te escribimos {eta}." } });
    expect(body.team_by_channel).toEqual({ email: "returns", whatsapp: "returns" });
    expect(body.acknowledgement_burst_seconds).toBe(600);
    await vi.waitFor(() => expect(root().textContent).toContain("Saved"));
  });

  it("shows a team the desk does not have at the channel's row, in the admin's language around it", async () => {
    const msg = "'ghost' is not a team of this desk (create it first: PUT /admin/teams/<id>, or Settings → Teams): one of default, returns";
    const refusal = new ApiError(422, msg, { errors: [{ loc: ["body", "team_by_channel", "whatsapp"], msg, type: "value_error" }] });
    show(async () => {
      throw refusal;
    }, ["admins"], "es");
    await vi.waitFor(() => expect(select("Equipo por defecto")).not.toBeNull());
    form().requestSubmit();
    const whatsapp = () => select("Equipo por canal: WhatsApp");
    await vi.waitFor(() => expect(whatsapp().getAttribute("aria-invalid")).toBe("true"));
    const row = whatsapp().closest(".routing-row")!;
    expect(row.querySelector('[role="alert"]')!.textContent).toBe(
      "«ghost» no es un equipo de este escritorio: créalo primero (Ajustes → Equipos) o elige otro.",
    );
    expect(document.getElementById(whatsapp().getAttribute("aria-describedby")!)).toBe(row.querySelector('[role="alert"]'));
    expect(select("Equipo por canal: SMS").getAttribute("aria-invalid")).toBeNull();
    expect(root().textContent).toContain(translator("es")("refused.fields"));
  });

  it("shows a template the API refused at that text, opened", async () => {
    const detail = "acknowledgement_templates: template overrides: pt/queue_busy: the template must say when we will answer: add {eta}";
    show(async () => {
      throw new ApiError(400, detail, { detail });
    });
    await loaded();
    form().requestSubmit();
    await vi.waitFor(() => expect(root().querySelector('textarea[aria-invalid="true"]')).not.toBeNull());
    const text = root().querySelector<HTMLTextAreaElement>('textarea[aria-invalid="true"]')!;
    const portuguese = text.closest("details")!;
    expect(portuguese.open).toBe(true);
    expect(portuguese.querySelector("summary")!.textContent).toMatch(/^pt/);
    expect(text.closest("div")!.querySelector('[role="alert"]')!.textContent).toBe("The text must say when we will answer: add {eta}.");
    expect([...text.closest("details")!.querySelectorAll("textarea")].indexOf(text)).toBe(2); // queue_busy
  });

  it("is read, not changed, by a supervisor", async () => {
    show(async () => stored, ["supervisors"]);
    await loaded();
    expect(form().querySelector("fieldset")!.disabled).toBe(true);
    expect([...root().querySelectorAll("button")].map((b) => b.textContent)).not.toContain("Save");
  });
});
