// A settings page's form shows the item picked in its list (or a new one's blanks). Filling it in an effect as the
// page mounted wiped what someone had typed before the page's first effects ran (the labels page lost a typed id
// that way under load); the form starts blank, so it only needs filling when the pick changes.
import { useEffect, useRef } from "preact/hooks";

/** Calls `show(chosen)` whenever the item chosen for editing changes, but not as the page mounts. */
export function useChosen<T>(chosen: T, show: (chosen: T) => void): void {
  const shown = useRef(chosen);
  useEffect(() => {
    if (chosen === shown.current) return;
    shown.current = chosen;
    show(chosen);
  }, [chosen]);
}
