import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation, UploadedFile } from "../api";
import { appendToDraft } from "../kbAssist";
import { channelName } from "../channels";
import { useApp } from "../context";
import { useMentionSuggestions } from "./MentionSuggestions";
import { useResetOn } from "../resetOn";
import { isEmptyDraft } from "../drafts";
import { useStore } from "../store";
import { lastInboundAt, windowState } from "../windows";
import { AttachmentPicker, filesOf, readyFiles, useUploads, type Pending } from "./AttachmentPicker";
import { useReplyAssist } from "./ReplyAssist";

/** Reply on one of the conversation's channels (or a template when WhatsApp's window is closed), and notes. */
export function Composer({ conv, insertion }: { conv: Conversation; insertion?: { text: string; n: number } | null }) {
  const { store, t } = useApp();
  const { templates, now } = useStore(store);
  const drafts = store.drafts;
  const keepDraft = (id: string, reply: string, internal: string, files: UploadedFile[], replyKey: string) => {
    // a template on its way stays with it (the store keeps it: keepTemplate)
    const draft = { text: reply, note: internal, files, replyKey, template: drafts.get(id)?.template };
    if (!isEmptyDraft(draft)) drafts.set(id, draft);
    else drafts.delete(id);
  };
  const channels = conv.channels?.length ? conv.channels : [conv.channel];
  const [channel, setChannel] = useState(conv.channel);
  const [text, setText] = useState(() => drafts.get(conv.id)?.text ?? "");
  const [note, setNote] = useState(() => drafts.get(conv.id)?.note ?? "");
  const [pending, setPending] = useState<Pending[]>(() => readyFiles(drafts.get(conv.id)?.files));
  // the reply's Idempotency-Key: one per composed reply, the same for each send of it until the API has taken it
  const replyKey = useRef(drafts.get(conv.id)?.replyKey ?? crypto.randomUUID());
  const uploads = useUploads(conv.id, pending, setPending, () => channel);
  // what is in the boxes now, for the draft kept as the composer goes (another conversation, another page); of the
  // files, those uploaded (one still on its way when the agent leaves is not kept)
  const shown = useRef({ id: conv.id, text, note, files: uploads.ready });
  shown.current.text = text;
  shown.current.note = note;
  shown.current.files = uploads.ready;
  // whether a send answered now still has its conversation in these boxes (the composer goes as another one loads)
  const mounted = useRef(true);
  useEffect(() => {
    // a reload or a closed tab unmounts nothing: what is in the boxes is kept as the page goes
    const keep = () =>
      keepDraft(shown.current.id, shown.current.text, shown.current.note, shown.current.files, replyKey.current);
    window.addEventListener("pagehide", keep);
    return () => {
      window.removeEventListener("pagehide", keep);
      mounted.current = false;
      keep();
    };
  }, []);
  const stillShown = (id: string) => mounted.current && shown.current.id === id;
  // Send and Add note are disabled while they send, which drops the focus of a keyboard user who pressed them to the
  // page: it goes back to the box they sent from (a focus the agent moved elsewhere meanwhile stays where it is)
  const refocus = (id: string, box: HTMLElement | null) => {
    if (stillShown(id) && (!document.activeElement || document.activeElement === document.body)) box?.focus();
  };
  const [busy, setBusy] = useState(false);
  const replyBox = useRef<HTMLTextAreaElement>(null);
  const noteBox = useRef<HTMLTextAreaElement>(null);
  const assist = useReplyAssist(conv, text, setText, replyBox); // canned responses (`/`) and the rendered preview
  const mentions = useMentionSuggestions({ text: note, boxId: "note-box", onPick: setNote }); // `@` in the note
  // the draft, files and channel belong to the conversation: another one's (its draft kept) as it renders, never after paint
  useResetOn(conv.id, () => {
    keepDraft(shown.current.id, text, note, uploads.ready, replyKey.current);
    const draft = drafts.get(conv.id);
    replyKey.current = draft?.replyKey ?? crypto.randomUUID();
    shown.current = { id: conv.id, text: draft?.text ?? "", note: draft?.note ?? "", files: draft?.files ?? [] };
    setChannel(conv.channel);
    setText(shown.current.text);
    setNote(shown.current.note);
    setPending(readyFiles(draft?.files));
  });
  // an article agent assist inserts: added to what the agent has written so far
  useEffect(() => {
    if (insertion) setText((current) => appendToDraft(current, insertion.text));
  }, [insertion?.n]);

  const win = windowState(channel, lastInboundAt(conv.messages ?? [], channel), now);
  // the customer unsubscribed here (SMS: replied STOP): nothing can go out on this channel until they text START
  const optedOut = (conv.opted_out ?? []).includes(channel);
  const closed = win === "closed" || optedOut;
  const sendReply = async (e?: Event) => {
    e?.preventDefault();
    if ((!text.trim() && !uploads.ready.length) || busy || uploads.uploading || assist.blocked) return;
    setBusy(true);
    // files alone are a reply too (no text then)
    const body = text.trim() ? assist.body(text) : "";
    const [id, sent, files, key] = [conv.id, text, uploads.ready, replyKey.current];
    // the key's first send went with another text: this one, sent again, is a new reply
    const renew = () => {
      if (replyKey.current === key) replyKey.current = crypto.randomUUID();
    };
    const ok = await store.reply(id, body, channel !== conv.channel ? channel : undefined, t("sent"), files, key, renew);
    setBusy(false);
    refocus(id, replyBox.current);
    if (!ok) return; // not taken, or no answer: the key stays, so Send again sends this reply once
    if (replyKey.current === key) replyKey.current = crypto.randomUUID(); // the next reply is another one
    store.forgetSent(id, "text", sent, key); // kept as it was (the agent went on, or came back to it): no draft to send again
    if (stillShown(id)) {
      // only what went leaves the boxes: what the agent wrote or attached while it was on its way stays, to send next
      if (shown.current.text === sent) {
        setText("");
        assist.reset();
      }
      setPending((now) => now.filter((p) => !(p.file && files.includes(p.file))));
    }
  };
  const dropped = (e: DragEvent | ClipboardEvent) => {
    const files = filesOf(e);
    if (!files.length || closed) return;
    e.preventDefault();
    uploads.add(files);
  };
  const addNote = async (e?: Event) => {
    e?.preventDefault();
    if (!note.trim() || busy) return;
    setBusy(true);
    const [id, sent] = [conv.id, note];
    const ok = await store.note(id, note.trim(), t("noteAdded"));
    setBusy(false);
    refocus(id, noteBox.current);
    if (!ok) return;
    store.forgetSent(id, "note", sent);
    if (stillShown(id)) setNote((now) => (now === sent ? "" : now));
  };
  const ctrlEnter = (send: () => void) => (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div class="composer">
      <form
        class="reply-form"
        onSubmit={sendReply}
        onDragOver={(e) => e.dataTransfer?.types.includes("Files") && e.preventDefault()}
        onDrop={dropped}
      >
        <div class="composer-bar">
          {channels.length > 1 ? (
            <label class="field inline">
              <span>{t("channel")}</span>
              <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
                {channels.map((c) => (
                  <option key={c} value={c}>
                    {channelName(c, t)}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span class="chip">{channelName(channel, t)}</span>
          )}
          {optedOut ? (
            <span class="window window-closed" role="status">
              {t("optedOut", { channel: channelName(channel, t) })}
            </span>
          ) : (
            <>
              {win === "open" && <span class="window window-open">{t("windowOpen", { channel: channelName(channel, t) })}</span>}
              {win === "human_agent" && <span class="window window-warn">{t("windowHumanAgent")}</span>}
              {closed && <span class="window window-closed">{t("windowClosed", { channel: channelName(channel, t) })}</span>}
            </>
          )}
        </div>
        {closed && !optedOut && channel === "whatsapp" ? (
          // its own form per conversation: a template and parameters chosen for one customer never go to another
          <TemplateForm key={conv.id} conv={conv} channel={channel} templates={templates} refocus={refocus} />
        ) : (
          <>
            <textarea
              id="reply-box"
              dir="auto"
              ref={replyBox}
              {...assist.boxProps}
              aria-label={t("reply")}
              placeholder={t("replyPlaceholder")}
              rows={3}
              value={text}
              disabled={closed}
              aria-keyshortcuts="r"
              onInput={(e) => {
                const box = e.target as HTMLTextAreaElement;
                setText(box.value);
                assist.update(box.value, box.selectionStart);
              }}
              onClick={(e) => assist.update((e.target as HTMLTextAreaElement).value, (e.target as HTMLTextAreaElement).selectionStart)}
              onKeyDown={(e) => assist.onKeyDown(e) || ctrlEnter(() => void sendReply())(e)}
              onPaste={dropped}
            />
            {assist.popup}
            {assist.preview}
            <div class="composer-actions">
              <AttachmentPicker pending={pending} onAdd={uploads.add} onRemove={uploads.remove} disabled={closed} />
              <button
                class="btn btn-primary"
                type="submit"
                disabled={busy || closed || assist.blocked || uploads.uploading || (!text.trim() && !uploads.ready.length)}
              >
                {t("send")}
              </button>
            </div>
          </>
        )}
      </form>
      <form class="note-form" onSubmit={addNote}>
        <textarea
          id="note-box"
          ref={noteBox}
          dir="auto"
          aria-label={t("note")}
          placeholder={t("notePlaceholder")}
          rows={2}
          value={note}
          aria-keyshortcuts="n"
          onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => mentions.onKeyDown(e) || ctrlEnter(() => void addNote())(e)}
        />
        {mentions.popup}
        <div class="composer-actions">
          <button class="btn" type="submit" disabled={busy || !note.trim()}>
            {t("addNote")}
          </button>
        </div>
      </form>
    </div>
  );
}

function TemplateForm({
  conv,
  channel,
  templates,
  refocus,
}: {
  conv: Conversation;
  channel: string;
  templates: { name: string; language: string; body: string; parameters: number }[];
  refocus: (id: string, field: HTMLElement | null) => void;
}) {
  const { store, t } = useApp();
  // a template sent here with no answer yet (kept with the draft: another conversation and back, a reload) is shown
  // again as it went, its choice once the templates are there
  const kept = store.drafts.get(conv.id)?.template;
  const [picked, setIndex] = useState<number | null>(null);
  const index = picked ?? Math.max(0, templates.findIndex((tpl) => tpl.name === kept?.name && tpl.language === kept?.language));
  const [params, setParams] = useState<string[]>(() => kept?.parameters ?? []);
  // one send at a time: a double click sent the template twice (the ref holds it before the button shows it disabled)
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  const form = useRef<HTMLDivElement>(null);
  const chosen = templates[index];
  if (!chosen) return <p class="muted">{t("noTemplates")}</p>;
  const send = async (e: Event) => {
    e.preventDefault();
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    // the template's Idempotency-Key: one per composed template, the same for each send of it until the API took it,
    // kept with what went (the draft's, in the tab's storage) so a reload shows it and sends it with its key again
    const id = conv.id;
    const parameters = params.slice(0, chosen.parameters);
    const key = store.drafts.get(id)?.template?.key ?? crypto.randomUUID();
    store.keepTemplate(id, { name: chosen.name, language: chosen.language, parameters, key });
    const renew = () => store.forgetTemplate(id, key); // the next template is another one
    const ok = await store.sendTemplate(
      id,
      { name: chosen.name, language: chosen.language, parameters, channel },
      t("sent"),
      key,
      renew,
    );
    sending.current = false;
    setBusy(false);
    // Send template is disabled while it sends, which drops a keyboard user's focus to the page: back to the form's
    // first parameter (or its choice of template, for one without parameters)
    refocus(id, form.current?.querySelector("input") ?? form.current?.querySelector("select") ?? null);
    if (!ok) return; // not taken, or no answer: the key stays, so Send template again sends this template once
    renew();
    setParams([]);
  };
  return (
    <div class="template-form" ref={form}>
      <label class="field">
        <span>{t("template")}</span>
        <select value={index} onChange={(e) => setIndex(Number((e.target as HTMLSelectElement).value))}>
          {templates.map((tpl, i) => (
            <option key={`${tpl.name}-${tpl.language}`} value={i}>
              {tpl.name} ({tpl.language})
            </option>
          ))}
        </select>
      </label>
      <p class="template-body">{chosen.body}</p>
      {Array.from({ length: chosen.parameters }, (_, i) => (
        <label class="field" key={i}>
          <span>{t("templateParameter", { n: i + 1 })}</span>
          <input
            value={params[i] ?? ""}
            onInput={(e) => {
              const next = [...params];
              next[i] = (e.target as HTMLInputElement).value;
              setParams(next);
            }}
          />
        </label>
      ))}
      <button class="btn btn-primary" onClick={send} disabled={busy}>
        {t("sendTemplate")}
      </button>
    </div>
  );
}
