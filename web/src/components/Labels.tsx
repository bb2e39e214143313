import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation } from "../api";
import { useApp } from "../context";
import { addable, byId, chipColors, labelsOf } from "../labels";
import { useResetOn } from "../resetOn";
import { useStore } from "../store";

/** A conversation's labels as coloured chips (a retired label keeps its chip, marked). */
export function LabelChips({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const { labels } = useStore(store);
  const known = byId(labels);
  const ids = labelsOf(conv);
  if (!ids.length) return null;
  return (
    <span class="label-chips">
      {ids.map((id) => {
        const label = known.get(id);
        const name = label?.name ?? id;
        return (
          <span key={id} class="chip label-chip" style={chipColors(label?.color ?? "#999999")}>
            {label?.retired ? t("labelRetired", { name }) : name}
          </span>
        );
      })}
    </span>
  );
}

/** Add and remove labels on the open conversation: a menu button whose items are checkboxes
 * (WAI-ARIA menu pattern: arrows move, Space or Enter toggles, Escape closes and gives focus back). */
export function LabelMenu({ conv }: { conv: Conversation }) {
  const { store, t } = useApp();
  const { labels } = useStore(store);
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const current = new Set(labelsOf(conv));
  // what can be added, and the retired ones the conversation still has (they can only be taken off)
  const items = [...addable(labels), ...labels.filter((l) => l.retired && current.has(l.id))];
  const focusItem = (index: number) => {
    const all = menu.current?.querySelectorAll<HTMLElement>("[role=menuitemcheckbox]");
    if (!all?.length) return;
    all[(index + all.length) % all.length]?.focus();
  };
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    focusItem(0);
    // a click anywhere else closes it, as any menu
    const outside = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);
  useResetOn(conv.id, () => setOpen(false)); // another conversation opens with its menu closed
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const toggle = (id: string) => {
    const change = current.has(id) ? { remove: [id] } : { add: [id] };
    void store.changeLabels(conv.id, change, t("labelsChanged"));
  };
  const onKey = (event: KeyboardEvent, index: number, id: string) => {
    if (event.key === "ArrowDown") focusItem(index + 1);
    else if (event.key === "ArrowUp") focusItem(index - 1);
    else if (event.key === "Home") focusItem(0);
    else if (event.key === "End") focusItem(items.length - 1);
    else if (event.key === "Escape" || event.key === "Tab") close();
    else if (event.key === " " || event.key === "Enter") toggle(id);
    else return;
    event.preventDefault();
    event.stopPropagation();
  };
  return (
    <div
      class="label-menu"
      ref={box}
      onKeyDown={(e) => {
        // Escape closes it also when it has no item to focus (no labels yet)
        if (open && e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={button}
        class="btn"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="label-menu"
        onClick={() => {
          if (!open) void store.loadTools(); // a label made since the inbox read them is there
          setOpen(!open);
        }}
      >
        {t("labels")}…
      </button>
      {open && (
        <ul id="label-menu" ref={menu} role="menu" aria-label={t("labelsOf")} class="menu">
          {!items.length && (
            <li role="none" class="muted small">
              {t("noLabels")}
            </li>
          )}
          {items.map((label, index) => (
            <li
              key={label.id}
              role="menuitemcheckbox"
              aria-checked={current.has(label.id)}
              tabIndex={-1}
              onClick={() => toggle(label.id)}
              onKeyDown={(e) => onKey(e, index, label.id)}
            >
              <span class="chip label-chip" style={chipColors(label.color)} aria-hidden="true">
                {current.has(label.id) ? "✓" : " "}
              </span>{" "}
              {label.retired ? t("labelRetired", { name: label.name }) : label.name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
