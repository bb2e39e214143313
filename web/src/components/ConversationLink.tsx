import type { ComponentChildren } from "preact";
import { useApp } from "../context";

/** A link to a conversation that opens it in the inbox as the app's own links do (no reload of the whole app, its
 * live connection kept); a new tab or window with the usual keys and buttons. */
export function ConversationLink({ id, children }: { id: string; children: ComponentChildren }) {
  const { navigate } = useApp();
  const href = `/c/${encodeURIComponent(id)}`;
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
