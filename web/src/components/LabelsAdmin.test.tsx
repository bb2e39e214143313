// @vitest-environment happy-dom
// Two admins editing one label: a save goes over the version edited; refused (409), the page shows the latest.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Api, type Label } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { LabelsAdmin } from "./LabelsAdmin";

const root = eachRoot();

describe("saving a label someone else saved meanwhile", () => {
  it("saves over the version edited, and after a refusal shows the latest and saves over that", async () => {
    let current: Label = { id: "vip", name: "VIP", color: "#aa0000", retired: false, version: 1 };
    const putLabel = vi.fn(async (_id: string, content: { name: string; color: string }, version?: number) => {
      if (version !== current.version) throw new ApiError(409, `label vip changed meanwhile (now version ${current.version})`, {});
      current = { ...current, ...content, version: current.version + 1 };
      return current;
    });
    const api = { adminLabels: async () => ({ items: [current] }), putLabel, labels: async () => ({ items: [current] }) };
    const store = new Store(api as unknown as Api);
    store.loadTools = async () => undefined; // the inbox's menus: not this page's concern
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <LabelsAdmin />
      </AppContext.Provider>,
      root(),
    );
    const edit = () => [...root().querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === "Edit: VIP");
    const name = () => root().querySelectorAll<HTMLInputElement>("form input")[1]!;
    await vi.waitFor(() => expect(edit()).toBeDefined());
    edit()!.click();
    await vi.waitFor(() => expect(name().value).toBe("VIP"));
    current = { ...current, name: "VIP (theirs)", version: 2 }; // someone else saves meanwhile
    name().value = "VIP (mine)";
    name().dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    name().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(root().textContent).toContain("Someone changed this meanwhile"));
    expect(putLabel.mock.calls[0]![2]).toBe(1);
    await vi.waitFor(() => expect(name().value).toBe("VIP (theirs)")); // their version, to change again
    name().closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(putLabel).toHaveBeenCalledTimes(2));
    expect(putLabel.mock.calls[1]![2]).toBe(2);
  });

  it("creates a new label only as new: an id already taken is refused, not overwritten", async () => {
    const putLabel = vi.fn(async (): Promise<Label> => {
      throw new ApiError(409, "a label with id vip exists already; choose another id, or edit that one", {
        code: "exists", params: { id: "vip" },
      });
    });
    const api = { adminLabels: async () => ({ items: [] }), putLabel };
    const store = new Store(api as unknown as Api);
    store.loadTools = async () => undefined;
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <LabelsAdmin />
      </AppContext.Provider>,
      root(),
    );
    const inputs = () => root().querySelectorAll<HTMLInputElement>("form input");
    await vi.waitFor(() => expect(inputs().length).toBeGreaterThan(1));
    inputs()[0]!.value = "vip"; // typed at once, before the page's first effects ran: kept
    inputs()[0]!.dispatchEvent(new Event("input", { bubbles: true }));
    inputs()[1]!.value = "VIP";
    inputs()[1]!.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    inputs()[0]!.closest("form")!.requestSubmit();
    await vi.waitFor(() => expect(putLabel).toHaveBeenCalledTimes(1));
    expect(putLabel.mock.calls[0]).toEqual(["vip", { name: "VIP", color: "#2f80ed" }, 0]);
    // and the page says the id is taken, not that someone changed something meanwhile
    await vi.waitFor(() =>
      expect(root().textContent).toContain("There is one with the id vip already: choose another id, or edit that one from the list."),
    );
    expect(root().textContent).not.toContain("changed this meanwhile");
  });
});

describe("retiring a label that macros add", () => {
  it("says which macros add it, and retires it only when the admin insists", async () => {
    let current: Label = { id: "qa-vip", name: "QA VIP", color: "#f2c94c", retired: false, version: 1 };
    const retireLabel = vi.fn(async (_id: string, retired: boolean, force?: boolean): Promise<Label> => {
      if (retired && !force) {
        throw new ApiError(409, "label qa-vip is added by the macro 'QA greet': …", {
          code: "label_in_macros", params: { label: "qa-vip", macros: "'QA greet'", count: "1" },
        });
      }
      current = { ...current, retired, version: current.version + 1 };
      return current;
    });
    const api = { adminLabels: async () => ({ items: [current] }), retireLabel };
    const store = new Store(api as unknown as Api);
    store.loadTools = async () => undefined;
    render(
      <AppContext.Provider value={{ ...testContext(store), who: { id: "alice", name: "Alice", groups: ["admins"] } }}>
        <LabelsAdmin />
      </AppContext.Provider>,
      root(),
    );
    const button = (text: string) => [...root().querySelectorAll("button")].find((b) => b.textContent === text);
    await vi.waitFor(() => expect(button("Retire: QA VIP")).toBeDefined());
    button("Retire: QA VIP")!.click();
    await vi.waitFor(() =>
      expect(root().textContent).toContain(
        "Macros add this label: 'QA greet'. Once it is retired they skip it. Change them first, or retire it anyway.",
      ),
    );
    expect(retireLabel.mock.calls[0]).toEqual(["qa-vip", true]);
    expect(current.retired).toBe(false);
    button("Retire anyway: QA VIP")!.click();
    await vi.waitFor(() => expect(retireLabel).toHaveBeenCalledTimes(2));
    expect(retireLabel.mock.calls[1]).toEqual(["qa-vip", true, true]);
    await vi.waitFor(() => expect(button("Restore: QA VIP")).toBeDefined());
    expect(button("Retire anyway: QA VIP")).toBeUndefined();
  });
});
