// What every component may need: the store, the words, who is signed in.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Auth, Who } from "./auth";
import type { Locale, Translate } from "./i18n";
import type { Store } from "./store";

export interface AppContextValue {
  store: Store;
  auth: Auth;
  who: Who;
  t: Translate;
  locale: Locale;
  setLocale: (locale: Locale) => void;
  timeZone: string;
  navigate: (path: string) => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("AppContext missing");
  return value;
}

export const isSupervisor = (who: Who) => who.groups.includes("supervisors") || who.groups.includes("admins");
export const isAdmin = (who: Who) => who.groups.includes("admins");
