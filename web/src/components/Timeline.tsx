import { useEffect, useRef, useState } from "preact/hooks";
import type { Attachment, Conversation, Message } from "../api";
import { channelName, customerLabel } from "../channels";
import { useApp } from "../context";
import { agentName, fileSize, formatFull, formatTime } from "../format";
import { useStore } from "../store";
import { systemText } from "../timelineEvents";
import { Mood } from "./Mood";

const FAILED = new Set(["failed", "undelivered"]);

/** How close to the end (px) still counts as reading the latest messages. */
const NEAR_END_PX = 80;

export function Timeline({ conv }: { conv: Conversation }) {
  const { t, who } = useApp();
  const end = useRef<HTMLLIElement>(null);
  const shown = useRef<string | null>(null);
  const atEnd = useRef(true);
  const messages = conv.messages ?? [];
  // the end of another conversation as it opens, and a new message as it arrives while the agent is at the end (or
  // wrote it); an agent scrolled up to read the history stays where they are
  useEffect(() => {
    const another = shown.current !== conv.id;
    shown.current = conv.id;
    const last = messages[messages.length - 1];
    if (another || atEnd.current || (last?.author != null && last.author === who.id)) {
      end.current?.scrollIntoView({ block: "end" });
      atEnd.current = true;
    }
  }, [conv.id, messages.length]);
  const onScroll = (e: Event) => {
    const list = e.currentTarget as HTMLElement;
    atEnd.current = list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_END_PX;
  };
  // failed replies already sent again (the API sends each only once: the customer would get it twice)
  const sentAgain = new Set(messages.map((m) => m.retry_of).filter((id): id is string => !!id));
  return (
    // focusable: a long history scrolls from the keyboard too (arrows, Page Up and Down) when it holds no link or button
    <ol class="timeline" aria-label={t("timeline")} tabIndex={0} onScroll={onScroll}>
      {messages.map((m) => (
        <MessageItem key={m.id} conv={conv} m={m} sentAgain={sentAgain.has(m.id)} />
      ))}
      <li ref={end} class="timeline-end" aria-hidden="true" />
    </ol>
  );
}

function MessageItem({ conv, m, sentAgain }: { conv: Conversation; m: Message; sentAgain: boolean }) {
  const { store, t, locale, timeZone } = useApp();
  const { now, agents, labels } = useStore(store);
  const author = m.author ? agentName(agents, m.author, t("unnamedAgent")) : null; // agents by name, as everywhere else
  const time = (
    <time dateTime={m.created_at} title={formatFull(m.created_at, locale, timeZone)}>
      {formatTime(m.created_at, locale, new Date(now), timeZone)}
    </time>
  );
  if (m.direction === "system") {
    return (
      <li class="msg msg-system">
        <span>{systemText(m, { t, locale, timeZone, agents, labels })}</span> {time}
      </li>
    );
  }
  const who =
    m.direction === "inbound"
      ? customerLabel(conv.customer, t("direction.inbound"))
      : m.direction === "note"
        ? `${t("direction.note")} · ${author ?? ""}`
        : m.kind === "acknowledgement"
          ? t("acknowledgement")
          : (author ?? t("direction.outbound"));
  const failed = (m.status ? FAILED.has(m.status) : false) || m.stuck;
  return (
    <li class={`msg msg-${m.direction}${failed ? " msg-failed" : ""}`}>
      <div class="msg-head">
        <strong>{who}</strong>
        {m.channel && m.direction !== "note" && <span class="chip">{t("via", { channel: channelName(m.channel, t) })}</span>}
        {m.kind === "template" && <span class="chip">{t("template")}</span>}
        {m.kind === "csat_survey" && <span class="chip">{t("csat.survey")}</span>}
        {m.kind === "opt_out" && <span class="chip chip-warn">{t("optOutChip")}</span>}
        {m.kind === "opt_in" && <span class="chip">{t("optInChip")}</span>}
        {m.rating != null && <span class="chip">{t("csat.rated", { rating: String(m.rating) })}</span>}
        {m.direction === "inbound" && <Mood sentiment={m.sentiment} emotion={m.emotion} urgent={m.urgent} t={t} />}
        {time}
      </div>
      {/* a contact form's mail: its customer's address is what the form was told, so the words may be anyone's */}
      {m.direction === "inbound" && m.sender_unproven && (
        <div class="unproven-sender" role="note">
          {t("senderUnproven")}
        </div>
      )}
      {m.subject && <div class="subject">{m.subject}</div>}
      <Words m={m} />
      {m.attachments.length > 0 && (
        <div class="attachments">
          {m.attachments.map((a, i) => (
            <AttachmentView key={i} a={a} sent={m.direction === "outbound"} />
          ))}
        </div>
      )}
      {m.direction === "outbound" && m.status && (
        <div class={`delivery delivery-${m.stuck ? "stuck" : m.status}`}>
          {/* one run of text: the row's gap goes between its parts, not before the colon */}
          <span>
            {m.stuck ? t("stuck.label") : deliveryLabel(t, m.status)}
            <Reason m={m} />
            {m.error?.code && !m.stuck && m.error.code !== "stuck" && <span class="muted small"> ({m.error.code})</span>}
          </span>
          {m.possibly_duplicate && (
            <span class="duplicate-warning" role="note">
              {t("possiblyDuplicate")}
            </span>
          )}
          {(m.status === "failed" || m.stuck) &&
            (sentAgain ? <span class="muted small">{t("sentAgain")}</span> : <RetryButton conv={conv} m={m} />)}
        </div>
      )}
    </li>
  );
}

/** What a message says: in place of the words of one the customer unsent, that they did (in a Telegram Business
 * chat, either side may delete a message); of one they edited, the new words marked so, and the first ones under them. */
function Words({ m }: { m: Message }) {
  const { t, locale, timeZone } = useApp();
  if (m.unsent_at) {
    return <div class="msg-text msg-unsent">{t(m.channel === "telegram" ? "unsent.telegram" : "unsent")}</div>;
  }
  if (m.edited_at) {
    return (
      <>
        <div class="msg-text" dir="auto">
          {m.edited_text && <>{m.edited_text} </>}
          <span class="edited-mark" title={t("editedAt", { time: formatFull(m.edited_at, locale, timeZone) })}>
            {t("edited")}
          </span>
        </div>
        {m.text && (
          <div class="msg-was" dir="auto">
            {t("editedWas", { text: m.text })}
          </div>
        )}
      </>
    );
  }
  return m.text ? <div class="msg-text" dir="auto">{m.text}</div> : null;
}

/** Why a reply is not sent: a stuck one (nothing tried to send it for an hour: the API says `stuck`) in the agent's
 * language, and so is one given up after it was stuck (error code `stuck`); the provider's reason otherwise. */
function Reason({ m }: { m: Message }) {
  const { t } = useApp();
  const text = m.stuck ? t("stuck.reason") : m.error?.code === "stuck" ? t("stuck.gaveUp") : m.error?.message;
  return text ? <span class="reason">: {text}</span> : null;
}

/** Send a failed or stuck reply again (an undelivered one is not: the provider took every part of it), once: the button
 * waits for the answer, after which the timeline shows the new reply and says this one was sent again. */
function RetryButton({ conv, m }: { conv: Conversation; m: Message }) {
  const { store, t } = useApp();
  const [busy, setBusy] = useState(false);
  const retry = async () => {
    setBusy(true);
    await store.retry(conv.id, m.id, t("sent"));
    setBusy(false);
  };
  return (
    <button class="btn btn-small" disabled={busy} onClick={() => void retry()}>
      {t("retry")}
    </button>
  );
}

function deliveryLabel(t: ReturnType<typeof useApp>["t"], status: string): string {
  const key = `delivery.${status}` as Parameters<typeof t>[0];
  const text = t(key);
  return text === key ? status : text;
}

/** Why a file was not kept, as the desk noted it: notes stored before the inbox said "not kept" itself began
 * "not kept: " (or ended ", not kept"), which the inbox's own words would repeat. */
export function notKeptWhy(note: string | null | undefined): string {
  return (note ?? "").replace(/^not kept:\s*/i, "").replace(/,\s*not kept$/i, "");
}

function AttachmentView({ a, sent }: { a: Attachment; sent: boolean }) {
  const { t } = useApp();
  const name = a.filename || t("attachment");
  if (!a.url) return <div class="attachment-note">{t("attachmentNotKept", { name, note: notKeptWhy(a.note) })}</div>;
  if (a.content_type?.startsWith("image/")) {
    return (
      <a href={a.url} target="_blank" rel="noopener noreferrer">
        <img class="inline-image" src={a.url} alt={t(sent ? "imageSent" : "imageOf", { name })} loading="lazy" />
      </a>
    );
  }
  return (
    <a class="download" href={a.url} download={name} rel="noopener noreferrer">
      ⤓ {t("download", { name })}
      {a.size ? ` (${fileSize(a.size)})` : ""}
    </a>
  );
}
