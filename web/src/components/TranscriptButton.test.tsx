// @vitest-environment happy-dom
// Email transcript: the customer gets one email for one press, a double click included.
import { render } from "preact";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import { AppContext } from "../context";
import { Store } from "../store";
import { eachRoot, testContext } from "../testContext";
import { testConversation } from "../testConversation";
import { TranscriptButton } from "./TranscriptButton";

const root = eachRoot();

describe("TranscriptButton", () => {
  it("sends one transcript however often it is pressed while the first is on its way, and keeps the focus", async () => {
    const answers: (() => void)[] = [];
    const sendTranscript = vi.fn(() => new Promise((resolve) => answers.push(() => resolve({ to: "ann@example.com" }))));
    const store = new Store({ sendTranscript, conversation: async () => testConversation("c1") } as unknown as Api);
    render(
      <AppContext.Provider value={testContext(store)}>
        <TranscriptButton conv={testConversation("c1")} />
      </AppContext.Provider>,
      root(),
    );
    const button = () => root().querySelector<HTMLButtonElement>("button")!;
    await new Promise((resolve) => setTimeout(resolve, 100)); // its effects, after paint: shown, it takes no focus
    expect(document.activeElement).toBe(document.body);
    button().focus();
    button().click(); // a double click: the second before the API answers the first
    button().click();
    button().blur(); // as the browser does with a focused button disabled
    expect(document.activeElement).toBe(document.body);
    await vi.waitFor(() => expect(button().disabled).toBe(true));
    button().click();
    expect(sendTranscript).toHaveBeenCalledTimes(1);
    answers.forEach((answer) => answer());
    await vi.waitFor(() => expect(button().disabled).toBe(false));
    expect(store.state.toast?.text).toContain("ann@example.com");
    await vi.waitFor(() => expect(document.activeElement).toBe(button())); // the keyboard's place kept
  });
});
