// What an agent left unsent, by conversation (the Composer's drafts): kept in the tab's sessionStorage, as its
// session is, so a reload (a new version of the inbox, a slip of F5) does not lose them; cleared as the agent signs
// out. Without a storage (tests) they live as long as the store.
import type { UploadedFile } from "./api";

/** What an agent left unsent in a conversation: the reply's text and the files uploaded for it, the note; and the
 * reply's Idempotency-Key (`replyKey`), kept with it until the API took the reply, so sending it again after no
 * answer (from this page or after a reload) sends it once. `template`: a WhatsApp template sent with no answer yet,
 * kept the same way with its key until the API took it (or said the key went with another template). */
export interface Draft {
  text: string;
  note: string;
  files?: UploadedFile[];
  replyKey?: string;
  template?: KeptTemplate;
}

/** A WhatsApp template as it was sent (which one, its parameters) and the Idempotency-Key it went with: the form
 * shows it again (another conversation and back, a reload), and Send template sends it with that key. */
export interface KeptTemplate {
  name: string;
  language: string;
  parameters: string[];
  key: string;
}

export function isEmptyDraft(d: Draft): boolean {
  return !d.text && !d.note && !d.files?.length && !d.template;
}

/** A kept template as the tab's storage gave it back: whole, or none (not ours, or of another shape). */
function keptTemplate(t: unknown): KeptTemplate | undefined {
  const kept = t as Partial<KeptTemplate> | null | undefined;
  const whole =
    typeof kept?.name === "string" &&
    typeof kept.language === "string" &&
    typeof kept.key === "string" &&
    Array.isArray(kept.parameters) &&
    kept.parameters.every((p) => typeof p === "string");
  return whole ? (kept as KeptTemplate) : undefined;
}

export class Drafts {
  private readonly byConversation: Map<string, Draft>;

  /** `key`: the agent's own (another agent signing in on the tab finds none of theirs). */
  constructor(
    private readonly storage: Storage | null = null,
    private readonly key = "shopdesk.drafts",
  ) {
    this.byConversation = new Map(this.read());
  }

  get(id: string): Draft | undefined {
    return this.byConversation.get(id);
  }

  has(id: string): boolean {
    return this.byConversation.has(id);
  }

  set(id: string, draft: Draft): void {
    this.byConversation.set(id, draft);
    this.write();
  }

  delete(id: string): void {
    if (this.byConversation.delete(id)) this.write();
  }

  clear(): void {
    this.byConversation.clear();
    this.storage?.removeItem(this.key);
  }

  private read(): [string, Draft][] {
    try {
      const saved = JSON.parse(this.storage?.getItem(this.key) ?? "{}") as Record<string, Draft>;
      return Object.entries(saved)
        .filter(([, d]) => d && typeof d.text === "string" && typeof d.note === "string")
        .map(([id, { template, ...d }]): [string, Draft] => {
          const kept = keptTemplate(template);
          return [id, kept ? { ...d, template: kept } : d];
        });
    } catch {
      return []; // not ours, or cut short: nothing to restore
    }
  }

  private write(): void {
    if (!this.storage) return;
    try {
      if (this.byConversation.size) this.storage.setItem(this.key, JSON.stringify(Object.fromEntries(this.byConversation)));
      else this.storage.removeItem(this.key);
    } catch {
      /* storage full or refused: the drafts stay for this page's life */
    }
  }
}
