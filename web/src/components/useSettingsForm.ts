import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useApp } from "../context";
import { fieldErrors, refusalWords } from "../privacy";
import { changedMeanwhile, failureWords } from "../problems";

export type Shown = { kind: "ok" | "error"; text: string };

/** A versioned settings document edited as a form (the satisfaction survey, retention and masking): read once and
 *  the form filled from it; saved with the version read, so a 409 says someone saved meanwhile (and it is read
 *  again); the API's refusals, in the admin's words, by the field they name (`fields`, by the field's path) and
 *  those of no field (`rest`), for the form to show where they belong. `shows` says which of these paths the form
 *  shows ("": the refusals of no field); the message below the form says only the others (a refusal shown
 *  entirely in the form: "Check the fields marked"), so no refusal is said twice nor left unsaid. */
export function useSettingsForm<Out extends { version: number }, Form>(spec: {
  read: () => Promise<Out>;
  write: (form: Form, version: number | undefined) => Promise<Out>;
  toForm: (settings: Out) => Form;
  shows: (path: string) => boolean;
  /** Refusals of a field the API says other than as a 422 (a routing template's 400 names it in its detail). */
  place?: (error: unknown) => { path: string; message: string }[];
  /** A failure that is a save all the same (the settings stored, their follow-up not started): its words, shown as
   *  saved, and the settings read again (their new version); null for any other failure. */
  savedAnyway?: (error: unknown) => string | null;
  /** What of a save's answer such a failure names all the same (a follow-up it started: privacy settings' walk the
   *  queue took while it refused the other), kept over the settings read again. */
  answeredAnyway?: (error: unknown) => Partial<Out>;
}) {
  const { store, t } = useApp();
  const [saved, setSaved] = useState<Out | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [refused, setRefused] = useState<{ fields: Map<string, string[]>; rest: string[] }>({ fields: new Map(), rest: [] });
  const [message, setMessage] = useState<Shown | null>(null);
  const reload = async (answered?: Partial<Out>) => {
    await store.run(async () => {
      const settings = await spec.read();
      setSaved({ ...settings, ...answered });
      setForm(spec.toForm(settings));
    });
  };
  useEffect(() => {
    void reload();
  }, []);
  /** Save the form (`e`: the form's submit, not sent; none when the save follows a confirmation). */
  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!form) return;
    setMessage(null);
    setRefused({ fields: new Map(), rest: [] });
    try {
      const now = await spec.write(form, saved?.version);
      setSaved(now);
      setForm(spec.toForm(now));
      setMessage({ kind: "ok", text: t("saved") });
    } catch (error) {
      const anyway = spec.savedAnyway?.(error);
      if (anyway) {
        await reload(spec.answeredAnyway?.(error));
        setMessage({ kind: "ok", text: anyway });
        return;
      }
      const conflict = changedMeanwhile(error);
      const all = fieldErrors(error instanceof ApiError ? error.body : null);
      for (const { path, message } of spec.place?.(error) ?? []) all.fields.set(path, [...(all.fields.get(path) ?? []), message]);
      const worded = (messages: string[]) => messages.map((m) => refusalWords(m, t));
      const fields = new Map<string, string[]>();
      const unshown: string[] = spec.shows("") ? [] : worded(all.rest);
      for (const [path, messages] of all.fields) {
        if (spec.shows(path)) fields.set(path, worded(messages));
        else unshown.push(...worded(messages).map((m) => `${path}: ${m}`));
      }
      setRefused({ fields, rest: spec.shows("") ? worded(all.rest) : [] });
      let text = failureWords(error, t); // no refusal by field: what the API said (a 4xx as it is, in a sentence)
      if (conflict) text = t("conflict"); // in the admin's words only, not the API's English
      else if (unshown.length) text = unshown.join(" "); // a 422's, not those shown in the form
      else if (fields.size || all.rest.length) text = t("refused.fields"); // every one shown in the form
      setMessage({ kind: "error", text });
      if (conflict) await reload();
    }
  };
  return { saved, form, setForm, refused, message, submit };
}
