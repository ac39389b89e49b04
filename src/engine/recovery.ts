/**
 * Recovery after a restart: the copies a crash left behind. `placing` (the order call may have gone
 * out) is resolved by looking its tag up, never re-sent blindly; a fresh `planned` copy is placed; a
 * stale one fails and says so; an exit never sized (it waited for cancels) is never sent as 0. Only
 * for followers whose order book has been read since start-up.
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';

export interface RecoveryDeps {
  store: Store;
  clock: Clock;
  executor: CopyExecutor;
  followers: Map<string, FollowerRuntime>;
  events: EngineEvents;
  log: Logger;
  /** Planned copies older than this are not placed. */
  staleAfterMs: number;
  consequence: (c: CopyRow) => string;
}

export async function recoverCopies(d: RecoveryDeps, only?: FollowerRuntime): Promise<void> {
  const { store, clock } = d;
  const work: Promise<void>[] = [];
  for (const c of store.copies.inStates(['placing', 'planned'])) {
    const f = d.followers.get(c.followerId);
    if (!f || !f.bookRead || (only && f !== only)) continue;
    if (c.state === 'placing') work.push(d.executor.recover(c));
    else if (c.plannedQty <= 0) {
      // An exit that was waiting for its stale entries' cancels to be sized: never sent as 0.
      store.copies.update(c.id, { state: 'skipped', reason: 'an exit not yet sized when tandem stopped; the drift watch shows what is left', updatedAt: clock.now() });
    } else if (clock.now() - c.createdAt <= d.staleAfterMs) work.push(d.executor.place(c, null));
    else {
      store.copies.update(c.id, { state: 'failed', reason: 'not placed before a restart and now stale; not sent', updatedAt: clock.now() });
      const row = store.copies.get(c.id);
      if (row) d.events.emit({ type: 'copy_failed', copy: row, consequence: d.consequence(row) });
    }
  }
  if (work.length) d.log.info({ copies: work.length, follower: only?.id }, 'resolving copies left from before the restart');
  await Promise.all(work);
}
