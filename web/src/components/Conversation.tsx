import { useState } from "preact/hooks";
import type { BotState, Conversation as ConversationData } from "../api";
import { customerLabel } from "../channels";
import { useApp } from "../context";
import { agentNamer, teamName } from "../format";
import { useStore } from "../store";
import { AssistPanel } from "./AssistPanel";
import { Composer } from "./Composer";
import { ConversationLink } from "./ConversationLink";
import { ConversationActions } from "./ConversationActions";
import { CustomerPanel, focusCustomerPanel } from "./CustomerPanel";
import { LabelChips, LabelMenu } from "./Labels";
import { MacroPicker } from "./Macros";
import { Timeline } from "./Timeline";
import { handoffReason } from "./TryBot";

export function Conversation({ onOpen }: { onOpen: (id: string | null, toList?: boolean) => void }) {
  const { store, t, who } = useApp();
  const { open, openFailed, agents, me, teams } = useStore(store);
  const [insertion, setInsertion] = useState<{ text: string; n: number } | null>(null);
  // a read that failed is said (and read again by itself: Store.retryOpen), never "Loading…" for good; what was
  // shown stays, said to be out of date. Not an alert: the store's error toast, in the page's alert, says the failure
  // at once; a second alert at the same moment said it twice, one cutting the other off
  const failed = openFailed && (
    <p class="empty open-failed">
      {t(open ? "openStale" : "openFailed")}{" "}
      <button class="btn btn-small" onClick={() => store.retryOpen()}>
        {t("listRetry")}
      </button>
    </p>
  );
  if (!open) return failed || <p class="empty">{t("loading")}</p>;
  const name = customerLabel(open.customer, t("customerUnknown"));
  const bot = (open as ConversationData & { bot?: BotState | null }).bot;
  // the assignee by name, as the list names them (agentNamer); one not named yet (the agents still read): "Assigned"
  const assignee = open.assignee ? agentNamer(agents, me, who, t("unnamedAgent"))(open.assignee) : null;
  return (
    <div class="conversation">
      <div class="conversation-main">
        {failed}
        <header class="conversation-head">
          <div>
            {/* on a narrow screen the list and the conversation take turns: the way back (wide: both are shown) */}
            <button class="btn btn-small back-to-list" onClick={() => onOpen(null)}>
              <span aria-hidden="true">←</span> {t("backToList")}
            </button>
            {/* in a narrow window the customer's panel is below the conversation: one click (or `c`) away */}
            <button class="btn btn-small to-customer" onClick={focusCustomerPanel}>
              {t("toCustomer")} <span aria-hidden="true">↓</span>
            </button>
            <h2 id="conversation-title">{name}</h2>
            <p class="muted small">
              <span class={`chip status-${open.status}`}>{t(`status.${open.status}`)}</span>{" "}
              <span class={`chip priority-${open.priority}`}>{t(`priority.${open.priority}`)}</span>{" "}
              <span class="nowrap">
                {teamName(teams, open.team)} · {assignee ? t("assignedTo", { agent: assignee }) : t(open.assignee ? "assignedSomeone" : "unassigned")}
              </span>{" "}
              <LabelChips conv={open} />
              {bot && (
                <>
                  {" "}
                  <span class={`chip bot-${bot.state}`}>
                    {bot.state === "handed_off"
                      ? t("bot.handed_off", { reason: handoffReason(t, bot.handoff_reason ?? "") })
                      : t(`bot.${bot.state}`)}
                  </span>
                </>
              )}
            </p>
            {open.merged_into && (
              <p class="muted small merged-into">
                {t("conversationMergedInto")} <ConversationLink id={open.merged_into}>{t("openConversationMergedInto")}</ConversationLink>
              </p>
            )}
            <div class="conversation-tools">
              <LabelMenu conv={open} />
              <MacroPicker conv={open} />
            </div>
          </div>
          <ConversationActions conv={open} onOpen={onOpen} />
        </header>
        <Timeline conv={open} />
        <Composer conv={open} insertion={insertion} />
      </div>
      <div class="side-stack">
        <CustomerPanel conv={open} onOpen={onOpen} />
        <AssistPanel conv={open} onInsert={(text) => setInsertion({ text, n: (insertion?.n ?? 0) + 1 })} />
      </div>
    </div>
  );
}
