// @vitest-environment happy-dom
// Settings pages with nothing in them yet: a word on what to do, once the list has arrived (never while loading).
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api } from "../api";
import { AppContext } from "../context";
import { translator, type Locale } from "../i18n";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { AdminPages } from "./AdminPages";

const root = eachRoot();
/** The policy picked from the list is in the form (its name in a field), not a fixed wait that a loaded machine outruns. */
const policyInForm = (name: string) =>
  vi.waitFor(() =>
    expect([...root().querySelectorAll<HTMLInputElement>("form.card.form input")].some((i) => i.value === name)).toBe(true),
  );

/** Routing as never saved: every conversation to the default team. */
const routing = async () => ({ default_team: "default", team_by_channel: {}, team_by_label: {}, version: 0 });

function show(section: string, items: unknown[], release: Promise<void> = Promise.resolve(), routed = routing) {
  const list = async () => {
    await release;
    return { items };
  };
  const store = new Store({ teams: list, calendars: list, policies: list, routing: routed } as unknown as Api);
  const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } };
  render(
    <AppContext.Provider value={context}>
      <AdminPages section={section} />
    </AppContext.Provider>,
    root(),
  );
}

const text = () => root().textContent ?? "";

describe("empty settings pages", () => {
  it.each([
    ["teams", "No team defined here yet, and routing works all the same: every conversation no rule sends elsewhere goes to the team “default”"],
    ["calendars", "No calendar yet: SLA targets count around the clock"],
    ["policies", "No SLA policy yet: every conversation gets the default first-response targets"],
  ])("%s says what to do when there is none yet", async (section, words) => {
    show(section, []);
    await vi.waitFor(() => expect(text()).toContain(words));
  });

  it("says nothing of the kind while the list is loading", async () => {
    let arrive!: () => void;
    show("teams", [], new Promise<void>((resolve) => (arrive = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(text()).not.toContain("No team defined");
    arrive();
    await vi.waitFor(() => expect(text()).toContain("No team defined"));
  });

  it("says nothing of the kind when there are some", async () => {
    show("teams", [{ id: "returns", name: "Returns & exchanges", description: null, version: 1 }]);
    await vi.waitFor(() => expect(text()).toContain("Returns & exchanges (returns)"));
    expect(text()).not.toContain("No team defined");
  });

  it("teams: names the team routing really uses, and those it sends to that are not defined here", async () => {
    // Given no team defined, routing's default team "support" (saved when it was one) and WhatsApp sent to "wa"
    show("teams", [], undefined, async () => ({ default_team: "support", team_by_channel: { whatsapp: "wa" }, team_by_label: {}, version: 3 }));
    // Then the page says where conversations go, not that there is no team
    await vi.waitFor(() => expect(text()).toContain("goes to the team “support”, Routing's default team"));
    expect(text()).toContain("Routing also sends conversations to wa, not defined here");
  });

  it("teams: with some defined, names the routed ones that are not", async () => {
    show("teams", [{ id: "wa", name: "WhatsApp", description: null, version: 1 }]);
    await vi.waitFor(() => expect(text()).toContain("Routing also sends conversations to default, not defined here"));
  });
});

describe("ids", () => {
  it.each(["teams", "calendars", "policies"])("%s: the browser refuses an id with a space before it is saved", async (section) => {
    show(section, []);
    await vi.waitFor(() => expect(root().querySelector("form input")).not.toBeNull());
    const input = root().querySelector<HTMLInputElement>("form input")!;
    const accepts = (id: string) => new RegExp(`^(?:${input.pattern})$`, "v").test(id);
    expect(input.pattern).not.toBe("");
    expect(accepts("vip fast")).toBe(false);
    expect(accepts("café")).toBe(false);
    expect(accepts("vip_fast-2")).toBe(true);
    expect(input.title).toBe("Letters, digits, - and _ only (no spaces)");
  });
});

describe("deleting an SLA policy", () => {
  const standard = { id: "standard", name: "Standard", targets: {}, calendar_id: null, warning_fraction: 0.8,
                     applies_to: {}, rank: 0, version: 3 };

  function showPolicies(groups: string[]) {
    let items: unknown[] = [standard];
    const api = {
      calendars: async () => ({ items: [] }),
      policies: async () => ({ items }),
      deletePolicy: vi.fn(async (_id: string, _version?: number) => {
        items = [];
        return null;
      }),
    };
    const store = new Store(api as unknown as Api);
    const context = { ...testContext(store), who: { id: "alice", name: "Alice", groups } };
    render(
      <AppContext.Provider value={context}>
        <AdminPages section="policies" />
      </AppContext.Provider>,
      root(),
    );
    return api;
  }
  const button = (words: string) =>
    [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent?.startsWith(words));

  it("asks once more, naming it, then deletes the version shown and says so", async () => {
    const api = showPolicies(["admins"]);
    await vi.waitFor(() => expect(button("Standard (standard)")).toBeDefined());
    button("Standard (standard)")!.click();
    await vi.waitFor(() => expect(button("Delete policy")).toBeDefined());
    button("Delete policy")!.click();
    await vi.waitFor(() => expect(button("Delete Standard for good")).toBeDefined());
    expect(api.deletePolicy).not.toHaveBeenCalled();
    button("Delete Standard for good")!.click();
    await vi.waitFor(() => expect(api.deletePolicy).toHaveBeenCalledWith("standard", 3));
    await vi.waitFor(() => expect(text()).toContain("Deleted “Standard”"));
    expect(button("Standard (standard)")).toBeUndefined();
    expect(button("Delete policy")).toBeUndefined();
  });

  it("is not offered to a supervisor, who may read policies but not change them", async () => {
    showPolicies(["supervisors"]);
    await vi.waitFor(() => expect(button("Standard (standard)")).toBeDefined());
    button("Standard (standard)")!.click();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(button("Delete policy")).toBeUndefined();
  });
});

describe("deleting a team or a calendar", () => {
  const returns = { id: "returns", name: "Returns", description: null, version: 2 };
  const office = { id: "office", time_zone: "Europe/Madrid", weekly: {}, holidays: [], version: 4 };

  function showSection(section: "teams" | "calendars", locale: Locale, refusal?: unknown) {
    let teams: unknown[] = [returns];
    let calendars: unknown[] = [office];
    const api = {
      teams: async () => ({ items: teams }),
      agentTeams: async () => ({ items: teams }), // the inbox's team names follow a change
      calendars: async () => ({ items: calendars }),
      routing,
      deleteTeam: vi.fn(async (_id: string, _version?: number) => {
        if (refusal) throw new ApiError(409, "the API's English words", refusal);
        teams = [];
        return null;
      }),
      deleteCalendar: vi.fn(async (_id: string, _version?: number) => {
        if (refusal) throw new ApiError(409, "the API's English words", refusal);
        calendars = [];
        return null;
      }),
    };
    const store = new Store(api as unknown as Api);
    const context = { ...testContext(store, locale), who: { id: "alice", name: "Alice", groups: ["admins"] } };
    render(
      <AppContext.Provider value={context}>
        <AdminPages section={section} />
      </AppContext.Provider>,
      root(),
    );
    return api;
  }
  const button = (words: string) =>
    [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent?.startsWith(words));

  it("asks once more, naming the team, then deletes the version shown and says so", async () => {
    const api = showSection("teams", "en");
    await vi.waitFor(() => expect(button("Returns (returns)")).toBeDefined());
    expect(button("Delete team")).toBeUndefined(); // nothing picked: nothing to delete
    button("Returns (returns)")!.click();
    await vi.waitFor(() => expect(button("Delete team")).toBeDefined());
    button("Delete team")!.click();
    await vi.waitFor(() => expect(button("Delete Returns for good")).toBeDefined());
    expect(api.deleteTeam).not.toHaveBeenCalled();
    button("Delete Returns for good")!.click();
    await vi.waitFor(() => expect(api.deleteTeam).toHaveBeenCalledWith("returns", 2));
    await vi.waitFor(() => expect(text()).toContain("Deleted “Returns”"));
    expect(button("Returns (returns)")).toBeUndefined();
    expect(button("Delete team")).toBeUndefined();
  });

  it.each([
    ["es", { code: "team_has_members", params: { team: "returns", agents: "Ana, Bruno", count: "2" } },
     "Hay agentes en returns: Ana, Bruno. Pásalos antes a otro equipo en Agentes."],
    ["pt", { code: "team_routed_by_channel", params: { team: "returns", channels: "whatsapp, sms" } },
     "O roteamento envia as conversas de WhatsApp, SMS para returns: altere isso antes em Roteamento."],
    ["en", { code: "team_is_default", params: { team: "returns" } },
     "returns is the default team: the routing settings send it every conversation no rule sends elsewhere."],
  ] as const)("says in %s why a team is not deleted, and keeps it", async (locale, refusal, words) => {
    const api = showSection("teams", locale, refusal);
    const t = translator(locale);
    await vi.waitFor(() => expect(button("Returns (returns)")).toBeDefined());
    button("Returns (returns)")!.click();
    await vi.waitFor(() => expect(button(t("teams.delete"))).toBeDefined());
    button(t("teams.delete"))!.click();
    await vi.waitFor(() => expect(button(t("teams.deleteConfirm", { name: "Returns" }))).toBeDefined());
    button(t("teams.deleteConfirm", { name: "Returns" }))!.click();
    await vi.waitFor(() => expect(api.deleteTeam).toHaveBeenCalledWith("returns", 2));
    await vi.waitFor(() => expect(text()).toContain(words));
    expect(text()).not.toContain("the API's English words");
    expect(button("Returns (returns)")).toBeDefined();
  });

  it("deletes a calendar after asking, and says in the admin's language why one is not", async () => {
    let api = showSection("calendars", "en");
    await vi.waitFor(() => expect(button("office (Europe/Madrid)")).toBeDefined());
    button("office (Europe/Madrid)")!.click();
    await vi.waitFor(() => expect(button("Delete calendar")).toBeDefined());
    button("Delete calendar")!.click();
    await vi.waitFor(() => expect(button("Delete office for good")).toBeDefined());
    button("Delete office for good")!.click();
    await vi.waitFor(() => expect(api.deleteCalendar).toHaveBeenCalledWith("office", 4));
    await vi.waitFor(() => expect(text()).toContain("Deleted “office”"));
    expect(button("office (Europe/Madrid)")).toBeUndefined();
    render(null, root());
    api = showSection("calendars", "es", { code: "calendar_in_policies", params: { calendar: "office", policies: "'Estándar'" } });
    await vi.waitFor(() => expect(button("office (Europe/Madrid)")).toBeDefined());
    button("office (Europe/Madrid)")!.click();
    await vi.waitFor(() => expect(button("Eliminar calendario")).toBeDefined());
    button("Eliminar calendario")!.click();
    await vi.waitFor(() => expect(button("Eliminar office definitivamente")).toBeDefined());
    button("Eliminar office definitivamente")!.click();
    await vi.waitFor(() =>
      expect(text()).toContain("Hay políticas de SLA que miden en office: 'Estándar'. Elige antes otro calendario para ellas."),
    );
    expect(button("office (Europe/Madrid)")).toBeDefined();
  });
});

describe("a policy without targets", () => {
  it("says what saving it does: nothing measured, and for everything when it applies to everything", async () => {
    show("policies", []);
    await vi.waitFor(() => expect(text()).toContain("No targets, and it applies to everything"));
    await new Promise((resolve) => setTimeout(resolve, 150)); // the form's effects have run
    const minutes = root().querySelector<HTMLInputElement>('input[aria-label="Normal: First response"]')!;
    minutes.value = "60";
    minutes.dispatchEvent(new Event("input", { bubbles: true }));
    await vi.waitFor(() => expect(text()).not.toContain("No targets"));
    // one priority's targets given: the others take the next policy's, and the form says so
    expect(text()).toContain("Priorities left empty take their targets from the next policy");
    for (const priority of ["Low", "High", "Urgent"]) {
      const input = root().querySelector<HTMLInputElement>(`input[aria-label="${priority}: First response"]`)!;
      input.value = "30";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await vi.waitFor(() => expect(input.value).toBe("30"));
      await new Promise((resolve) => setTimeout(resolve, 20)); // the form took it before the next one is typed
    }
    await vi.waitFor(() => expect(text()).not.toContain("Priorities left empty"));
  });
});

describe("settings a supervisor may read but not change", () => {
  const team = { id: "returns", name: "Returns", description: null, version: 1 };
  const calendar = { id: "office", time_zone: "Europe/Madrid", weekly: {}, holidays: [], version: 1 };
  const policy = { id: "standard", name: "Standard", targets: {}, calendar_id: null, warning_fraction: 0.8,
                   applies_to: {}, rank: 0, version: 3 };
  const agent = { id: "bob", name: "Bob", presence: "online", capacity: 3, active: 0, teams: ["returns"], skills: [],
                  languages: [], last_assigned_at: null };

  function showAs(groups: string[], section: string) {
    const api = {
      teams: async () => ({ items: [team] }),
      calendars: async () => ({ items: [calendar] }),
      policies: async () => ({ items: [policy] }),
      adminAgents: async () => ({ items: [agent] }),
    };
    const store = new Store(api as unknown as Api);
    const context = { ...testContext(store), who: { id: "sue", name: "Sue", groups } };
    render(
      <AppContext.Provider value={context}>
        <AdminPages section={section} />
      </AppContext.Provider>,
      root(),
    );
  }
  const buttons = () => [...root().querySelectorAll<HTMLButtonElement>("button")].map((b) => b.textContent?.trim());
  const open = async (name: string) => {
    await vi.waitFor(() => expect(buttons()).toContain(name));
    [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent?.trim() === name)!.click();
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const cases: [string, string][] = [
    ["teams", "Returns (returns)"],
    ["calendars", "office (Europe/Madrid)"],
    ["policies", "Standard (standard)"],
  ];

  it.each(cases)("%s: a supervisor reads the item, with no Save or New to be refused", async (section, item) => {
    showAs(["supervisors"], section);
    await open(item);
    const form = root().querySelector<HTMLFormElement>("form.card.form")!;
    expect(form.querySelector("fieldset")!.disabled).toBe(true);
    expect(buttons()).not.toContain("Save");
    expect(buttons()).not.toContain("+ New");
    expect(buttons().filter((b) => b?.startsWith("Delete"))).toEqual([]);
  });

  it.each(cases)("%s: an admin saves and creates", async (section, item) => {
    showAs(["admins"], section);
    await open(item);
    expect(root().querySelector<HTMLFieldSetElement>("form.card.form fieldset")!.disabled).toBe(false);
    expect(buttons()).toContain("Save");
    expect(buttons()).toContain("+ New");
  });

  it("agents: a supervisor reads an agent's settings (Show, not Edit), with no Save", async () => {
    showAs(["supervisors"], "agents");
    await vi.waitFor(() => expect(root().querySelector('button[aria-label="Show: Bob"]')).not.toBeNull());
    expect(root().querySelector('button[aria-label^="Edit"]')).toBeNull(); // no control that says it edits
    root().querySelector<HTMLButtonElement>('button[aria-label="Show: Bob"]')!.click();
    await vi.waitFor(() => expect(root().querySelector('form[aria-label="Bob"]')).not.toBeNull());
    expect(root().querySelector<HTMLFieldSetElement>('form[aria-label="Bob"] fieldset')!.disabled).toBe(true);
    expect(buttons()).not.toContain("Save");
  });
});

describe("two admins editing one agent", () => {
  it("saves over the settings' version edited, and after a refusal shows the latest and saves over that", async () => {
    const { ApiError } = await import("../api");
    let bob = { id: "bob", name: "Bob", capacity: 3, teams: ["default"], skills: [], languages: [], presence: "offline",
                active: 0, settings_version: 1 };
    const setAgent = vi.fn(async (_id: string, settings: { capacity: number }, version?: number) => {
      if (version !== bob.settings_version) throw new ApiError(409, `agent bob's settings changed meanwhile (now version ${bob.settings_version})`, {});
      bob = { ...bob, ...settings, settings_version: bob.settings_version + 1 };
      return bob;
    });
    const store = new Store({ adminAgents: async () => ({ items: [bob] }), setAgent } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <AdminPages section="agents" />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(root().querySelector('button[aria-label="Edit: Bob"]')).not.toBeNull());
    root().querySelector<HTMLButtonElement>('button[aria-label="Edit: Bob"]')!.click();
    const capacity = () => root().querySelector<HTMLInputElement>('form[aria-label="Bob"] input[type=number]')!;
    await vi.waitFor(() => expect(capacity().value).toBe("3"));
    bob = { ...bob, capacity: 7, settings_version: 2 }; // someone else saves meanwhile
    capacity().value = "5";
    capacity().dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    capacity().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(text()).toContain("Someone changed this meanwhile"));
    expect(setAgent.mock.calls[0]![2]).toBe(1);
    await vi.waitFor(() => expect(capacity().value).toBe("7")); // their settings, to change again
    capacity().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(setAgent).toHaveBeenCalledTimes(2));
    expect(setAgent.mock.calls[1]![2]).toBe(2);
  });
});

describe("a save someone else's save beat", () => {
  const standard = { id: "std", name: "Standard", targets: {}, calendar_id: null, warning_fraction: 0.8, applies_to: {},
                     rank: 0, version: 1 };
  it.each([
    ["en", "Someone changed this meanwhile. The latest version is loaded; apply your change again."],
    ["es", "Alguien lo cambió mientras tanto. Se cargó la última versión; vuelve a aplicar tu cambio."],
    ["pt", "Alguém mudou isto enquanto isso. A versão mais recente foi carregada; aplique sua mudança de novo."],
  ] as const)("is said in the admin's language (%s) alone, not with the API's English detail", async (locale, words) => {
    const { ApiError } = await import("../api");
    const detail = "sla-policy std changed meanwhile (now version 2); reload it and apply your change again";
    const api = {
      calendars: async () => ({ items: [] }),
      policies: async () => ({ items: [standard] }),
      putPolicy: async () => {
        throw new ApiError(409, detail, { type: "/problems/conflict", status: 409, detail });
      },
    };
    const store = new Store(api as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store, locale), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <AdminPages section="policies" />
      </AppContext.Provider>,
      root(),
    );
    const item = () => [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === "Standard (std)");
    await vi.waitFor(() => expect(item()).toBeDefined());
    item()!.click();
    await policyInForm("Standard");
    root().querySelector<HTMLFormElement>("form.card.form")!.requestSubmit();
    await vi.waitFor(() => expect(root().querySelector('[role="alert"]')?.textContent).toBe(words));
    expect(text()).not.toContain("sla-policy");
  });
});

describe("saving an SLA policy read from the list", () => {
  it("sends the policy's fields alone: the version it read goes as ?version=, not in the body", async () => {
    const standard = { id: "std", name: "Standard", targets: { urgent: { first_response: 600 } }, calendar_id: null,
                       warning_fraction: 0.8, applies_to: {}, rank: 0, version: 3 };
    const putPolicy = vi.fn(async (p: object) => ({ ...p, version: 4 }));
    const api = { calendars: async () => ({ items: [] }), policies: async () => ({ items: [standard] }), putPolicy };
    render(
      <AppContext.Provider value={{ ...testContext(new Store(api as unknown as Api)), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <AdminPages section="policies" />
      </AppContext.Provider>,
      root(),
    );
    const item = () => [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === "Standard (std)");
    await vi.waitFor(() => expect(item()).toBeDefined());
    item()!.click();
    await policyInForm("Standard");
    root().querySelector<HTMLFormElement>("form.card.form")!.requestSubmit();
    await vi.waitFor(() => expect(putPolicy).toHaveBeenCalledTimes(1));
    const [body, version] = putPolicy.mock.calls[0]! as unknown as [Record<string, unknown>, number];
    expect(version).toBe(3);
    expect(Object.keys(body).sort()).toEqual(["applies_to", "calendar_id", "id", "name", "rank", "targets", "warning_fraction"]);
    expect(body.targets).toEqual({ urgent: { first_response: 600 } });
  });
});

describe("taking an agent off the desk", () => {
  it("says what it does before doing it, then shows them off the desk with a way back", async () => {
    const alice = { id: "alice", name: "Alice", presence: "online", capacity: 3, active: 2, teams: ["default"], skills: [],
                    languages: [], settings_version: 1, deactivated_at: null as string | null, deactivated_by: null as string | null };
    const calls: [string, boolean][] = [];
    const api = {
      adminAgents: async () => ({ items: [alice] }),
      setAgentOnDesk: async (id: string, onDesk: boolean) => {
        calls.push([id, onDesk]);
        Object.assign(alice, onDesk ? { deactivated_at: null, deactivated_by: null }
                                    : { presence: "offline", deactivated_at: "2026-12-06T09:00:00Z", deactivated_by: "lead" });
        return alice;
      },
    } as unknown as Api;
    const context = { ...testContext(new Store(api)), who: { id: "lead", name: "Lead", groups: ["admins"] } };
    render(
      <AppContext.Provider value={context}>
        <AdminPages section="agents" />
      </AppContext.Provider>,
      root(),
    );
    const button = (label: string) => [...root().querySelectorAll("button")].find((b) => b.textContent === label);
    await vi.waitFor(() => expect(root().querySelector('button[aria-label="Edit: Alice"]')).not.toBeNull());
    root().querySelector<HTMLButtonElement>('button[aria-label="Edit: Alice"]')!.click();
    await vi.waitFor(() => expect(button("Take off the desk…")).toBeDefined());
    button("Take off the desk…")!.click();
    await vi.waitFor(() => expect(text()).toContain("Alice goes offline at once and is signed out of the inbox"));
    expect(calls).toEqual([]);                                           // nothing done before the confirmation
    button("Take Alice off the desk")!.click();
    await vi.waitFor(() => expect(text()).toContain("Alice is off the desk."));
    expect(calls).toEqual([["alice", false]]);
    await vi.waitFor(() => expect(text()).toContain("Off the desk"));    // the list says so in place of presence
    expect(text()).toContain("by lead");
    button("Put back on the desk")!.click();
    await vi.waitFor(() => expect(calls).toEqual([["alice", false], ["alice", true]]));
    await vi.waitFor(() => expect(text()).toContain("Alice is back on the desk"));
  });
});

describe("the agents page", () => {
  it("names each agent by name, else work email, else Unnamed agent: their id only on hover and in their form", async () => {
    const agent = (id: string, name: string | null, email: string | null) => ({
      id, name, email, presence: "online", capacity: 3, active: 0, teams: ["default"], skills: [], languages: [],
      settings_version: 1, deactivated_at: null, deactivated_by: null,
    });
    const items = [agent("alice", "Alice", "alice@shop.example"), agent("u_7f3a", null, "ana@shop.example"),
                   agent("u_9c1d", " ", "ben@shop.example"),
                   { ...agent("u_0b2e", null, null), deactivated_at: "2026-12-06T09:00:00Z", deactivated_by: "u_7f3a" }];
    const store = new Store({ adminAgents: async () => ({ items }) } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <AdminPages section="agents" />
      </AppContext.Provider>,
      root(),
    );
    const rows = () => [...root().querySelectorAll("tbody tr")].map((r) => [...r.querySelectorAll("td")].slice(0, 2).map((c) => c.textContent));
    await vi.waitFor(() => expect(rows().length).toBe(4));
    expect(rows()).toEqual([
      ["Alice", "alice@shop.example"],
      ["ana@shop.example", "ana@shop.example"],
      ["ben@shop.example", "ben@shop.example"],
      ["Unnamed agent", ""],
    ]);
    expect(root().querySelector("thead")!.textContent).not.toContain("Id");
    expect([...root().querySelectorAll("tbody td[title]")].map((c) => c.getAttribute("title"))).toEqual(["alice", "u_7f3a", "u_9c1d", "u_0b2e"]);
    const edits = [...root().querySelectorAll<HTMLButtonElement>("tbody button")].map((b) => b.getAttribute("aria-label"));
    expect(edits).toEqual(["Edit: Alice", "Edit: ana@shop.example", "Edit: ben@shop.example", "Edit: Unnamed agent"]);
    // the form says whom it edits by their email, with the id an admin may need (the audit trail's actor) beside it
    root().querySelector<HTMLButtonElement>('button[aria-label="Edit: ana@shop.example"]')!.click();
    await vi.waitFor(() => expect(root().querySelector('form[aria-label="ana@shop.example"]')).not.toBeNull());
    const form = root().querySelector('form[aria-label="ana@shop.example"]')!;
    expect(form.querySelector("h2")!.textContent).toBe("ana@shop.example");
    expect(form.textContent).toContain("Id: u_7f3a");
    // and who took an agent off the desk is said as the list names them
    root().querySelector<HTMLButtonElement>('button[aria-label="Edit: Unnamed agent"]')!.click();
    await vi.waitFor(() => expect(root().querySelector('form[aria-label="Unnamed agent"]')?.textContent).toContain("by ana@shop.example."));
  });
});

describe("an agent's role at most", () => {
  const agent = (id: string, name: string, max_role: string | null) => ({
    id, name, email: null, presence: "online", capacity: 3, active: 0, teams: ["default"], skills: [], languages: [],
    settings_version: 1, deactivated_at: null, deactivated_by: null, max_role,
  });

  function showAgents(setMaxRole: (id: string, role: string) => Promise<unknown>, locale: Locale = "en") {
    let items = [agent("alice", "Alice", null), agent("bob", "Bob", "supervisor"), agent("cy", "Cy", "agent"),
                 agent("dee", "Dee", "admin")];
    const api = {
      adminAgents: async () => ({ items }),
      setMaxRole: vi.fn(async (id: string, role: string) => {
        await setMaxRole(id, role);
        items = items.map((a) => (a.id === id ? { ...a, max_role: role, settings_version: a.settings_version + 1 } : a));
        return items.find((a) => a.id === id);
      }),
    };
    render(
      <AppContext.Provider value={{ ...testContext(new Store(api as unknown as Api), locale), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <AdminPages section="agents" />
      </AppContext.Provider>,
      root(),
    );
    return api;
  }
  const caps = () => [...root().querySelectorAll("tbody tr")].map((r) => [r.querySelector("td")!.textContent, r.querySelectorAll("td")[5]!.textContent]);
  const open = async (name: string, edit = "Edit") => {
    await vi.waitFor(() => expect(root().querySelector(`button[aria-label="${edit}: ${name}"]`)).not.toBeNull());
    root().querySelector<HTMLButtonElement>(`button[aria-label="${edit}: ${name}"]`)!.click();
    await vi.waitFor(() => expect(root().querySelector(`form[aria-label="${name}"] select`)).not.toBeNull());
    return root().querySelector<HTMLSelectElement>(`form[aria-label="${name}"] select`)!;
  };
  const choose = async (select: HTMLSelectElement, value: string) => {
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10)); // the form shows it before Set role is pressed
  };
  const setButton = () => [...root().querySelectorAll<HTMLButtonElement>("form button")].find((b) => b.textContent === "Set role")!;

  it("is listed for each agent: none (or admin, the same) is no limit, the sign-in's roles", async () => {
    showAgents(async () => undefined);
    await vi.waitFor(() => expect(caps().length).toBe(4));
    expect(root().querySelectorAll("thead th")[5]!.textContent).toBe("Role at most");
    expect(caps()).toEqual([
      ["Alice", "No limit (the sign-in's roles)"],
      ["Bob", "Supervisor"],
      ["Cy", "Agent"],
      ["Dee", "No limit (the sign-in's roles)"],
    ]);
  });

  it("is set by an admin in the agent's form, saying when it counts, and the list shows the new one", async () => {
    const api = showAgents(async () => undefined);
    const select = await open("Bob");
    expect(select.value).toBe("supervisor");
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["admin", "No limit (the sign-in's roles)"], ["supervisor", "Supervisor"], ["agent", "Agent"],
    ]);
    expect(root().querySelector('form[aria-label="Bob"]')!.textContent).toContain(
      "It takes effect on the agent's next request, and never raises a role their sign-in lacks.");
    await choose(select, "agent");
    setButton().click();
    await vi.waitFor(() => expect(api.setMaxRole).toHaveBeenCalledWith("bob", "agent"));
    await vi.waitFor(() => expect(caps()[1]).toEqual(["Bob", "Agent"]));
    expect(root().querySelector('[role="status"]')!.textContent).toBe("Saved");
    expect(select.value).toBe("agent");
  });

  it.each([
    ["en", { code: "demoting_self" }, 409, "You cannot lower your own role: another admin can."],
    ["es", { code: "demoting_self" }, 409, "No puedes bajar tu propio rol: otro administrador puede hacerlo."],
    ["pt", { code: "demoting_self" }, 409, "Você não pode baixar o seu próprio papel: outro administrador pode."],
    ["en", { code: "deactivated" }, 403, "An admin took you off the desk: ask one to put you back."],
    ["en", { code: "last_admin" }, 409, "Another admin lowered your own role at the same moment: nothing was changed, so the desk keeps an admin."],
    ["es", { code: "last_admin" }, 409, "Otro administrador bajó tu propio rol en ese mismo momento: no se cambió nada, así que el equipo conserva un administrador."],
    ["pt", { code: "last_admin" }, 409, "Outro administrador baixou o seu próprio papel no mesmo momento: nada foi alterado, e a equipe continua com um administrador."],
  ] as const)("a refusal is said in the admin's language (%s, %s) and the list keeps the cap", async (locale, problem, status, words) => {
    const { ApiError } = await import("../api");
    const api = showAgents(async () => {
      throw new ApiError(status, "you cannot lower your own role: another admin can", problem);
    }, locale);
    const select = await open("Alice", translator(locale)("edit"));
    await choose(select, "supervisor");
    [...root().querySelectorAll<HTMLButtonElement>("form button")].find((b) => b.textContent === translator(locale)("agent.setMaxRole"))!.click();
    await vi.waitFor(() => expect(root().querySelector('[role="alert"]')?.textContent).toBe(words));
    expect(api.setMaxRole).toHaveBeenCalledWith("alice", "supervisor");
    expect(caps()[0]![1]).toBe(translator(locale)("agent.maxRole.admin"));
  });

  it("a 404 (an agent who never signed in) is said as the page says other failures", async () => {
    const { ApiError } = await import("../api");
    showAgents(async () => {
      throw new ApiError(404, "agent bob has not signed in yet", { status: 404, detail: "agent bob has not signed in yet" });
    });
    const select = await open("Bob");
    await choose(select, "agent");
    setButton().click();
    await vi.waitFor(() => expect(root().querySelector('[role="alert"]')?.textContent).toBe("Something went wrong: agent bob has not signed in yet"));
    expect(caps()[1]).toEqual(["Bob", "Supervisor"]);
  });

  it("is not offered to a supervisor, who reads the cap in the list", async () => {
    const store = new Store({ adminAgents: async () => ({ items: [agent("bob", "Bob", "agent")] }) } as unknown as Api);
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "sue", name: "Sue", groups: ["supervisors"] } }}>
        <AdminPages section="agents" />
      </AppContext.Provider>,
      root(),
    );
    await vi.waitFor(() => expect(caps()).toEqual([["Bob", "Agent"]]));
    root().querySelector<HTMLButtonElement>('button[aria-label="Show: Bob"]')!.click();
    await vi.waitFor(() => expect(root().querySelector('form[aria-label="Bob"]')).not.toBeNull());
    expect(root().querySelector('form[aria-label="Bob"] select')).toBeNull();
  });
});
