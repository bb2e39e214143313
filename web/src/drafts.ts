// What an agent left unsent, by conversation (the Composer's drafts): kept in the tab's sessionStorage, as its
// session is, so a reload (a new version of the inbox, a slip of F5) does not lose them; cleared as the agent signs
// out. Without a storage (tests) they live as long as the store.
import type { UploadedFile } from "./api";

/** What an agent left unsent in a conversation: the reply's text and the files uploaded for it, the note; and the
 * reply's Idempotency-Key (`replyKey`), kept with it until the API took the reply, so sending it again after no
 * answer (from this page or after a reload) sends it once. */
export interface Draft {
  text: string;
  note: string;
  files?: UploadedFile[];
  replyKey?: string;
}

export function isEmptyDraft(d: Draft): boolean {
  return !d.text && !d.note && !d.files?.length;
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
      return Object.entries(saved).filter(([, d]) => d && typeof d.text === "string" && typeof d.note === "string");
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
