// The customer's own timeline: which merges can still be undone from it.

export interface CustomerEventLike {
  id: string;
  kind: string;
  merge_id?: string | null;
}

/** The ids of the `merged` events (this customer kept, another merged in) whose merge has no `unmerged`
 * event yet: each gets an undo. A customer merged into another is undone from the one that remains. */
export function undoableMerges(events: readonly CustomerEventLike[]): Set<string> {
  const undone = new Set(events.filter((e) => e.kind === "unmerged" && e.merge_id).map((e) => e.merge_id));
  return new Set(events.filter((e) => e.kind === "merged" && e.merge_id && !undone.has(e.merge_id)).map((e) => e.id));
}
