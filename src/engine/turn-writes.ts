/**
 * Writes that share one commit with the others of the same event-loop turn (issue 16): the
 * acknowledgements of 20 followers' orders, read off their sockets in one poll, were 20 commits.
 * The caller waits until its write is committed, so a follower's queue never moves on (to a modify,
 * a cancel) before the acknowledgement is recorded. Each write runs in its own savepoint, so one
 * that throws fails alone; if the shared commit fails, each is written again on its own. Only for
 * writes whose loss in a crash is already covered: an acknowledgement lost with the process leaves
 * the copy `placing`, resolved by tag at the next start (never for claims: those commit before the
 * broker call, claims.ts).
 */
import type { Store } from '../store/index.js';

interface Waiting {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class TurnWrites {
  private queue: Waiting[] = [];

  constructor(private readonly store: Store) {}

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const results: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      this.store.tx(() => {
        for (const w of batch) {
          try {
            results.push({ ok: true, value: this.store.tx(w.fn) });
          } catch (err) {
            results.push({ ok: false, err });
          }
        }
      });
    } catch {
      // The shared commit failed: each write again on its own, so one failure costs one write, as without the batch.
      for (const w of batch) {
        try {
          w.resolve(this.store.tx(w.fn));
        } catch (err) {
          w.reject(err);
        }
      }
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else w.reject(r.err);
    });
  }
}
