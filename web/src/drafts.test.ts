// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from "vitest";
import { Drafts } from "./drafts";

beforeEach(() => sessionStorage.clear());

describe("Drafts", () => {
  it("are there again after a reload of the tab, each agent's apart, until cleared at sign-out", () => {
    const alice = new Drafts(sessionStorage, "shopdesk.drafts.alice");
    alice.set("c1", { text: "half a reply", note: "" });
    alice.set("c2", { text: "", note: "ask bob" });
    alice.delete("c2");

    // the page reloads: a new store reads them from the tab's storage
    const again = new Drafts(sessionStorage, "shopdesk.drafts.alice");
    expect(again.get("c1")).toEqual({ text: "half a reply", note: "" });
    expect(again.has("c2")).toBe(false);
    expect(new Drafts(sessionStorage, "shopdesk.drafts.bob").has("c1")).toBe(false);

    again.clear();
    expect(new Drafts(sessionStorage, "shopdesk.drafts.alice").has("c1")).toBe(false);
    expect(sessionStorage.getItem("shopdesk.drafts.alice")).toBeNull();
  });

  it("give back a template kept with its key after a reload, and none of another shape", () => {
    const kept = { name: "order_update", language: "en_US", parameters: ["#1001"], key: "k-1" };
    sessionStorage.setItem(
      "shopdesk.drafts.alice",
      JSON.stringify({
        w1: { text: "", note: "", template: kept },
        w2: { text: "half a reply", note: "", template: { name: "order_update", language: "en_US", parameters: "#1001", key: "k-2" } },
      }),
    );
    const again = new Drafts(sessionStorage, "shopdesk.drafts.alice");
    expect(again.get("w1")?.template).toEqual(kept);
    expect(again.get("w2")).toEqual({ text: "half a reply", note: "" });
  });

  it("start empty from a storage that holds something else under their key", () => {
    sessionStorage.setItem("shopdesk.drafts.alice", "{not json");
    expect(new Drafts(sessionStorage, "shopdesk.drafts.alice").has("c1")).toBe(false);
  });
});
