// @vitest-environment happy-dom
// A settings form is filled when the pick in its list changes, never as the page mounts (that wiped what was typed).
import { render } from "preact";
import { useState } from "preact/hooks";
import { describe, expect, it, vi } from "vitest";
import { eachRoot } from "./testContext";
import { useChosen } from "./useChosen";

const root = eachRoot();

describe("useChosen", () => {
  it("shows a pick when it changes, not at mount, and not again for the same pick", async () => {
    const show = vi.fn();
    let pick: (item: string | null) => void = () => undefined;
    function Page() {
      const [chosen, setChosen] = useState<string | null>(null);
      pick = setChosen;
      useChosen(chosen, show);
      return <p>{chosen ?? "new"}</p>;
    }
    render(<Page />, root());
    await new Promise((resolve) => setTimeout(resolve, 10)); // the page's first effects have run
    expect(show).not.toHaveBeenCalled();
    pick("vip");
    await vi.waitFor(() => expect(show).toHaveBeenCalledWith("vip"));
    pick("vip");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(show).toHaveBeenCalledTimes(1);
    pick(null); // + New after an edit: the blanks again
    await vi.waitFor(() => expect(show).toHaveBeenLastCalledWith(null));
    expect(show).toHaveBeenCalledTimes(2);
  });
});
