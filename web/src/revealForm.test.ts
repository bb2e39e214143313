// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { revealForm } from "./revealForm";

afterEach(() => {
  document.body.innerHTML = "";
  vi.useRealTimers();
});

describe("revealForm", () => {
  it("scrolls the form into view and focuses its first field to fill in, after the click's render", () => {
    vi.useFakeTimers();
    document.body.innerHTML = '<form><input name="id" readonly><input name="title"><textarea></textarea></form>';
    const form = document.querySelector("form")!;
    const scrolled = vi.fn();
    form.scrollIntoView = scrolled;
    revealForm({ current: form });
    expect(scrolled).not.toHaveBeenCalled(); // the form is filled in by the render that follows the click
    vi.runAllTimers();
    expect(scrolled).toHaveBeenCalledOnce();
    expect(document.activeElement?.getAttribute("name")).toBe("title");
  });

  it("does nothing when the form is gone", () => {
    vi.useFakeTimers();
    revealForm({ current: null });
    vi.runAllTimers();
    expect(document.activeElement).toBe(document.body);
  });
});
