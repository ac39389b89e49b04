/**
 * The durable claim: a copy moves `planned → placing` in one guarded UPDATE, and that commit is
 * synced to disk (synchronous=FULL) before any broker call — so after a crash or a power loss the
 * store still knows the order may exist, and resolves it by tag instead of placing it again. Every
 * other write runs at synchronous=NORMAL (durable against a process crash, not a power cut), which
 * keeps fsyncs off the hot path; the claim's sync also makes every earlier write durable.
 *
 * Claims asked for in the same turn of the event loop (one leader event fanning out to its
 * followers) share one transaction and one fsync.
 */
import type { CopyState } from '../store/schema.js';
import type { Store } from '../store/index.js';

interface Pending {
  copyId: number;
  resolve: (won: boolean) => void;
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

  /** Resolves true for the one caller that moved the copy out of `planned`. */
  claim(copyId: number): Promise<boolean> {
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
      const won = this.store.durably(() => batch.map((p) => this.store.copies.transition(p.copyId, this.from, this.to, at)));
      batch.forEach((p, i) => p.resolve(won[i] ?? false));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
