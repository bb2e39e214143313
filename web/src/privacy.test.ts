import { describe, expect, it } from "vitest";
import type { PrivacyJob } from "./api";
import {
  auditQuery,
  changes,
  csatForm,
  csatFromForm,
  fieldErrors,
  followJob,
  inTurns,
  isoFromLocal,
  lastLookWords,
  maskingAdded,
  nameKind,
  namesOf,
  privacyForm,
  privacyFromForm,
  recordWhat,
  refusalWords,
} from "./privacy";
import { translator } from "./i18n";

describe("the audit log's filter", () => {
  it("sends the admin's local times as ISO instants, and leaves out what is empty", () => {
    const local = "2026-12-05T09:30";
    expect(isoFromLocal(local)).toBe(new Date(2026, 11, 5, 9, 30).toISOString());
    expect(isoFromLocal("")).toBe("");
    expect(isoFromLocal("not a date")).toBe("");
    expect(auditQuery({ actor: " alice ", customer_id: "", from: local, to: "" })).toEqual({
      actor: "alice",
      from: new Date(2026, 11, 5, 9, 30).toISOString(),
    });
  });

  it("asks for the refused attempts only, or the others, and for every record when no outcome is chosen", () => {
    const filter = { actor: "", customer_id: "", from: "", to: "" };
    expect(auditQuery({ ...filter, outcome: "denied" })).toEqual({ outcome: "denied" });
    expect(auditQuery({ ...filter, outcome: "allowed", actor: "bob" })).toEqual({ actor: "bob", outcome: "allowed" });
    expect(auditQuery({ ...filter, outcome: "" })).toEqual({});
    expect(auditQuery(filter)).toEqual({});
  });

  it("sends an agent typed by name, or by id in other capitals, as the id the trail keeps", () => {
    const agents = [
      { id: "alice", name: "Alice Example" },
      { id: "Bob", name: "Bob Builder" },
      { id: "bob", name: "Another Bob" },
    ];
    const actor = (typed: string) => auditQuery({ actor: typed, customer_id: "", from: "", to: "" }, agents).actor;
    expect(actor(" alice example ")).toBe("alice");
    expect(actor("ALICE")).toBe("alice");
    expect(actor("bob")).toBe("bob"); // an exact id first
    expect(actor("Bob")).toBe("Bob");
    expect(actor("system")).toBe("system"); // not an agent: as typed
    expect(actor("")).toBeUndefined();
  });

  it("asks for the lists that showed the customer only with a customer: the API refuses lists without one", () => {
    const filter = { actor: "", customer_id: " u_7 ", from: "", to: "" };
    expect(auditQuery({ ...filter, lists: true })).toEqual({ customer_id: "u_7", lists: true });
    expect(auditQuery({ ...filter, lists: false })).toEqual({ customer_id: "u_7" });
    expect(auditQuery({ ...filter, customer_id: "  ", lists: true })).toEqual({});
    expect(auditQuery({ ...filter, actor: "alice", customer_id: "", lists: true })).toEqual({ actor: "alice" });
  });
});

describe("a record's changes", () => {
  it("lists only the fields that changed, nested ones by their path", () => {
    const before = { enabled: false, when: "always", retention: { audit_days: 730, events_days: 400 }, channels: null };
    const after = { enabled: true, when: "always", retention: { audit_days: 365, events_days: 400 }, channels: ["sms"] };
    expect(changes(before, after)).toEqual([
      { field: "enabled", before: "false", after: "true" },
      { field: "retention.audit_days", before: "730", after: "365" },
      { field: "channels", before: "—", after: '["sms"]' },
    ]);
  });

  it("shows a value that changed as a whole, and a record with only an after", () => {
    expect(changes("open", "resolved")).toEqual([{ field: "", before: "open", after: "resolved" }]);
    expect(changes(null, { tier: "vip" })).toEqual([{ field: "tier", before: "—", after: "vip" }]);
    expect(changes({ tier: "vip" }, "gone")).toEqual([{ field: "", before: '{"tier":"vip"}', after: "gone" }]);
    expect(changes(undefined, undefined)).toEqual([]);
    expect(changes({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it("names what was done, with the target unless the action already has it", () => {
    const record = { id: "a1", at: "2026-12-05T10:00:00Z", actor: "alice", action: "customer.export", outcome: "allowed" as const };
    expect(recordWhat({ ...record, target: "customer_id=c_1" })).toBe("customer.export (customer_id=c_1)");
    expect(recordWhat(record)).toBe("customer.export");
  });
});

describe("a 422 at its fields", () => {
  it("keys each error by its field's path without `body`, the rest apart", () => {
    const body = {
      status: 422,
      errors: [
        { loc: ["body", "masking_patterns", 0, "pattern"], msg: "Value error, not a valid regular expression" },
        { loc: ["body", "retention", "audit_days"], msg: "Input should be less than or equal to 3650" },
        { loc: ["body", "retention", "audit_days"], msg: "second" },
        { loc: ["body"], msg: "Value error, when=teams needs the list of teams" },
      ],
    };
    const { fields, rest } = fieldErrors(body);
    expect(fields.get("masking_patterns.0.pattern")).toEqual(["Value error, not a valid regular expression"]);
    expect(fields.get("retention.audit_days")).toEqual(["Input should be less than or equal to 3650", "second"]);
    expect(rest).toEqual(["Value error, when=teams needs the list of teams"]);
    expect(fieldErrors({ detail: "nope" }).fields.size).toBe(0);
  });

  it("says in words what a field's pattern allows, not the regular expression; other refusals as the API says them, as sentences", () => {
    const name = "String should match pattern '^[A-Za-z][A-Za-z0-9 _-]{0,31}$'";
    expect(refusalWords(name, translator("en"))).toBe(
      "Letters (A–Z, without accents), digits, spaces, _ and -, starting with a letter; at most 32 characters.",
    );
    expect(refusalWords(name, translator("es"))).toContain("empezando por una letra");
    expect(refusalWords("String should match pattern '^[a-z]{2}$'", translator("en"))).toBe("Not in the form this field takes.");
    const other = "Input should be less than or equal to 3650";
    expect(refusalWords(other, translator("pt"))).toBe(`${other}.`); // as a sentence
    // a validator's own words without pydantic's "Value error, " before them
    const regex = "Value error, not a valid regular expression: unterminated character set at position 9";
    expect(refusalWords(regex, translator("en"))).toBe("Not a valid regular expression: unterminated character set at position 9.");
  });
});

describe("the settings forms", () => {
  it("privacy: empty days are kept until erased, blank masking rows are dropped", () => {
    const saved = {
      retention: { messages_days: null, closed_conversations_days: 30, events_days: 400, audit_days: 730, dedupe_markers_days: 90 },
      masking_patterns: [{ name: "card", pattern: "\\d{16}" }],
      version: 3,
    };
    const form = privacyForm(saved);
    expect(form.retention.messages_days).toBe("");
    form.retention.closed_conversations_days = "";
    form.retention.audit_days = "365";
    form.masking.push({ name: " iban ", pattern: "[A-Z]{2}\\d{2}" }, { name: "", pattern: "" });
    expect(privacyFromForm(form)).toEqual({
      retention: {
        messages_days: null,
        closed_conversations_days: null,
        inactive_customers_days: null, // settings saved before the class existed: kept until erased
        events_days: 400,
        audit_days: 365,
        dedupe_markers_days: 90,
      },
      masking_patterns: [
        { name: "card", pattern: "\\d{16}" },
        { name: "iban", pattern: "[A-Z]{2}\\d{2}" },
      ],
    });
  });

  it("privacy: inactive customers are erased after the days given, or kept when left empty", () => {
    const form = privacyForm({ retention: { inactive_customers_days: 730 }, masking_patterns: [], version: 1 } as never);
    expect(form.retention.inactive_customers_days).toBe("730");
    form.retention.inactive_customers_days = "365";
    expect(privacyFromForm(form).retention.inactive_customers_days).toBe(365);
    form.retention.inactive_customers_days = "";
    expect(privacyFromForm(form).retention.inactive_customers_days).toBeNull();
  });

  it("CSAT: times in the form's units both ways, lists only for the `when` that uses them", () => {
    const saved = {
      enabled: true,
      when: "teams" as const,
      channels: ["sms" as const],
      teams: ["returns"],
      template: null,
      delay_s: 300,
      comment_prompt: true,
      answer_window_s: 7 * 86400,
      comment_window_s: 600,
    };
    const form = csatForm(saved);
    expect(form).toMatchObject({ delay_minutes: "5", answer_window_hours: "168", comment_window_minutes: "10", template: "" });
    expect(csatFromForm(form)).toEqual({ ...saved, channels: null });
    expect(csatFromForm({ ...form, when: "always", delay_minutes: "1.5", template: " csat_survey " })).toMatchObject({
      teams: null,
      channels: null,
      delay_s: 90,
      template: "csat_survey",
    });
  });
});

describe("an export or erase job", () => {
  const job = (status: PrivacyJob["status"], extra: Partial<PrivacyJob> = {}): PrivacyJob => ({
    job_id: "j_1",
    kind: "export",
    customer_id: "c_1",
    status,
    ...extra,
  });

  it("is read until it is done, each state seen", async () => {
    const answers = [job("running"), job("running"), job("done", { download_url: "https://files.example/x.zip" })];
    const seen: string[] = [];
    const waits: number[] = [];
    const last = await followJob(
      async () => answers.shift()!,
      (j) => seen.push(j.status),
      () => false,
      async (ms) => void waits.push(ms),
    );
    expect(seen).toEqual(["running", "running", "done"]);
    expect(waits).toEqual([1500, 1500]);
    expect(last?.download_url).toBe("https://files.example/x.zip");
  });

  it("stops at a failure, and when the page is left", async () => {
    expect((await followJob(async () => job("failed", { error: "boom" }), () => undefined, () => false))?.status).toBe("failed");
    let reads = 0;
    let left = false;
    const last = await followJob(
      async () => {
        reads += 1;
        return job("running");
      },
      () => (left = true),
      () => left,
      async () => undefined,
    );
    expect(last).toBeNull();
    expect(reads).toBe(1);
  });

  it("says a done erase is not complete while its last look at uploads is to come or failed", () => {
    const t = translator("en");
    const erase = (last_look?: PrivacyJob["last_look"]) => job("done", { kind: "erase", last_look });
    expect(lastLookWords(job("done"), t, "en")).toBeNull();
    const pending = lastLookWords(erase({ status: "pending", due_at: "2026-12-07T09:40:00Z" }), t, "en", "UTC");
    expect(pending).toEqual({ text: expect.stringContaining("Not complete yet"), failed: false });
    expect(pending?.text).toContain("9:40");
    const failed = lastLookWords(erase({ status: "failed", error: "stopped after 5 attempts (FilesNotDeleted)" }), t, "en");
    expect(failed).toEqual({
      text: expect.stringMatching(/^Not complete: .*\(stopped after 5 attempts \(FilesNotDeleted\)\)/),
      failed: true,
    });
    expect(lastLookWords(erase({ status: "done", files: 2 }), t, "en")).toEqual({
      text: "Its last look at files uploaded after the erase deleted 2 files.",
      failed: false,
    });
    const es = lastLookWords(erase({ status: "done", files: 1 }), translator("es"), "es");
    expect(es?.text).toContain("eliminó 1 archivo.");
  });

  it("says a done erase whose last look never came is overdue and not complete, as an error", () => {
    const erase = (last_look?: PrivacyJob["last_look"]) => job("done", { kind: "erase", last_look });
    const overdue = { status: "overdue", due_at: "2026-12-07T09:40:00Z" } as const;
    const en = lastLookWords(erase(overdue), translator("en"), "en", "UTC");
    expect(en).toEqual({ text: expect.stringMatching(/^Not complete: .*was due at .*9:40.* has not come\./), failed: true });
    expect(en?.text).not.toContain("Not complete yet");
    expect(lastLookWords(erase(overdue), translator("es"), "es", "UTC")?.text).toMatch(/^No está completo: .*no se ha hecho/);
    expect(lastLookWords(erase(overdue), translator("pt"), "pt", "UTC")?.text).toMatch(/^Não está completo: .*não aconteceu/);
  });
});

describe("names of customers to erase", () => {
  it("are read one per line or separated by commas or semicolons, trimmed, each once, and sent in turns", () => {
    expect(namesOf(" ada@x.example\n+31 6 1234 5678 ; u_1,,\n\nada@x.example ")).toEqual([
      "ada@x.example",
      "+31 6 1234 5678",
      "u_1",
    ]);
    expect(inTurns([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(inTurns(Array.from({ length: 250 }, (_, i) => i)).map((turn) => turn.length)).toEqual([100, 100, 50]);
  });
});

describe("a name the privacy page finds a customer by", () => {
  it("is an email address, a phone number in any common writing, or else a customer id", () => {
    expect(nameKind("ada@x.example")).toBe("email");
    for (const phone of ["+31612345678", "+31 6 1234 5678", "06-1234-5678", "(415) 555.0101", "0612345678"]) {
      expect(nameKind(phone)).toBe("phone");
    }
    for (const id of ["u_01M93RK6Q4DFTB7886VTXWCZ7P", "c_7", "12345", "u_1"]) expect(nameKind(id)).toBe("id");
  });
});

describe("the masking patterns a save adds or changes", () => {
  const bsn = { name: "BSN", pattern: "BSN:?\\s?\\d{9}" };
  const order = { name: "Order", pattern: "ORD-\\d{6}" };
  it("are those new, renamed or with another expression, as the API starts its masking job for them", () => {
    expect(maskingAdded([bsn], [bsn, order])).toEqual([order]);
    expect(maskingAdded([bsn, order], [{ ...bsn, pattern: "BSN\\d{9}" }, order])).toEqual([{ ...bsn, pattern: "BSN\\d{9}" }]);
    expect(maskingAdded([bsn], [{ ...bsn, name: "National id" }])).toEqual([{ ...bsn, name: "National id" }]);
  });
  it("are none when patterns are only taken away or put in another order", () => {
    expect(maskingAdded([bsn, order], [order])).toEqual([]);
    expect(maskingAdded([bsn, order], [order, bsn])).toEqual([]);
    expect(maskingAdded([bsn], [])).toEqual([]);
  });
});
