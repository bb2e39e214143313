// State that belongs to one conversation (a draft, a chosen channel) is cleared while the next one renders.
import { useState } from "preact/hooks";

/** Calls `reset` in the render where `key` differs from the last render's, never in the first (the state
 * starts as it should). Not in an effect: Preact runs effects after paint, or at the start of the component's
 * next render when that comes first, so an effect's reset lands after the box is on screen. It then wipes
 * what was typed in the meantime (an agent presses `r` and types at once: the first keystroke's render runs
 * the reset), and the last conversation's draft shows under the new one until it runs. State set while
 * rendering makes Preact render the component again at once, before anything is shown. */
export function useResetOn(key: unknown, reset: () => void): void {
  const [shown, setShown] = useState(key);
  if (shown !== key) {
    setShown(key);
    reset();
  }
}
