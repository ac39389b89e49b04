/**
 * An exit that finds the follower's entry still working after the leader's entry is done (the
 * leader's LIMIT filled, the copy's did not): in the follower's queue, cancel those entries first,
 * read what each of them filled in the end, then size the exit from what the follower now holds —
 * never more (no exit crosses a follower through zero), sliced by the freeze limit.
 */
import type { BrokerOrder } from '../domain/order.js';
import { freezeQty, legOf, partOf, sliceQty } from '../domain/freeze.js';
import { sizeExit } from '../domain/sizing.js';
import { copyTag } from '../domain/tag.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { DeferredExit } from './copy-planner.js';
import { inFlightMarketExits } from './copy-planner.js';
import type { CopyExecutor } from './copy-executor.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { PositionBook } from './positions.js';

export interface ExitDeps {
  store: Store;
  executor: CopyExecutor;
  positions: PositionBook;
  instruments: InstrumentResolver;
  clock: Clock;
  log: Logger;
  events: EngineEvents;
  leaderBroker: () => string;
  followerUpdate: (f: FollowerRuntime, u: BrokerOrder) => void;
}

export class ExitLifecycle {
  constructor(private readonly d: ExitDeps) {}

  /** Queue the deferred exit `copy` behind the cancels of its stale entries (one follower turn). */
  run(f: FollowerRuntime, copy: CopyRow, x: DeferredExit): Promise<void> {
    return f.run(async () => {
      for (const id of x.staleEntries) {
        await this.d.executor.cancelNow(f, id, 'the leader exited; its entry had filled, this copy had not');
        await this.settle(f, id);
      }
      const now = this.d.clock.now();
      const fresh = this.d.store.copies.get(copy.id);
      if (!fresh || fresh.state !== 'planned') return;
      const held = this.d.positions.get(f.id, fresh, fresh.product);
      const sameDirection = Math.sign(held) === x.direction ? Math.abs(held) : 0;
      const live = this.d.store.copies.inStates(['planned', 'placing', 'open']).filter((c) => c.id !== fresh.id && c.followerId === f.id && c.segment === fresh.segment && c.securityId === fresh.securityId && c.product === fresh.product);
      const free = Math.max(0, sameDirection - inFlightMarketExits(live, fresh.side));
      const size = sizeExit({ leaderQty: x.leaderQty, leaderPosition: x.leaderPosition, followerPosition: free, lotSize: fresh.lotSize });
      const decided = `after cancelling ${x.staleEntries.length} unfilled entr${x.staleEntries.length === 1 ? 'y' : 'ies'}: ${f.id} holds ${held}`;
      this.d.log.info({ leaderOrder: fresh.leaderOrderId, follower: f.id, held, qty: size.ok ? size.quantity : 0 }, `exit sized again ${decided}`);
      if (!size.ok) {
        if (this.d.store.copies.transition(fresh.id, 'planned', 'skipped', now)) {
          this.d.store.copies.update(fresh.id, { reason: `${size.reason} (${decided})` });
          const row = this.d.store.copies.get(fresh.id);
          if (row) this.d.events.emit({ type: 'copy_skipped', copy: row });
        }
        return;
      }
      const inst = this.d.instruments.lookup(f.master(this.d.leaderBroker()), fresh);
      const slices = sliceQty(size.quantity, fresh.lotSize, inst ? freezeQty(inst) : null);
      const note = `${fresh.reason ?? ''}; ${decided} → sends ${size.quantity}`;
      this.d.store.copies.update(fresh.id, { plannedQty: slices[0]!, lots: slices[0]! / fresh.lotSize, reason: note, updatedAt: now });
      const extra: NewCopy[] = slices.slice(1).map((q, j) => {
        const leg = legOf(partOf(fresh.leg), j + 1);
        const { id: _id, ...rest } = fresh;
        return { ...rest, leg, tag: copyTag(fresh.leaderOrderId, f.id, leg), plannedQty: q, lots: q / fresh.lotSize, reason: `${note}; slice ${j + 2} of ${slices.length} (freeze limit)`, createdAt: now, updatedAt: now };
      });
      const rows = [fresh, ...(extra.length ? this.d.store.copies.insert(extra) : [])];
      for (const c of rows) await this.d.executor.placeNow(f, c.id);
    });
  }

  /** What a cancelled entry filled in the end, read from the broker, so its fills count before sizing. */
  private async settle(f: FollowerRuntime, copyId: number): Promise<void> {
    const c = this.d.store.copies.get(copyId);
    if (!c || !c.followerOrderId) return;
    try {
      const o = await f.broker.findOrderByTag(c.tag);
      if (o) this.d.followerUpdate(f, o);
    } catch (e) {
      this.d.log.warn({ follower: f.id, copy: copyId, err: (e as Error).message }, 'could not read the cancelled entry back; the exit is sized from the fills seen so far');
    }
  }
}
