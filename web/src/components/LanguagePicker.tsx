import { LOCALES, type Locale } from "../i18n";

export function LanguagePicker(props: { locale: Locale; setLocale: (l: Locale) => void; label: string }) {
  return (
    <label class="field inline">
      <span>{props.label}</span>
      <select value={props.locale} onChange={(e) => props.setLocale((e.target as HTMLSelectElement).value as Locale)}>
        {(Object.keys(LOCALES) as Locale[]).map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALES[l].name}
          </option>
        ))}
      </select>
    </label>
  );
}
