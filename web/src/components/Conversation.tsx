import { customerLabel } from "../channels";
import { useApp } from "../context";
import { useStore } from "../store";
import { Composer } from "./Composer";
import { ConversationActions } from "./ConversationActions";
import { CustomerPanel } from "./CustomerPanel";
import { LabelChips, LabelMenu } from "./Labels";
import { MacroPicker } from "./Macros";
import { Timeline } from "./Timeline";

export function Conversation({ onOpen }: { onOpen: (id: string | null) => void }) {
  const { store, t } = useApp();
  const { open } = useStore(store);
  if (!open) return <p class="empty">{t("loading")}</p>;
  const name = customerLabel(open.customer, t("customerUnknown"));
  return (
    <div class="conversation">
      <div class="conversation-main">
        <header class="conversation-head">
          <div>
            <h2 id="conversation-title">{name}</h2>
            <p class="muted small">
              <span class={`chip status-${open.status}`}>{t(`status.${open.status}`)}</span>{" "}
              <span class={`chip priority-${open.priority}`}>{t(`priority.${open.priority}`)}</span>{" "}
              {open.team} · {open.assignee ? t("assignedTo", { agent: open.assignee }) : t("unassigned")}{" "}
              <LabelChips conv={open} />
            </p>
            <div class="conversation-tools">
              <LabelMenu conv={open} />
              <MacroPicker conv={open} />
            </div>
          </div>
          <ConversationActions conv={open} onOpen={onOpen} />
        </header>
        <Timeline conv={open} />
        <Composer conv={open} />
      </div>
      <CustomerPanel conv={open} />
    </div>
  );
}
