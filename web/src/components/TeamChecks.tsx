import { useApp } from "../context";
import { teamChoices } from "../format";
import { useStore } from "../store";

/** Teams chosen by name, a checkbox each: every team the agent API lists (those an admin created and those only
 *  the routing settings name, such as "default"), and any team already chosen that it does not list. */
export function TeamChecks({ legend, hint, chosen, onChange }: {
  legend: string;
  hint?: string;
  chosen: readonly string[];
  onChange: (teams: string[]) => void;
}) {
  const { store } = useApp();
  const { teams } = useStore(store);
  const toggle = (id: string, on: boolean) => (on ? [...chosen, id] : chosen.filter((x) => x !== id));
  return (
    <fieldset class="team-checks">
      <legend>{legend}</legend>
      {hint && <p class="muted small">{hint}</p>}
      {teamChoices(teams, chosen).map(({ id, name }) => (
        <label class="field inline" key={id}>
          <input type="checkbox" checked={chosen.includes(id)}
                 onChange={(e) => onChange(toggle(id, (e.target as HTMLInputElement).checked))} />
          <span>{name}</span>
        </label>
      ))}
    </fieldset>
  );
}
