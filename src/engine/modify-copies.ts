/**
 * A leader modification, followed on every copy of the order: price, trigger and type go to every
 * copy; a quantity change is re-sized per follower and part, then spread over the freeze-limit
 * slices (extra slices placed, surplus ones cancelled).
 */
import type { BrokerOrder, OrderChange } from '../domain/order.js';
import type { LeaderAction, LeaderOrderSnapshot } from '../domain/planner.js';
import { floorLots } from '../domain/sizing.js';
import { copyTag } from '../domain/tag.js';
import { freezeQty, legOf, partOf, sliceQty } from '../domain/freeze.js';
import type { Clock } from '../infra/clock.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { PositionBook } from './positions.js';

export interface ModifyDeps {
  store: Store;
  followers: Map<string, FollowerRuntime>;
  executor: CopyExecutor;
  instruments: InstrumentResolver;
  positions: PositionBook;
  clock: Clock;
  leaderBroker: () => string;
}

export class CopyModifier {
  constructor(private readonly d: ModifyDeps) {}

  /**
   * Follow a leader modification: price, trigger and type go to every copy; a quantity change is
   * re-sized per follower and part (entries by the ratio, exits in proportion, never below what has
   * filled), then spread over the freeze-limit slices — extra slices placed, surplus ones cancelled.
   */
  modifyCopies(u: BrokerOrder, prev: LeaderOrderSnapshot, a: Extract<LeaderAction, { kind: 'modify' }>): void {
    const groups = new Map<string, CopyRow[]>();
    for (const c of this.d.store.copies.forLeaderOrder(u.orderId)) {
      const k = `${c.followerId}:${partOf(c.leg)}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    const now = this.d.clock.now();
    for (const slices of groups.values()) {
      const live = slices.filter((c) => LIVE_COPY_STATES.includes(c.state));
      const first = slices[0]!;
      const f = this.d.followers.get(first.followerId);
      if (!f || live.length === 0) continue;
      const planned = slices.reduce((n, c) => n + (LIVE_COPY_STATES.includes(c.state) || c.state === 'filled' ? c.plannedQty : 0), 0);
      const filled = slices.reduce((n, c) => n + c.filledQty, 0);
      let total = planned;
      if (a.quantity !== prev.quantity) {
        if (first.kind === 'entry' && f.cfg.sizing !== 'fixed_lots' && first.ratio !== null) {
          total = floorLots((a.quantity / first.lotSize) * first.ratio) * first.lotSize;
          if (f.cfg.maxLots != null) total = Math.min(total, f.cfg.maxLots * first.lotSize);
        } else if (first.kind === 'exit' && prev.quantity > 0) {
          total = Math.min(floorLots(((planned / first.lotSize) * a.quantity) / prev.quantity) * first.lotSize, Math.abs(this.d.positions.get(f.id, first, first.product)));
        }
        total = Math.max(total, filled);
      }
      const inst = this.d.instruments.resolve(this.d.leaderBroker(), f.master(this.d.leaderBroker()), u.instrument);
      const targets = sliceQty(total, first.lotSize, inst.ok ? freezeQty(inst.instrument) : null);
      const terms = (quantity: number): OrderChange => ({
        orderType: a.orderType,
        validity: u.validity,
        quantity,
        ...(a.price > 0 ? { price: a.price } : {}),
        ...(a.triggerPrice > 0 ? { triggerPrice: a.triggerPrice } : {}),
      });
      const bySlice = [...slices].sort((x, y) => x.leg - y.leg);
      bySlice.forEach((c, i) => {
        if (!LIVE_COPY_STATES.includes(c.state)) return;
        const q = targets[i];
        if (q === undefined || q <= 0) void this.d.executor.cancel(c.id, c.followerId, 'the leader reduced the order');
        else void this.d.executor.modify(c.id, c.followerId, terms(Math.max(q, c.filledQty)));
      });
      // The leader grew the order past the slices we have: place the extra slices.
      const extra: NewCopy[] = targets.slice(bySlice.length).map((q, j) => {
        const leg = legOf(partOf(first.leg), bySlice.length + j);
        const { id: _id, ...rest } = first;
        return {
          ...rest,
          leg,
          tag: copyTag(u.orderId, f.id, leg),
          state: first.state === 'awaiting_approval' ? 'awaiting_approval' : 'planned',
          plannedQty: q,
          lots: q / first.lotSize,
          filledQty: 0,
          avgPrice: 0,
          followerOrderId: null,
          price: a.price,
          triggerPrice: a.triggerPrice,
          orderType: a.orderType,
          reason: 'extra slice after the leader increased the order',
          requestSentAt: null,
          ackedAt: null,
          filledAt: null,
          internalLatencyUs: null,
          brokerLatencyUs: null,
          createdAt: now,
          updatedAt: now,
        };
      });
      if (extra.length) for (const c of this.d.store.copies.insert(extra)) if (c.state === 'planned') void this.d.executor.place(c, null);
    }
  }
}
