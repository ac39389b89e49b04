/**
 * The claim of a copy that waited its turn in its follower's queue (a copy that can be sent at once
 * is inserted already claimed, in the leader event's own transaction): it moves `planned →
 * placing` in one guarded UPDATE, committed before any broker call — so after a crash the store
 * knows the order may exist, and resolves it by tag instead of placing it again. Commits are WAL at
 * synchronous=NORMAL: they survive a process crash without an fsync on the hot path. A power cut
 * can lose the last commits; what covers that is the brokers' own record — every follower's order
 * book is read at start-up, before anything is placed, and a copy whose tag the broker already has
 * is adopted, never sent (ReplicationEngine.readFollowerBook, CopyExecutor.sendClaimed).
 *
 * Claims asked for in the same turn of the event loop (one leader event fanning out to its
 * followers) share one transaction.
 */
import type { CopyState } from '../store/schema.js';
import type { CopyRow, Store } from '../store/index.js';

interface Pending {
  copyId: number;
  resolve: (won: CopyRow | null) => void;
  reject: (e: unknown) => void;
}

export class ClaimBatcher {
  private queue: Pending[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly from: CopyState = 'planned',
    private readonly to: CopyState = 'placing',
  ) {}

  /** Resolves with the claimed row for the one caller that moved the copy out of `planned`, else null. */
  claim(copyId: number): Promise<CopyRow | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ copyId, resolve, reject });
      if (this.queue.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    try {
      const at = this.now();
      // Right before the broker calls: nothing else rides in this commit (txNow).
      const won = this.store.txNow(() => batch.map((p) => this.store.copies.claim(p.copyId, this.from, this.to, at)));
      batch.forEach((p, i) => p.resolve(won[i] ?? null));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
