import { render } from "preact";
import { afterEach, beforeEach } from "vitest";
import type { Api } from "./api";
import type { Auth } from "./auth";
import type { AppContextValue } from "./context";
import { translator, type Locale } from "./i18n";
import { Store } from "./store";

/** The app's context for a component under test: alice signed in, in ``locale``, UTC, nothing wired to a server. */
export function testContext(store: Store = new Store({} as Api), locale: Locale = "en"): AppContextValue {
  return {
    store,
    auth: {} as Auth,
    who: { id: "alice", name: "Alice", groups: [] },
    t: translator(locale),
    locale,
    setLocale: () => undefined,
    timeZone: "UTC",
    navigate: () => undefined,
  };
}

/** A fresh element in the document for each test of the file, rendered empty and removed after it. */
export function eachRoot(): () => HTMLElement {
  let root: HTMLElement;
  beforeEach(() => {
    root = document.createElement("div");
    document.body.appendChild(root);
  });
  afterEach(() => {
    render(null, root);
    root.remove();
  });
  return () => root;
}
