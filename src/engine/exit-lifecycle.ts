/**
 * An exit that finds the follower's entry still working after the leader's entry is done (the
 * leader's LIMIT filled, the copy's did not): in the follower's queue, cancel those entries first,
 * read what each of them filled in the end, then size the exit from what the follower now holds —
 * never more (no exit crosses a follower through zero), in the products it holds them in (its rule's
 * product first: see entry-rules.ts exitHoldings), sliced by the freeze limit.
 */
import type { BrokerOrder } from '../domain/order.js';
import { freezeQty, legOf, partOf, sliceQty } from '../domain/freeze.js';
import { sizeExit } from '../domain/sizing.js';
import { copyTag } from '../domain/tag.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { DeferredExit } from './copy-planner.js';
import { allocateExit, exitHoldings } from './entry-rules.js';
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
      const live = this.d.store.copies.inStates(['planned', 'placing', 'open']).filter((c) => c.id !== fresh.id && c.followerId === f.id && c.segment === fresh.segment && c.securityId === fresh.securityId);
      // What the cancelled entries filled may sit in another product than the exit was planned in.
      const holdings = exitHoldings(this.d.positions, f.id, fresh, x.mapped, x.direction, live, fresh.side);
      const free = holdings.reduce((n, h) => n + h.free, 0);
      const held = holdings.reduce((n, h) => n + h.held, 0) * x.direction;
      const size = sizeExit({ leaderQty: x.leaderQty, leaderPosition: x.leaderPosition, followerPosition: free, lotSize: fresh.lotSize });
      const inProducts = holdings.some((h) => h.product !== fresh.product) ? ` (${holdings.map((h) => `${h.held * x.direction} ${h.product}`).join(' + ')})` : '';
      const decided = `after cancelling ${x.staleEntries.length} unfilled entr${x.staleEntries.length === 1 ? 'y' : 'ies'}: ${f.id} holds ${held}${inProducts}`;
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
      const slices = allocateExit(size.quantity, holdings).flatMap((a) => sliceQty(a.qty, fresh.lotSize, inst ? freezeQty(inst) : null).map((q) => ({ q, product: a.product })));
      const byProduct = new Set(slices.map((x) => x.product)).size > 1;
      const note = `${fresh.reason ?? ''}; ${decided} → sends ${size.quantity}`;
      const first = slices[0]!;
      this.d.store.copies.update(fresh.id, { plannedQty: first.q, lots: first.q / fresh.lotSize, product: first.product, reason: note, updatedAt: now });
      const extra: NewCopy[] = slices.slice(1).map(({ q, product }, j) => {
        const leg = legOf(partOf(fresh.leg), j + 1);
        const { id: _id, ...rest } = fresh;
        return { ...rest, product, leg, tag: copyTag(fresh.leaderOrderId, f.id, leg), plannedQty: q, lots: q / fresh.lotSize, reason: `${note}; slice ${j + 2} of ${slices.length} (${byProduct ? product : 'freeze limit'})`, createdAt: now, updatedAt: now };
      });
      const rows = [{ ...fresh, product: first.product }, ...(extra.length ? this.d.store.copies.insert(extra) : [])];
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
