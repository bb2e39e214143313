// The app's addresses (history API; the server answers index.html for any of them).
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "inbox"; conversationId: string | null }
  | { page: "board" }
  | { page: "reports" }
  | { page: "settings"; section: string; item?: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "board") return { page: "board" };
  if (parts[0] === "reports") return { page: "reports" };
  if (parts[0] === "settings")
    return { page: "settings", section: parts[1] ?? "agents", ...(parts[2] ? { item: parts[2] } : {}) };
  if (parts[0] === "c" && parts[1]) return { page: "inbox", conversationId: parts[1] };
  return { page: "inbox", conversationId: null };
}

export function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = (next: string) => {
    if (next !== window.location.pathname) window.history.pushState(null, "", next);
    setPath(next);
  };
  return [path, navigate];
}
