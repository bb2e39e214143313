// A settings page's edit form sits below its list: with a long list (the knowledge base's articles) an Edit click
// filled a form far out of sight and seemed to do nothing.
import type { RefObject } from "preact";

/** After an Edit or + New click, once the form shows what was picked: bring it into view and focus its first field
 *  to fill in (an id is read-only while editing). */
export function revealForm(form: RefObject<HTMLFormElement>): void {
  setTimeout(() => {
    const shown = form.current;
    if (!shown) return;
    shown.scrollIntoView?.({ block: "start", behavior: "smooth" });
    shown.querySelector<HTMLElement>("input:not([readonly]):not([type=hidden]):not([type=file]), textarea, select")?.focus({ preventScroll: true });
  }, 0);
}
