// @vitest-environment happy-dom
// The open conversation's status buttons, from the keyboard: the one pressed goes as the status changes.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api, Conversation } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { ConversationActions } from "./ConversationActions";

const root = eachRoot();

describe("ConversationActions", () => {
  it("keeps the keyboard in the actions when the button pressed goes with the status it set (Mark pending, Reopen)", async () => {
    let current: Conversation = testConversation("c1", { status: "open" });
    const api = {
      setStatus: vi.fn(async (_id: string, status: Conversation["status"]) => (current = { ...current, status })),
    } as unknown as Api;
    const store = new Store(api);
    const show = () =>
      render(
        <AppContext.Provider value={testContext(store)}>
          <ConversationActions conv={current} onOpen={() => undefined} />
        </AppContext.Provider>,
        root(),
      );
    show();
    await new Promise((resolve) => setTimeout(resolve, 100)); // its effects, after paint
    for (const [press, gone] of [["Mark pending", "Mark pending"], ["Reopen", "Reopen"]] as const) {
      const button = [...root().querySelectorAll<HTMLButtonElement>("button")].find((b) => b.textContent === press)!;
      button.focus();
      button.click();
      await vi.waitFor(() => expect(api.setStatus).toHaveBeenCalled());
      await new Promise((resolve) => setTimeout(resolve, 0));
      show(); // the conversation as the store now has it: the button pressed is gone, and the focus with it
      expect([...root().querySelectorAll("button")].map((b) => b.textContent)).not.toContain(gone);
      await new Promise((resolve) => setTimeout(resolve, 100)); // its effects, after paint
      expect(document.activeElement?.tagName).toBe("BUTTON");
      expect(root().querySelector(".actions")!.contains(document.activeElement)).toBe(true);
      vi.mocked(api.setStatus).mockClear();
    }
  });
});
