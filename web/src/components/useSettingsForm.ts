import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useApp } from "../context";
import { fieldErrors } from "../privacy";

export type Shown = { kind: "ok" | "error"; text: string };

/** A versioned settings document edited as a form (the satisfaction survey, retention and masking): read once and
 *  the form filled from it; saved with the version read, so a 409 says someone saved meanwhile (and it is read
 *  again); the API's refusals by the field they name (`fields`, by the field's path) and the rest (`rest`). */
export function useSettingsForm<Out extends { version: number }, Form>(spec: {
  read: () => Promise<Out>;
  write: (form: Form, version: number | undefined) => Promise<Out>;
  toForm: (settings: Out) => Form;
}) {
  const { store, t } = useApp();
  const [saved, setSaved] = useState<Out | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [refused, setRefused] = useState<{ fields: Map<string, string[]>; rest: string[] }>({ fields: new Map(), rest: [] });
  const [message, setMessage] = useState<Shown | null>(null);
  const reload = async () => {
    await store.run(async () => {
      const settings = await spec.read();
      setSaved(settings);
      setForm(spec.toForm(settings));
    });
  };
  useEffect(() => {
    void reload();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!form) return;
    setMessage(null);
    setRefused({ fields: new Map(), rest: [] });
    try {
      const now = await spec.write(form, saved?.version);
      setSaved(now);
      setForm(spec.toForm(now));
      setMessage({ kind: "ok", text: t("saved") });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const conflict = error instanceof ApiError && error.status === 409;
      setRefused(fieldErrors(error instanceof ApiError ? error.body : null));
      setMessage({ kind: "error", text: conflict ? t("conflict", { detail }) : t("error", { detail }) });
      if (conflict) await reload();
    }
  };
  return { saved, form, setForm, refused, message, submit };
}
