// @vitest-environment happy-dom
// The trust and privacy pages: only admins get them; the audit log filtered and paged with its changes readable;
// a customer's export followed to its link, an erase only once the id is typed; the API's refusals at the fields.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api, type Conversation } from "../api";
import { AppContext } from "../context";
import { formatFull } from "../format";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { AdminPages } from "./AdminPages";
import { CustomerProfile, type CustomerData } from "./CustomerProfile";
import type { Locale } from "../i18n";
import { en } from "../i18n/en";
import { es } from "../i18n/es";
import { pt } from "../i18n/pt";

const root = eachRoot();

function show(
  section: string,
  api: Partial<Api>,
  groups = ["admins"],
  item?: string,
  navigate = (_: string) => undefined,
  locale: Locale = "en",
) {
  const store = new Store({ loadTeams: async () => ({ items: [] }), agentTeams: async () => ({ items: [] }), ...api } as unknown as Api);
  const context = { ...testContext(store, locale), navigate, who: { id: "alice", name: "Alice", groups } };
  render(
    <AppContext.Provider value={context}>
      <AdminPages section={section} item={item} />
    </AppContext.Provider>,
    root(),
  );
  return store;
}

const text = () => root().textContent ?? "";
const $ = <T extends Element = HTMLElement>(selector: string) => root().querySelector<T>(selector)!;
const byText = (selector: string, words: string) =>
  [...root().querySelectorAll<HTMLElement>(selector)].find((e) => e.textContent?.includes(words))!;
const type = (input: HTMLInputElement, value: string) => {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const labelled = (words: string) => byText("label", words).querySelector("input")!;
/** A 422 as the API answers it: the fields' errors in `errors`, and all of them again in `detail`. */
const problem = (errors: { loc: (string | number)[]; msg: string }[]) => {
  const detail = `invalid request: ${errors.map((e) => `${e.loc.join(".")}: ${e.msg}`).join("; ")}`;
  return new ApiError(422, detail, { status: 422, detail, errors });
};

describe("who gets the pages", () => {
  it("admins: the audit log, privacy, retention and the survey", async () => {
    show("audit", { audit: async () => ({ items: [] }) });
    const links = [...root().querySelectorAll("nav a")].map((a) => a.textContent);
    expect(links).toEqual(expect.arrayContaining(["Audit log", "Privacy", "Retention and masking", "Satisfaction survey"]));
    await vi.waitFor(() => expect(text()).toContain("No record matches."));
  });

  it("supervisors: the survey (to read), not the privacy pages", () => {
    show("csat", { csat: () => new Promise(() => undefined) } as unknown as Partial<Api>, ["supervisors"]);
    const links = [...root().querySelectorAll("nav a")].map((a) => a.textContent);
    expect(links).toContain("Satisfaction survey");
    expect(links).not.toContain("Audit log");
    expect(links).not.toContain("Privacy");
    for (const section of ["audit", "privacy", "privacy-settings"]) {
      show(section, {}, ["supervisors"]);
      expect(text()).toBe("Your account may not see this page.");
    }
  });

  it("a page that exists for nobody is said not to exist, not refused", () => {
    for (const groups of [["admins"], ["supervisors"], []]) {
      show("bogus", {}, groups);
      expect(text()).toBe("There is no such page.");
    }
    show("agents", {}, []); // (an agent: a page of supervisors and admins)
    expect(text()).toBe("Your account may not see this page.");
  });
});

describe("the audit log", () => {
  const record = {
    id: "a2",
    at: "2026-12-05T10:00:00Z",
    actor: "alice",
    roles: ["admins"],
    action: "PUT /admin/privacy/settings",
    source_ip: "203.0.113.9",
    user_agent: "Firefox",
    status: 200,
    outcome: "allowed" as const,
    before: { retention: { audit_days: 730, events_days: 400 } },
    after: { retention: { audit_days: 365, events_days: 400 } },
  };

  it("shows who, what, when, from where and the fields that changed; filters with ISO times; pages", async () => {
    const audit = vi.fn(async (q: { cursor?: string | null }) =>
      q.cursor
        ? { items: [{ ...record, id: "a1", action: "customer.export", customer_id: "c_7", before: null, after: null }] }
        : { items: [record], next_cursor: "next-page" },
    );
    show("audit", { audit } as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("PUT /admin/privacy/settings"));
    const row = $("table tbody tr");
    expect(row.textContent).toContain("alice (admins)");
    expect(row.textContent).toContain("203.0.113.9");
    expect(row.textContent).toContain("retention.audit_days: 730 → 365");
    expect(row.textContent).not.toContain("events_days");

    byText("button", "Show more").click();
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(2));
    expect(audit).toHaveBeenLastCalledWith({ cursor: "next-page" });
    expect(text()).not.toContain("Show more");
    // the focus is on the first row Show more loaded (the button is gone), not at the top of the page
    await vi.waitFor(() => expect(document.activeElement).toBe(root().querySelectorAll("table tbody tr")[1]));

    type(labelled("Who"), "alice");
    type(labelled("Customer id"), "c_7");
    type(labelled("From"), "2026-12-05T09:30");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() =>
      expect(audit).toHaveBeenLastCalledWith({ actor: "alice", customer_id: "c_7", from: new Date(2026, 11, 5, 9, 30).toISOString(), cursor: undefined }),
    );
  });

  it("marks a refused attempt and says why, and filters to the refused attempts", async () => {
    const refused = {
      id: "a3",
      at: "2026-12-05T11:00:00Z",
      actor: "bob",
      roles: [],
      action: "GET /agent/conversations/<conversation_id>",
      target: "conversation_id=c_9",
      conversation_id: "c_9",
      customer_id: "u_9",
      source_ip: "198.51.100.7",
      status: 404,
      outcome: "denied" as const,
      reason: "not_visible" as const,
    };
    const audit = vi.fn(async (q: { outcome?: string }) => ({ items: q.outcome === "denied" ? [refused] : [record, refused] }));
    show("audit", { audit } as Partial<Api>);
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(2));
    const [allowed, denied] = [...root().querySelectorAll("table tbody tr")] as [Element, Element];
    expect(denied.textContent).toContain("Refused exists, hidden from the caller");
    expect(denied.textContent).toContain("GET /agent/conversations/<conversation_id> (conversation_id=c_9) · 404");
    expect(denied.textContent).toContain("198.51.100.7");
    expect(allowed.textContent).not.toContain("Refused");

    const outcome = byText("label", "Outcome").querySelector("select")!;
    expect([...outcome.options].map((o) => o.textContent)).toEqual([
      "Every record",
      "Refused attempts only",
      "Failed actions only",
      "Allowed only (the failed ones too)",
    ]);
    outcome.value = "denied";
    outcome.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ outcome: "denied", cursor: undefined }));
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
  });

  it("marks a failed action in words, not colour alone, and filters to the failed actions, in en, es and pt", async () => {
    const failed = {
      id: "a4",
      at: "2026-12-05T12:00:00Z",
      actor: "alice",
      roles: [],
      action: "POST /agent/conversations/<conversation_id>/replies",
      target: "conversation_id=c_5",
      conversation_id: "c_5",
      customer_id: "u_5",
      status: 503,
      outcome: "failed" as const,
      details: { message: "m_5", channel: "sms", files: 0 },
    };
    const audit = vi.fn(async (q: { outcome?: string }) => ({ items: q.outcome === "failed" ? [failed] : [failed, record] }));
    show("audit", { audit } as Partial<Api>);
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(2));
    const [failedRow, allowedRow] = [...root().querySelectorAll("table tbody tr")] as [Element, Element];
    // a word beside the action, read by a screen reader as by an eye, with what it means; the status as answered
    expect(failedRow.querySelector("strong")?.textContent).toBe("Failed");
    expect(failedRow.textContent).toContain("Failed allowed, changed data, then failed");
    expect(failedRow.textContent).toContain("POST /agent/conversations/<conversation_id>/replies (conversation_id=c_5) · 503");
    expect(failedRow.textContent).not.toContain("Refused");
    expect(allowedRow.textContent).not.toContain("Failed");
    // the filter asks the API for the failed ones alone
    const outcome = byText("label", "Outcome").querySelector("select")!;
    outcome.value = "failed";
    outcome.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ outcome: "failed", cursor: undefined }));
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
    // and in Spanish and Portuguese, the marker and the filter's choices in their words
    for (const [locale, marker, why, only] of [
      ["es", "Falló", "permitido, cambió datos y luego falló", "Solo acciones fallidas"],
      ["pt", "Falhou", "permitido, alterou dados e depois falhou", "Somente ações que falharam"],
    ] as const) {
      show("audit", { audit } as Partial<Api>, ["admins"], undefined, undefined, locale);
      await vi.waitFor(() => expect(root().querySelector("table tbody tr strong")?.textContent).toBe(marker));
      expect(root().querySelector("table tbody tr")?.textContent).toContain(why);
      const options = [...root().querySelectorAll<HTMLOptionElement>("form select option")].map((o) => o.textContent);
      expect(options).toContain(only);
    }
  });

  it("names the desk's agents in its rows, and takes an agent's name in the Who filter for their id", async () => {
    const audit = vi.fn(async () => ({ items: [record] }));
    const store = show("audit", { audit } as Partial<Api>);
    store.set({ agents: [{ id: "alice", name: "Alice Example" }] as never }); // as the inbox's start reads them
    await vi.waitFor(() => expect($("table tbody tr")?.textContent).toContain("Alice Example · alice (admins)"));
    expect([...root().querySelectorAll("datalist option")].map((o) => o.getAttribute("value"))).toEqual(["alice"]);
    type(labelled("Who"), "alice example");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ actor: "alice", cursor: undefined }));
  });

  it("filters by a customer named by email address or phone number, read as their id", async () => {
    const audit = vi.fn(async () => ({ items: [record] }));
    const findCustomers = vi.fn(async (q: { email?: string; phone?: string }) => ({
      items: q.email === "griselda@example.com" ? [{ id: "u_7", name: "Griselda", identities: [], tier: null }] : [],
    }));
    show("audit", { audit, findCustomers } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
    const filterBy = async (name: string) => {
      type(labelled("Customer id, email address or phone number"), name);
      await tick();
      $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    };
    await filterBy("griselda@example.com");
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ customer_id: "u_7", cursor: undefined }));
    await filterBy("+31 6 9999 0000");
    await vi.waitFor(() => expect(text()).toContain("No customer has that id, email address or phone number."));
    expect(findCustomers).toHaveBeenLastCalledWith({ phone: "+31 6 9999 0000" });
    expect(text()).not.toContain("Something went wrong"); // nobody found is not a fault
    expect(root().querySelectorAll("table tbody tr").length).toBe(0);
    expect(audit).toHaveBeenCalledTimes(2);
  });

  it("includes the lists that showed a customer only once one is entered, says for how long, and marks them", async () => {
    const list = {
      ...record,
      id: "l1",
      action: "conversations.listed",
      status: 200,
      before: null,
      after: null,
      details: { view: "all", customers: ["u_3", "u_7"] },
    };
    const tooFar = "without actor or customer_id, or with lists, from and to may be at most 92 days apart";
    const audit = vi.fn(async (q: { lists?: boolean; from?: string }) => {
      if (q.lists && q.from) throw new ApiError(400, tooFar, { status: 400, detail: tooFar });
      const merged = { ...list, id: "l2", details: { customers: ["u_1"] } }; // u_1: merged into u_7
      const own = { ...record, id: "a4", action: "customer.read", customer_id: "u_7" };
      return { items: q.lists ? [list, merged, own] : [record] };
    });
    show("audit", { audit } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
    const lists = labelled("Include the lists that showed them");
    expect(lists.type).toBe("checkbox");
    expect(lists.disabled).toBe(true); // no customer yet: the API refuses lists without one
    const help = $(`#${lists.getAttribute("aria-describedby")}`);
    expect(help.textContent).toBe(
      "Lists are read day by day: From and To may be at most 92 days apart (the last 7 days when From is empty).",
    );
    const submit = async () => {
      await tick();
      $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    };

    type(labelled("Customer id, email address or phone number"), "u_7");
    await tick();
    expect(lists.disabled).toBe(false);
    lists.checked = true;
    lists.dispatchEvent(new Event("change", { bubbles: true }));
    await submit();
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ customer_id: "u_7", lists: true, cursor: undefined }));
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(3));
    const customerCells = [...root().querySelectorAll("table tbody tr")].map((tr) => tr.querySelectorAll("td")[3]!.textContent);
    expect(customerCells).toEqual(["u_7 · on a list", "on a list", "u_7"]);

    type(labelled("From"), "2026-01-01T00:00");
    await submit();
    // a refused filter in the API's words, as a sentence: not "Something went wrong"
    await vi.waitFor(() => expect(text()).toContain(`W${tooFar.slice(1)}.`));
    expect(text()).not.toContain("Something went wrong");
    expect(root().querySelectorAll("table tbody tr").length).toBe(0);

    type(labelled("From"), "");
    type(labelled("Customer id, email address or phone number"), "");
    await tick();
    expect(lists.disabled).toBe(true);
    expect(lists.checked).toBe(false);
    await submit();
    await vi.waitFor(() => expect(audit).toHaveBeenLastCalledWith({ cursor: undefined }));
  });

  it("an empty page that has more after it offers them instead of saying there is none", async () => {
    const audit = vi.fn(async (q: { cursor?: string | null }) =>
      q.cursor ? { items: [record] } : { items: [], next_cursor: "on" },
    );
    show("audit", { audit } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Show more"));
    expect(text()).not.toContain("No record matches.");
    byText("button", "Show more").click();
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
  });

  it("keeps the filtered answer when the first, unfiltered one arrives after it", async () => {
    let first!: (page: { items: unknown[] }) => void;
    const audit = vi.fn((q: { actor?: string }) =>
      q.actor ? Promise.resolve({ items: [{ ...record, id: "mine" }] }) : new Promise((resolve) => (first = resolve)),
    );
    show("audit", { audit } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(audit).toHaveBeenCalledTimes(1));
    type(labelled("Who"), "alice");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(root().querySelectorAll("table tbody tr").length).toBe(1));
    first({ items: [{ ...record, id: "x1", actor: "bob" }, { ...record, id: "x2", actor: "system:privacy" }] });
    await tick();
    await tick();
    expect(root().querySelectorAll("table tbody tr").length).toBe(1);
    expect(text()).not.toContain("system:privacy");
  });
});

describe("a customer's export and erase", () => {
  const customer = { id: "c_7", name: "Griselda", identities: [], tier: null };

  it("starts an export, follows it and shows the download link", async () => {
    const states = [
      { job_id: "j_1", kind: "export", customer_id: "c_7", status: "running" },
      { job_id: "j_1", kind: "export", customer_id: "c_7", status: "done", download_url: "https://files.example/c_7.zip" },
    ];
    const startPrivacyJob = vi.fn(async () => ({ job_id: "j_1" }));
    show("privacy", {
      adminCustomer: async () => customer,
      privacyRequests: async () => ({ items: [] }),
      startPrivacyJob,
      privacyJob: async () => states.shift() ?? states[0],
    } as unknown as Partial<Api>, ["admins"], "c_7");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    expect(labelled("Customer id").value).toBe("c_7");
    byText("button", "Export data").click();
    await vi.waitFor(() => expect(text()).toContain("Export of Griselda (c_7) · running…"));
    await vi.waitFor(() => expect($<HTMLAnchorElement>(".privacy-jobs a").href).toBe("https://files.example/c_7.zip"), { timeout: 4000 });
    expect(text()).toContain("Export of Griselda (c_7) · done");
    expect(startPrivacyJob).toHaveBeenCalledWith("c_7", "export");
  });

  it("once the customer is erased, their export shown says it was deleted and offers its link no more", async () => {
    const exported = { job_id: "j_1", kind: "export", customer_id: "c_7", status: "done", download_url: "https://files.example/c_7.zip" };
    const answers: Record<string, unknown[]> = {
      j_1: [exported, { ...exported, download_url: null, archive_deleted: "customer_erased" }],
      j_2: [{ job_id: "j_2", kind: "erase", customer_id: "c_7", status: "done", counts: { items: 9, exports: 1 } }],
    };
    const privacyJob = vi.fn(async (id: string) => (answers[id]!.length > 1 ? answers[id]!.shift() : answers[id]![0]));
    show("privacy", {
      adminCustomer: async () => customer,
      privacyRequests: async () => ({ items: [] }),
      startPrivacyJob: async (_: string, kind: string) => ({ job_id: kind === "export" ? "j_1" : "j_2" }),
      privacyJob,
    } as unknown as Partial<Api>, ["admins"], "c_7");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    byText("button", "Export data").click();
    await vi.waitFor(() => expect($<HTMLAnchorElement>(".privacy-jobs a").href).toBe("https://files.example/c_7.zip"), { timeout: 4000 });
    // When the admin erases her
    byText("button", "Erase customer").click();
    const dialog = $("dialog");
    await vi.waitFor(() => expect(dialog.textContent).toContain("Erase Griselda?"));
    type(dialog.querySelector("input")!, "c_7");
    const confirm = byText("dialog button", "for good") as HTMLButtonElement;
    await vi.waitFor(() => expect(confirm.disabled).toBe(false));
    confirm.click();
    // Then the erase counts the export it deleted, and the export's line says why it has no link any more
    await vi.waitFor(() => expect(text()).toContain("Erase of Griselda (c_7) · done"));
    expect(text()).toContain("9 stored items, 1 export");
    await vi.waitFor(() =>
      expect(text()).toContain("The customer was erased since: this export was deleted with everything else of theirs."),
    );
    expect(root().querySelector(".privacy-jobs a")).toBeNull();
  });

  it("erases only once the customer's id is typed in the confirmation", async () => {
    const startPrivacyJob = vi.fn(async () => ({ job_id: "j_2" }));
    show("privacy", {
      adminCustomer: async () => customer,
      privacyRequests: async () => ({ items: [] }),
      startPrivacyJob,
      privacyJob: async () => ({
        job_id: "j_2", kind: "erase", customer_id: "c_7", status: "done",
        counts: { items: 14, files: 1, conversations: 2, markers: 3, unheard_of: 5 },
      }),
    } as unknown as Partial<Api>, ["admins"], "c_7");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    byText("button", "Erase customer").click();
    const dialog = $("dialog");
    await vi.waitFor(() => expect(dialog.textContent).toContain("Erase Griselda?"));
    const confirm = byText("dialog button", "for good") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    type(dialog.querySelector("input")!, "c_8");
    await vi.waitFor(() => expect(confirm.disabled).toBe(true));
    dialog.querySelector("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(startPrivacyJob).not.toHaveBeenCalled();
    type(dialog.querySelector("input")!, "c_7");
    await vi.waitFor(() => expect(confirm.disabled).toBe(false));
    confirm.click();
    await vi.waitFor(() => expect(text()).toContain("Erase of Griselda (c_7) · done"));
    // what it counted, in words (one the app does not know yet, as the API names it)
    expect(text()).toContain("14 stored items, 1 file, 2 conversations, 3 delivery markers, unheard_of: 5");
    expect(byText("button", "Export data")).toBeUndefined(); // the erased customer's controls are gone
    expect(startPrivacyJob).toHaveBeenCalledWith("c_7", "erase");
  });

  it("shows an erase that failed as failed, with what the desk said, and keeps the customer's controls", async () => {
    const error = "stopped after 5 attempts (RuntimeError); the operator is alerted by the privacy dead-letter queue's alarm and can run it again after a fix";
    const states = [
      { job_id: "j_3", kind: "erase", customer_id: "c_7", status: "running" },
      { job_id: "j_3", kind: "erase", customer_id: "c_7", status: "failed", error },
    ];
    show("privacy", {
      adminCustomer: async () => customer,
      privacyRequests: async () => ({ items: [] }),
      startPrivacyJob: async () => ({ job_id: "j_3" }),
      privacyJob: async () => states.shift() ?? states[0],
    } as unknown as Partial<Api>, ["admins"], "c_7");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    byText("button", "Erase customer").click();
    const dialog = $("dialog");
    await vi.waitFor(() => expect(dialog.textContent).toContain("Erase Griselda?"));
    type(dialog.querySelector("input")!, "c_7");
    const confirm = byText("dialog button", "for good") as HTMLButtonElement;
    await vi.waitFor(() => expect(confirm.disabled).toBe(false));
    confirm.click();
    await vi.waitFor(() => expect(text()).toContain("Erase of Griselda (c_7) · failed"), { timeout: 4000 });
    expect($(".privacy-jobs .error").textContent).toBe(error);
    expect(byText("button", "Erase customer")).toBeDefined(); // not erased: the admin can try again
  });

  it("says an export or erase the privacy queue refused was not started, in the admin's words, and lets them ask again", async () => {
    const said = {
      en: "It could not be started: the privacy queue refused it (job j_3 failed, nothing was done). Try again.",
      es: "No se pudo iniciar: la cola de privacidad lo rechazó (el trabajo j_3 falló, no se hizo nada). Inténtalo de nuevo.",
      pt: "Não foi possível iniciar: a fila de privacidade recusou (a tarefa j_3 falhou, nada foi feito). Tente de novo.",
    };
    for (const locale of ["en", "es", "pt"] as const) {
      for (const kind of ["export", "erase"] as const) {
        render(null, root()); // each from a fresh page
        const detail = `the ${kind} of customer c_7 could not be queued (job j_3 failed, nothing was done): ask again`;
        const startPrivacyJob = vi.fn(async () => {
          throw new ApiError(503, detail, { status: 503, detail, code: "job_not_queued", params: { job_id: "j_3", kind } });
        });
        show("privacy", {
          adminCustomer: async () => customer,
          privacyRequests: async () => ({ items: [] }),
          startPrivacyJob,
        } as unknown as Partial<Api>, ["admins"], "c_7", undefined, locale);
        await vi.waitFor(() => expect(text()).toContain("Griselda"));
        const words = { en, es, pt }[locale];
        byText("button", words[`privacy.${kind}`]).click();
        if (kind === "erase") { // confirmed by typing the customer's id
          const title = words["privacy.eraseTitle"].replace("{name}", "Griselda");
          await vi.waitFor(() => expect(byText("dialog", title)).toBeDefined());
          const dialog = byText("dialog", title);
          const confirm = byText("dialog button", words["privacy.eraseConfirm"].replace("{name}", "Griselda")) as HTMLButtonElement;
          await vi.waitFor(() => {
            type(dialog.querySelector("input")!, "c_7"); // again until the dialog, once open, has taken it
            expect(confirm.disabled).toBe(false);
          }, { timeout: 4000 });
          confirm.click();
        }
        await vi.waitFor(() => expect($("[role=alert]")?.textContent).toBe(said[locale]));
        expect(text()).not.toMatch(/Something went wrong|Algo salió mal|Algo deu errado/);
        expect(startPrivacyJob).toHaveBeenCalledWith("c_7", kind);
        expect(byText("button", words["privacy.erase"])).toBeDefined(); // nothing started: they can ask again
      }
    }
  });

  it("says in the admin's words that a customer merged into another is to be exported or erased as that one", async () => {
    const detail = "customer c_7 was merged into c_9 on 2026-12-01T10:00:00Z: their conversations, identities and files are c_9's now. Erase or export c_9, or unmerge first";
    const startPrivacyJob = vi.fn(async () => {
      throw new ApiError(409, detail, {
        status: 409, detail, code: "merged",
        params: { survivor_id: "c_9", merged_into: "c_9", merge_id: "mg_1", merged_at: "2026-12-01T10:00:00Z" },
      });
    });
    show("privacy", {
      adminCustomer: async () => customer,
      privacyRequests: async () => ({ items: [] }),
      startPrivacyJob,
    } as unknown as Partial<Api>, ["admins"], "c_7");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    byText("button", "Export data").click();
    await vi.waitFor(() => expect(text()).toContain(
      "This customer was merged into c_9 on 2026-12-01T10:00:00Z: their conversations are c_9's now. Erase or export c_9, or undo the merge first."));
    expect(byText("button", "Erase customer")).toBeDefined(); // nothing was started: their controls stay
  });

  it("lists the shop platform's requests with what became of each, in words", async () => {
    const request = (id: string, topic: string, status: string, job_id: string | null = null) => ({
      id, platform: "shopify", topic, status, job_id, received_at: "2026-12-05T10:00:00Z",
      customer: { id: "191167", email: "john@example.com", phone: null }, orders: [], payload: {},
    });
    show("privacy", {
      privacyRequests: async () => ({ items: [
        request("w1", "customers/redact", "done", "j_1"),
        request("w2", "customers/data_request", "nothing_held"),
        request("w3", "shop/redact", "open"),
        request("w4", "customers/something_new", "running", "j_4"),
      ] }),
    } as unknown as Partial<Api>, ["admins"]);
    await vi.waitFor(() => expect(document.querySelectorAll("table tbody tr").length).toBe(4));
    const rows = [...document.querySelectorAll("table tbody tr")].map((r) => [...r.querySelectorAll("td")].slice(1).map((c) => c.textContent));
    expect(rows).toEqual([
      ["shopify · Erase the customer", "191167, john@example.com", "answered"],
      ["shopify · Their data asked for (an export)", "191167, john@example.com", "nothing held about them"],
      ["shopify · Erase the shop's data (the shop left the platform)", "191167, john@example.com", "open: nothing started, act on it"],
      ["shopify · customers/something_new", "191167, john@example.com", "being answered"],
    ]);
    expect(text()).toContain("Customer, as the shop names them");
  });

  it("names a customer with no name by the address they wrote from, and their id once", async () => {
    const texter = { id: "c_9", name: null, identities: [{ kind: "phone", address: "+31612345678" }], tier: null };
    show("privacy", {
      adminCustomer: async () => texter,
      privacyRequests: async () => ({ items: [] }),
    } as unknown as Partial<Api>, ["admins"], "c_9");
    await vi.waitFor(() => expect($("[role=group] h2").textContent).toBe("+31612345678"));
    expect($("[role=group]").getAttribute("aria-label")).toBe("Customer +31612345678");
    expect($("[role=group]").textContent!.match(/c_9/g)).toHaveLength(1);
  });

  it("says so when no customer has the id", async () => {
    show("privacy", {
      adminCustomer: async () => {
        throw new ApiError(404, "not found", null);
      },
      privacyRequests: async () => ({ items: [] }),
    } as unknown as Partial<Api>, ["admins"], "c_404");
    await vi.waitFor(() => expect(text()).toContain("No customer has that id, email address or phone number."));
    expect(text()).not.toContain("Export data");
  });

  it("finds the customer by email address or phone number as the admins' customer lookup does", async () => {
    const findCustomers = vi.fn(async (q: { email?: string; phone?: string }) => ({
      items: q.email === "griselda@example.com" || q.phone === "06 1234 5678" ? [customer] : [],
    }));
    const adminCustomer = vi.fn();
    show("privacy", { findCustomers, adminCustomer, privacyRequests: async () => ({ items: [] }) } as unknown as Partial<Api>);
    const find = async (name: string) => {
      type(labelled("Customer id"), name);
      await tick();
      byText("form", "Find").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    };
    await find(" griselda@example.com ");
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    expect(findCustomers).toHaveBeenLastCalledWith({ email: "griselda@example.com" });
    await find("06 1234 5678");
    await vi.waitFor(() => expect(findCustomers).toHaveBeenLastCalledWith({ phone: "06 1234 5678" }));
    await vi.waitFor(() => expect(text()).toContain("Griselda"));
    await find("+31 6 9999 0000");
    await vi.waitFor(() => expect(text()).toContain("No customer has that id, email address or phone number."));
    expect(text()).not.toContain("Export data");
    expect(adminCustomer).not.toHaveBeenCalled();
  });
});

describe("the customers page", () => {
  it("takes admins from a customer found to their export and erase, and nobody else", async () => {
    const customer = { id: "u_9", name: "Griselda", identities: [{ kind: "phone", address: "+31612345678" }], tier: null };
    const navigate = vi.fn();
    for (const groups of [["admins"], ["supervisors"]]) {
      show("customers", { findCustomers: async () => ({ items: [customer] }) } as unknown as Partial<Api>, groups, undefined, navigate);
      type($("form input"), "+31612345678");
      await tick();
      $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await vi.waitFor(() => expect(text()).toContain("Griselda"));
      const link = byText("a", "Export or erase this customer's data");
      if (groups[0] === "supervisors") {
        expect(link).toBeUndefined();
        continue;
      }
      expect(link.getAttribute("href")).toBe("/settings/privacy/u_9");
      link.click();
      expect(navigate).toHaveBeenCalledWith("/settings/privacy/u_9");
    }
  });
});

describe("a retention saved", () => {
  it("is followed as the job gives it to what is already stored, with what it changed", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    const putPrivacySettings = vi.fn(async () => ({
      ...settings,
      retention: { ...settings.retention, messages_days: 60 },
      version: 4,
      retention_job_id: "j_r",
    }));
    const states = [
      { job_id: "j_r", kind: "retention", status: "running", counts: { conversations: 200, messages: 900 } },
      {
        job_id: "j_r",
        kind: "retention",
        status: "done",
        counts: { conversations: 340, messages: 1500, closed_conversations: 12, inactive_timers: 7 },
      },
    ];
    const privacyJob = vi.fn(async () => states.shift() ?? states[0]);
    show("privacy-settings", { privacySettings: async () => settings, putPrivacySettings, privacyJob } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    type(labelled("Messages and their files"), "60");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(text()).toContain("Giving what is already stored the new retention… 200 conversations so far."));
    await vi.waitFor(
      () =>
        expect(text()).toContain(
          "What was already stored has the new retention: 340 conversations read; dates changed for 1500 messages, 12 resolved conversations and 7 inactive customers.",
        ),
      { timeout: 4000 },
    );
    expect(privacyJob).toHaveBeenCalledWith("j_r");
    expect(putPrivacySettings).toHaveBeenCalledWith(expect.objectContaining({ retention: expect.objectContaining({ messages_days: 60 }) }), 3);
  });

  it("counts one of a kind in the singular", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    const states = [
      { job_id: "j_r", kind: "retention", status: "running", counts: { conversations: 1 } },
      { job_id: "j_r", kind: "retention", status: "done", counts: { conversations: 1, messages: 1, closed_conversations: 1, inactive_timers: 1 } },
    ];
    show("privacy-settings", {
      privacySettings: async () => settings,
      putPrivacySettings: async () => ({ ...settings, version: 4, retention_job_id: "j_r" }),
      privacyJob: async () => states.shift() ?? states[0],
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(text()).toContain("Giving what is already stored the new retention… 1 conversation so far."));
    await vi.waitFor(
      () =>
        expect(text()).toContain(
          "What was already stored has the new retention: 1 conversation read; dates changed for 1 message, 1 resolved conversation and 1 inactive customer.",
        ),
      { timeout: 4000 },
    );
  });

  it("a save whose walk the privacy queue refused is shown saved, with when the walk comes, in en, es and pt", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    const detail =
      "the settings are saved (version 4), but applying the new retention settings to what is already stored could not be queued (job j_r failed): the sweep does it at 2026-12-07T08:06:00Z";
    const said = {
      en: "Saved (version 4). Applying it to what is already stored could not be queued now: the sweep does it at ",
      es: "Guardado (versión 4). Aplicarlo a lo que ya está almacenado no se pudo poner en cola ahora: el barrido lo hace a las ",
      pt: "Salvo (versão 4). Aplicá-lo ao que já está armazenado não pôde entrar na fila agora: a varredura faz isso às ",
    };
    for (const locale of ["en", "es", "pt"] as const) {
      render(null, root()); // each from a fresh page
      const stored = [settings, { ...settings, retention: { ...settings.retention, messages_days: 60 }, version: 4 }];
      const privacySettings = vi.fn(async () => (stored.length > 1 ? stored.shift()! : stored[0]!));
      const putPrivacySettings = vi.fn(async () => {
        throw new ApiError(503, detail, {
          status: 503, detail, code: "walk_not_queued", params: { version: "4", job_id: "j_r", walks_at: "2026-12-07T08:06:00Z" },
        });
      });
      show("privacy-settings", { privacySettings, putPrivacySettings } as unknown as Partial<Api>, ["admins"], undefined, undefined, locale);
      await vi.waitFor(() => expect(root().querySelector("form input")).not.toBeNull());
      $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      const at = formatFull("2026-12-07T08:06:00Z", locale, "UTC");
      await vi.waitFor(() => expect($("form p[role=status]")?.textContent).toBe(`${said[locale]}${at}.`));
      expect(text()).not.toContain("503");
      expect(root().querySelector("[role=alert]")).toBeNull(); // not an error: the settings are saved
      expect(privacySettings).toHaveBeenCalledTimes(2); // read again: the version saved, so the next save is not refused
      expect(text()).toContain(locale === "en" ? "Version 4" : "4");
    }
  });

  it("says when an operator runs the walk when the sweep could not be set either", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    show("privacy-settings", {
      privacySettings: async () => settings,
      putPrivacySettings: async () => {
        throw new ApiError(503, "saved", { status: 503, code: "walk_not_queued", params: { version: "4", job_id: "j_r", walks_at: "" } });
      },
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() =>
      expect(text()).toContain("Saved (version 4). Applying it to what is already stored could not be queued now: an operator runs it."),
    );
  });

  it("a save whose one walk the privacy queue refused follows the other walk it queued, as a save's answer names it", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    const cases = [
      { queued: { retention_job_id: "j_r" }, refused: "j_m", done: "What was already stored has the new retention: 340 conversations read" },
      { queued: { masking_job_id: "j_m" }, refused: "j_r", done: "What was already stored is masked with the patterns: 400 stored items read, 7 written again masked." },
    ];
    for (const { queued, refused, done } of cases) {
      render(null, root()); // each from a fresh page
      const [job_id] = Object.values(queued);
      const kind = "retention_job_id" in queued ? "retention" : "masking";
      const counts = kind === "retention" ? { conversations: 340 } : { messages: 400, messages_masked: 7 };
      const states = [
        { job_id, kind, status: "running", counts: {} },
        { job_id, kind, status: "done", counts },
      ];
      const privacyJob = vi.fn(async () => states.shift() ?? states[0]);
      const stored = [settings, { ...settings, version: 4 }];
      const detail = `the settings are saved (version 4), but ... (job ${refused} failed): the sweep does it at 2026-12-07T08:06:00Z; the ... job ${job_id} is queued`;
      const putPrivacySettings = vi.fn(async () => {
        throw new ApiError(503, detail, {
          status: 503,
          detail,
          code: "walk_not_queued",
          params: { version: "4", job_id: refused, walks_at: "2026-12-07T08:06:00Z", ...queued },
        });
      });
      show("privacy-settings", {
        privacySettings: async () => (stored.length > 1 ? stored.shift()! : stored[0]!),
        putPrivacySettings,
        privacyJob,
      } as unknown as Partial<Api>);
      await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
      $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
      await vi.waitFor(() => expect(text()).toContain("Saved (version 4). Applying it to what is already stored could not be queued now"));
      await vi.waitFor(() => expect(text()).toContain(done), { timeout: 4000 });
      expect(privacyJob).toHaveBeenCalledWith(job_id);
      expect(privacyJob).not.toHaveBeenCalledWith(refused); // the refused walk's job is failed: the words say when it comes
      expect(text()).toContain("Version 4");
    }
  });

  it("a later save that starts no job shows no job line: the previous job's summary is not its", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [],
      version: 3,
    };
    const answers = [
      { ...settings, retention: { ...settings.retention, messages_days: 60 }, version: 4, retention_job_id: "j_r" },
      { ...settings, retention: { ...settings.retention, messages_days: 60, events_days: 300 }, version: 5, retention_job_id: null },
    ];
    const putPrivacySettings = vi.fn(async () => answers.shift()!);
    const privacyJob = vi.fn(async () => ({ job_id: "j_r", kind: "retention", status: "done", counts: { conversations: 340 } }));
    show("privacy-settings", { privacySettings: async () => settings, putPrivacySettings, privacyJob } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    type(labelled("Messages and their files"), "60");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(text()).toContain("What was already stored has the new retention"));
    type(labelled("Reporting events"), "300");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(text()).toContain("Version 5"));
    expect(text()).toContain("Saved");
    expect(text()).not.toContain("What was already stored has the new retention");
    expect(root().querySelector("form [role=status][aria-busy]")).toBeNull();
    expect(privacyJob).toHaveBeenCalledTimes(1);
  });
});

describe("a masking pattern added", () => {
  it("is followed as the job masks what is already stored with it, with how much it read and wrote again", async () => {
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [{ name: "BSN", pattern: "BSN:?\\s?\\d{9}" }],
      version: 3,
    };
    const putPrivacySettings = vi.fn(async () => ({ ...settings, version: 4, masking_job_id: "j_m" }));
    const states = [
      { job_id: "j_m", kind: "masking", status: "running", counts: { messages: 150, notes: 50, messages_masked: 3 } },
      {
        job_id: "j_m",
        kind: "masking",
        status: "done",
        counts: { messages: 300, notes: 80, customers: 20, messages_masked: 4, notes_masked: 1, customers_masked: 2, changed_meanwhile: 1 },
      },
    ];
    const privacyJob = vi.fn(async () => states.shift() ?? states[0]);
    show("privacy-settings", { privacySettings: async () => settings, putPrivacySettings, privacyJob } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(text()).toContain("Masking what is already stored with the patterns… 200 stored items read so far."));
    await vi.waitFor(
      () => expect(text()).toContain("What was already stored is masked with the patterns: 400 stored items read, 7 written again masked."),
      { timeout: 4000 },
    );
    expect(privacyJob).toHaveBeenCalledWith("j_m");
    expect(text()).not.toContain("new retention");
  });
});

describe("a save that masks what is already stored", () => {
  const settings = {
    retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
    masking_patterns: [{ name: "BSN", pattern: "BSN:?\\s?\\d{9}" }, { name: "Order", pattern: "ORD-\\d{6}" }],
    version: 3,
  };
  const page = () => {
    const putPrivacySettings = vi.fn(async (body: typeof settings) => ({ ...settings, ...body, version: 4 }));
    show("privacy-settings", { privacySettings: async () => settings, putPrivacySettings, privacyJob: async () => new Promise(() => undefined) } as unknown as Partial<Api>);
    return putPrivacySettings;
  };
  const rows = () => [...root().querySelectorAll(".masking-row")];
  const save = () => $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  /** A third row, Loyalty, and the BSN's pattern changed; then saved. */
  const addAndChange = async () => {
    await vi.waitFor(() => expect(rows().length).toBe(2));
    byText("button", "Add a pattern").click();
    await vi.waitFor(() => expect(rows().length).toBe(3));
    for (const [row, input, value] of [[2, 0, "Loyalty"], [2, 1, "LOY\\d{8}"], [0, 1, "BSN:?\\s*\\d{9}"]] as const) {
      type(rows()[row]!.querySelectorAll("input")[input]!, value);
      await tick(); // as the admin types: each field's change on the form the last one left
    }
    save();
  };

  it("the help says new messages count within five minutes, what is stored is masked too for good, a removal brings nothing back", async () => {
    page();
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    const help = byText("fieldset p", "Regular expressions").textContent!;
    expect(help).toContain("five minutes");
    expect(help).toContain("masks what is already stored too");
    expect(help).toContain("permanent");
    expect(help).toContain("removing the pattern later brings nothing back");
    expect(es["privacy.maskingHelp"]).toMatch(/cinco minutos.*también lo ya guardado.*definitivo.*quitar el patrón.*no recupera nada/s);
    expect(pt["privacy.maskingHelp"]).toMatch(/cinco minutos.*também o que já está guardado.*definitivo.*remover o padrão.*não recupera nada/s);
  });

  it("a pattern added or changed: the admin confirms in a dialog naming the consequence and those patterns; then it is saved", async () => {
    const put = page();
    await addAndChange();
    const dialog = $<HTMLDialogElement>("dialog");
    await vi.waitFor(() => expect(dialog.open).toBe(true));
    expect(dialog.textContent).toContain("Mask what is already stored?");
    expect(dialog.textContent).toContain("BSN (BSN:?\\s*\\d{9}) and Loyalty (LOY\\d{8})");
    expect(dialog.textContent).not.toContain("ORD-"); // unchanged: not concerned
    expect(dialog.textContent).toContain("cannot be undone");
    expect(dialog.textContent).toContain("removing a pattern later brings nothing back");
    expect(put).not.toHaveBeenCalled();
    const confirm = byText("dialog button", "Save and mask") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    type(dialog.querySelector("input")!, "mask");
    await vi.waitFor(() => expect(confirm.disabled).toBe(false));
    confirm.click();
    await vi.waitFor(() => expect(put).toHaveBeenCalledTimes(1));
    expect(put).toHaveBeenCalledWith(
      expect.objectContaining({
        masking_patterns: [
          { name: "BSN", pattern: "BSN:?\\s*\\d{9}" },
          { name: "Order", pattern: "ORD-\\d{6}" },
          { name: "Loyalty", pattern: "LOY\\d{8}" },
        ],
      }),
      3,
    );
    await vi.waitFor(() => expect(text()).toContain("Saved"));
    expect(dialog.open).toBe(false);
  });

  it("cancelled: nothing is sent and the form stays as the admin left it, unsaved", async () => {
    const put = page();
    await addAndChange();
    const dialog = $<HTMLDialogElement>("dialog");
    await vi.waitFor(() => expect(dialog.open).toBe(true));
    byText("dialog button", "Cancel").click();
    await vi.waitFor(() => expect(dialog.open).toBe(false));
    await tick();
    expect(put).not.toHaveBeenCalled();
    expect(rows().map((r) => [...r.querySelectorAll("input")].map((i) => i.value))).toEqual([
      ["BSN", "BSN:?\\s*\\d{9}"],
      ["Order", "ORD-\\d{6}"],
      ["Loyalty", "LOY\\d{8}"],
    ]);
    expect(text()).not.toContain("Saved");
  });

  it("a pattern removed, or a retention changed, is saved without a dialog: nothing stored is masked by it", async () => {
    const put = page();
    await vi.waitFor(() => expect(rows().length).toBe(2));
    byText(".masking-row button", "Remove").click();
    await vi.waitFor(() => expect(rows().length).toBe(1));
    type(labelled("Messages and their files"), "60");
    await tick();
    save();
    await vi.waitFor(() => expect(put).toHaveBeenCalledTimes(1));
    expect(put).toHaveBeenCalledWith(
      expect.objectContaining({ masking_patterns: [{ name: "Order", pattern: "ORD-\\d{6}" }], retention: expect.objectContaining({ messages_days: 60 }) }),
      3,
    );
    expect($<HTMLDialogElement>("dialog")?.open ?? false).toBe(false);
  });
});

describe("the settings' refusals at their fields", () => {
  it("privacy settings: a bad regular expression under its pattern", async () => {
    const putPrivacySettings = vi.fn(async () => {
      throw problem([{ loc: ["body", "masking_patterns", 0, "pattern"], msg: "Value error, not a valid regular expression" }]);
    });
    show("privacy-settings", {
      privacySettings: async () => ({
        retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
        masking_patterns: [{ name: "card", pattern: "(" }],
        version: 2,
      }),
      putPrivacySettings,
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect($("#masking-0-pattern-error").textContent).toBe("Not a valid regular expression."));
    const input = labelled("Regular expression");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe("masking-0-pattern-error");
    expect($("#masking-0-pattern-error").closest("label")).toBeNull(); // described by the error, not named by it
    expect(putPrivacySettings).toHaveBeenCalledWith(
      expect.objectContaining({ masking_patterns: [{ name: "card", pattern: "(" }] }),
      2,
    );
  });

  it("privacy settings: a refusal is shown at the row it is about when an empty row before it was left out", async () => {
    // the form sends [card, iban] (the empty first row is not sent): the API's masking_patterns.1 is the third row
    const putPrivacySettings = vi.fn(async () => {
      throw problem([{ loc: ["body", "masking_patterns", 1, "pattern"], msg: "Value error, not a valid regular expression" }]);
    });
    show("privacy-settings", {
      privacySettings: async () => ({
        retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
        masking_patterns: [{ name: "", pattern: "" }, { name: "card", pattern: "\\d{16}" }, { name: "iban", pattern: "(" }],
        version: 2,
      }),
      putPrivacySettings,
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(document.querySelector("#masking-2-pattern-error")?.textContent).toBe("Not a valid regular expression."));
    expect(document.querySelector("#masking-1-pattern-error")).toBeNull();
    expect(putPrivacySettings).toHaveBeenCalledWith(
      expect.objectContaining({ masking_patterns: [{ name: "card", pattern: "\\d{16}" }, { name: "iban", pattern: "(" }] }),
      2,
    );
  });

  const privacySettings = async () => ({
    retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
    masking_patterns: [{ name: "card", pattern: "[0-9]{16}" }],
    version: 2,
  });
  const addPattern = async (name: string, pattern: string) => {
    byText("button", "Add a pattern").click();
    await vi.waitFor(() => expect(root().querySelectorAll(".masking-row").length).toBe(2));
    const row = root().querySelectorAll(".masking-row")[1]!;
    type(row.querySelectorAll("input")[0]!, name);
    type(row.querySelectorAll("input")[1]!, pattern);
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    // a pattern added masks what is stored too: the admin confirms it
    const dialog = $<HTMLDialogElement>("dialog");
    await vi.waitFor(() => expect(dialog.open).toBe(true));
    type(dialog.querySelector("input")!, "mask");
    await tick();
    byText("dialog button", "Save and mask").click();
  };

  it("a refusal shown at its fields is not shown again below the form: a short sentence points to them", async () => {
    const why = "Value error, not a valid regular expression: missing ), unterminated subpattern at position 4";
    show("privacy-settings", {
      privacySettings,
      putPrivacySettings: async () => {
        throw problem([{ loc: ["body", "masking_patterns", 1, "pattern"], msg: why }]);
      },
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    await addPattern("order", "ORD-([0-9]+");
    const said = "Not a valid regular expression: missing ), unterminated subpattern at position 4."; // no "Value error"
    await vi.waitFor(() => expect($("#masking-1-pattern-error").textContent).toBe(said));
    expect($("form > p[role=alert]").textContent).toBe("Check the fields marked.");
    expect(text().split(said).length).toBe(2); // once, at its field
    expect(text()).not.toContain("Value error");
    expect(text()).not.toContain("Something went wrong");
    expect(text()).not.toContain("masking_patterns.1.pattern");
  });

  it("a name refused by its pattern says in words what a name may be, not the regular expression", async () => {
    show("privacy-settings", {
      privacySettings,
      putPrivacySettings: async () => {
        throw problem([{ loc: ["body", "masking_patterns", 1, "name"], msg: "String should match pattern '^[A-Za-z][A-Za-z0-9 _-]{0,31}$'" }]);
      },
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    await addPattern("", "ORD-[0-9]+");
    await vi.waitFor(() => expect($("#masking-1-name-error")).not.toBeNull());
    expect($("#masking-1-name-error").textContent).toBe(
      "Letters (A–Z, without accents), digits, spaces, _ and -, starting with a letter; at most 32 characters.",
    );
    expect(text()).not.toContain("should match pattern");
    expect(text()).not.toContain("{0,31}");
    expect($("form > p[role=alert]").textContent).toBe("Check the fields marked.");
  });

  it("a refusal the form has no field for is still said below it, without those it shows at their fields", async () => {
    show("privacy-settings", {
      privacySettings,
      putPrivacySettings: async () => {
        throw problem([
          { loc: ["body", "masking_patterns"], msg: "List should have at most 20 items after validation, not 21" },
          { loc: ["body", "masking_patterns", 1, "pattern"], msg: "Value error, not a valid regular expression" },
        ]);
      },
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Masking patterns"));
    await addPattern("order", "ORD-([0-9]+");
    await vi.waitFor(() => expect($("#masking-1-pattern-error").textContent).toBe("Not a valid regular expression."));
    expect($("form > p[role=alert]").textContent).toBe("masking_patterns: List should have at most 20 items after validation, not 21.");
  });

  it("CSAT: a refusal of the whole survey is said above the save button, once", async () => {
    show("csat", {
      csat: async () => ({ enabled: true, when: "always", delay_s: 0, comment_prompt: true, answer_window_s: 604800, comment_window_s: 600, version: 1 }),
      putCsat: async () => {
        throw problem([{ loc: ["body"], msg: "Value error, when=teams needs the list of teams" }]);
      },
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Wait after the resolve"));
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect($("#csat-form-error").textContent).toBe("When=teams needs the list of teams."));
    expect(text().split("hen=teams needs the list of teams").length).toBe(2);
    expect($("form > p[role=alert]").textContent).toBe("Check the fields marked.");
  });

  it("CSAT: a refused delay under the delay, in the form's own field", async () => {
    const putCsat = vi.fn(async () => {
      throw problem([{ loc: ["body", "delay_s"], msg: "Input should be less than or equal to 86400" }]);
    });
    show("csat", {
      csat: async () => ({ enabled: true, when: "always", delay_s: 0, comment_prompt: true, answer_window_s: 604800, comment_window_s: 600, version: 1 }),
      putCsat,
    } as unknown as Partial<Api>);
    await vi.waitFor(() => expect(text()).toContain("Wait after the resolve"));
    type(labelled("Wait after the resolve"), "2000");
    await tick();
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect($("#csat-delay_minutes-error").textContent).toContain("less than or equal to 86400"));
    expect(putCsat).toHaveBeenCalledWith(expect.objectContaining({ delay_s: 120000, channels: null, teams: null }), 1);
  });

  it("CSAT: supervisors read it without a save button", async () => {
    show("csat", {
      csat: async () => ({ enabled: false, when: "always", delay_s: 0, comment_prompt: true, answer_window_s: 604800, comment_window_s: 600, version: 0 }),
    } as unknown as Partial<Api>, ["supervisors"]);
    await vi.waitFor(() => expect(text()).toContain("Ask customers to rate"));
    expect(byText("button", "Save")).toBeUndefined();
    expect($<HTMLFieldSetElement>("form fieldset").disabled).toBe(true);
  });
});

describe("the customer profile's way to the privacy page", () => {
  const profile = { id: "c 7", name: "Griselda", identities: [], conversations: [], timeline: [] };
  const showProfile = (groups: string[], navigate: (path: string) => void = () => undefined) =>
    render(
      <AppContext.Provider value={{ ...testContext(), navigate, who: { id: "alice", name: "Alice", groups } }}>
        <CustomerProfile
          conv={{ id: "k1", customer: { id: "c 7" } } as unknown as Conversation}
          customer={{ profile: profile as unknown as CustomerData["profile"], duplicates: [], error: "", changed: async () => undefined, more: async () => undefined }}
        />
      </AppContext.Provider>,
      root(),
    );

  it("is there for admins, and goes to the customer's privacy page", () => {
    const navigate = vi.fn();
    showProfile(["admins"], navigate);
    const link = byText("a", "Export or erase this customer's data") as HTMLAnchorElement;
    expect(link.getAttribute("href")).toBe("/settings/privacy/c%207");
    link.click();
    expect(navigate).toHaveBeenCalledWith("/settings/privacy/c%207");
  });

  it.each([[["supervisors"]], [[]]])("is not there for %j", (groups) => {
    showProfile(groups);
    expect(root().querySelector("#history-title")).not.toBeNull(); // the profile is there
    expect(byText("a", "Export or erase")).toBeUndefined();
  });
});

describe("a pattern stored before a check came", () => {
  it("shows why at its row while it is unchanged, and nothing once the admin changes it", async () => {
    const why = "matches a text as short as 3 characters (as \\d+ matches the 42 of a size)";
    const settings = {
      retention: { messages_days: null, closed_conversations_days: null, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [{ name: "BSN", pattern: "BSN:?\\s?\\d{9}" }, { name: "Ref", pattern: "\\d{3}" }],
      masking_warnings: [{ loc: ["body", "masking_patterns", 1, "pattern"], msg: why }],
      version: 3,
    };
    show("privacy-settings", { privacySettings: async () => settings } as unknown as Partial<Api>);
    const rows = () => [...root().querySelectorAll(".masking-row")];
    await vi.waitFor(() => expect(rows().length).toBe(2));
    expect(rows()[1]!.textContent).toContain(`kept as it is while unchanged: ${why}`);
    expect(rows()[0]!.textContent).not.toContain("kept as it is");
    type(rows()[1]!.querySelectorAll("input")[1]!, "REF-\\d{6}");
    await vi.waitFor(() => expect(rows()[1]!.textContent).not.toContain("kept as it is"));
  });
});
