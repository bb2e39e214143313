// @vitest-environment happy-dom
// The customer's own timeline: a merge with a customer erased since says so, by id, without the reason the agent
// wrote (the erase blanked it: it often named the person).
import { render } from "preact";
import { describe, expect, it } from "vitest";
import type { Conversation } from "../api";
import { AppContext } from "../context";
import type { Locale } from "../i18n";
import { eachRoot, testContext } from "../testContext";
import { CustomerProfile, type CustomerData } from "./CustomerProfile";

const root = eachRoot();

const at = "2026-12-01T09:00:00Z";
const timeline = [
  { id: "mg_1", kind: "merged", at, by: "alice", reason: "", other_id: "u_gone", merge_id: "mg_1", other_erased: true },
  { id: "ev_2", kind: "unmerged", at, by: "alice", reason: "", other_id: "u_gone", merge_id: "mg_1", other_erased: true },
  { id: "mg_3", kind: "merged_into", at, by: "bob", reason: "same shop account", other_id: "u_kept", merge_id: "mg_3" },
];

function showTimeline(locale: Locale = "en") {
  const profile = { id: "u_1", name: null, identities: [], conversations: [], timeline };
  render(
    <AppContext.Provider value={testContext(undefined, locale)}>
      <CustomerProfile
        conv={{ id: "k1", customer: { id: "u_1" } } as unknown as Conversation}
        customer={{ profile: profile as unknown as CustomerData["profile"], duplicates: [], error: "", changed: async () => undefined, more: async () => undefined }}
      />
    </AppContext.Provider>,
    root(),
  );
  return [...root().querySelectorAll(".customer-events li span")].map((e) => e.textContent);
}

describe("a merge with a customer erased since", () => {
  it("names them by id as erased, with no reason, and the undo is not offered", () => {
    const lines = showTimeline();
    expect(lines).toContain("alice merged u_gone, a customer erased since, into this customer");
    expect(lines).toContain("alice undid the merge with u_gone, a customer erased since");
    expect(lines).toContain("bob merged this customer into u_kept: same shop account");
    expect(lines.filter((l) => l?.endsWith(": "))).toEqual([]);
    expect(root().querySelector(".customer-events button")).toBeNull();
  });

  it.each([["es", "un cliente borrado después"], ["pt", "um cliente apagado depois"]] as const)("says so in %s", (locale, words) => {
    expect(showTimeline(locale).filter((l) => l?.includes(words))).toHaveLength(2);
  });
});
