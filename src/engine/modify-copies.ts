/**
 * A leader modification, followed on every copy of the order. Price, trigger and type go to every
 * working copy. A quantity change is sized again per follower and part: exits in proportion (never
 * more than the follower holds); entries through the one entry gate (entry-gate.ts), so an increase
 * meets MAX_LOTS, MAX_ORDER_VALUE, approval and freeze slicing exactly as a new entry would. An
 * increase that needs approval waits as new slices while the working copy stays as it was; an
 * increase after the copy has filled is a new order for the difference. A decrease cuts the newest
 * slices first and never below what has filled.
 */
import type { BrokerOrder, OrderChange } from '../domain/order.js';
import type { Instrument } from '../domain/instrument.js';
import type { LeaderAction, LeaderOrderSnapshot } from '../domain/planner.js';
import { floorLots } from '../domain/sizing.js';
import { copyTag } from '../domain/tag.js';
import { freezeQty, legOf, maxSliceQty, partOf, sliceOf, sliceQty } from '../domain/freeze.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import { gateEntry, type ApprovalRules } from './entry-gate.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { PositionBook } from './positions.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface ModifyDeps {
  store: Store;
  followers: Map<string, FollowerRuntime>;
  executor: CopyExecutor;
  instruments: InstrumentResolver;
  positions: PositionBook;
  prices: PriceBoard;
  settings: RuntimeSettings;
  clock: Clock;
  log: Logger;
  leaderBroker: () => string;
  leaderFunds: () => number | null;
  approval: ApprovalRules | undefined;
  /** Why no entry (or no increase) can go to this follower now, or null (the planner's check). */
  blocked: (f: FollowerRuntime, inst: Instrument | null) => string | null;
  /** A new approval id for increases that must wait for a tap. */
  newApprovalId: () => string;
  /** Write the approval request with its waiting copies in one transaction, then show it. */
  requestApproval: (leaderOrderId: string, copies: NewCopy[], describe: string) => void;
}

/** Units a slice stands for: what it is planned to fill, or what it did fill if more. */
type Modify = Extract<LeaderAction, { kind: 'modify' }>;

/** A follower's new total for one part of the order, whether the addition waits, and why. */
interface Target {
  target: number;
  wait: string | null;
  why: string;
  /** ₹ per unit for valuing new slices, when known. */
  unitValue: number | null;
}

function held(c: CopyRow): number {
  return Math.max(c.plannedQty, c.filledQty);
}

const COUNTED: CopyRow['state'][] = [...LIVE_COPY_STATES, 'filled'];

export class CopyModifier {
  constructor(private readonly d: ModifyDeps) {}

  modifyCopies(u: BrokerOrder, prev: LeaderOrderSnapshot, a: Modify): void {
    const groups = new Map<string, CopyRow[]>();
    for (const c of this.d.store.copies.forLeaderOrder(u.orderId)) {
      const k = `${c.followerId}:${partOf(c.leg)}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    const waiting: NewCopy[] = [];
    for (const slices of groups.values()) {
      const counted = slices.filter((c) => COUNTED.includes(c.state)).sort((x, y) => x.leg - y.leg);
      const first = slices[0]!;
      const f = this.d.followers.get(first.followerId);
      if (!f || counted.length === 0) continue;
      const already = counted.reduce((n, c) => n + held(c), 0);
      let r: Target = { target: already, wait: null, why: '', unitValue: null };
      if (a.quantity !== prev.quantity) r = first.kind === 'entry' ? this.entryTarget(u, prev, a, f, first, already) : this.exitTarget(a, prev, f, first, counted);
      waiting.push(...this.apply(u, a, f, first, counted, r));
    }
    if (waiting.length) this.d.requestApproval(u.orderId, waiting, `${u.side} ${a.quantity} ${u.instrument.symbol} ${a.orderType}${a.price ? ` @ ${a.price}` : ''} (leader ${u.orderId}, modified from ${prev.quantity})`);
  }

  /** An entry's new total through the entry gate: more only when the gate lets it, never below what filled. */
  private entryTarget(u: BrokerOrder, prev: LeaderOrderSnapshot, a: Modify, f: FollowerRuntime, first: CopyRow, already: number): Target {
    const inst = this.d.instruments.resolve(this.d.leaderBroker(), f.master(this.d.leaderBroker()), u.instrument);
    const last = this.d.prices.last(u.instrument);
    const price = a.price > 0 ? { price: a.price, source: 'limit price' } : a.triggerPrice > 0 ? { price: a.triggerPrice, source: 'trigger price' } : last ? { price: last, source: `last price seen @ ${last}` } : null;
    const g = gateEntry({
      follower: f,
      ratioOverride: this.d.settings.ratio(f.id),
      leaderFunds: this.d.leaderFunds(),
      leaderQty: a.quantity,
      lotSize: first.lotSize,
      price,
      noPriceWhy: 'a market order with no price seen yet',
      freeze: inst.ok ? freezeQty(inst.instrument) : null,
      already,
      approval: this.d.approval,
    });
    if (!g.ok) {
      // Nothing more can be sized; a decrease still cuts the copy in proportion.
      const down = prev.quantity > 0 && a.quantity < prev.quantity ? floorLots(((already / first.lotSize) * a.quantity) / prev.quantity) * first.lotSize : already;
      return { target: down, wait: null, why: `not increased: ${g.reason}`, unitValue: null };
    }
    const unitValue = g.notional !== null && g.total > 0 ? g.notional / g.total : null;
    if (g.add > 0) {
      // The follower's own rules (segments, entry window, loss limit, max open positions) as for a new entry.
      const blocked = this.d.blocked(f, inst.ok ? inst.instrument : null);
      if (blocked) return { target: already, wait: null, why: `not increased: ${blocked}`, unitValue };
    }
    return { target: g.total, wait: g.add > 0 ? g.wait : null, why: g.note ?? '', unitValue };
  }

  /** An exit's new total: in proportion to the leader's change, never more than the follower holds. */
  private exitTarget(a: Modify, prev: LeaderOrderSnapshot, f: FollowerRuntime, first: CopyRow, counted: CopyRow[]): Target {
    const planned = counted.reduce((n, c) => n + c.plannedQty, 0);
    if (prev.quantity <= 0) return { target: planned, wait: null, why: '', unitValue: null };
    const scaled = floorLots(((planned / first.lotSize) * a.quantity) / prev.quantity) * first.lotSize;
    const filled = counted.reduce((n, c) => n + c.filledQty, 0);
    // Never more than is held (what filled already is part of what was held), never below what filled.
    // Only a position on the side this exit closes counts (a SELL closes a long): never through zero.
    // An exit may sell from more than one product (the follower's own, see entry-rules.ts): each counts.
    const products = [...new Set(counted.map((c) => c.product))];
    const closing = (p: CopyRow['product']) => {
      const pos = this.d.positions.get(f.id, first, p);
      return Math.sign(pos) === (first.side === 'SELL' ? 1 : -1) ? Math.abs(pos) : 0;
    };
    const cap = filled + products.reduce((n, p) => n + closing(p), 0);
    // More is added in one product only: never when the exit spans several (it could oversell one).
    const total = counted.reduce((n, c) => n + held(c), 0);
    const target = Math.max(filled, Math.min(scaled, cap));
    return { target: products.length > 1 ? Math.min(target, total) : target, wait: null, why: '', unitValue: null };
  }

  /**
   * Move one follower's slices of one part to `target` units: cut the newest working slices first
   * (cancel what would drop to what has filled), top up the newest working slice to the freeze limit,
   * and add new slices for the rest. New slices wait for approval when `wait` says so; the working
   * ones are then left as they were. Returns the waiting slices.
   */
  private apply(u: BrokerOrder, a: Modify, f: FollowerRuntime, first: CopyRow, counted: CopyRow[], { target, wait, why, unitValue }: Target): NewCopy[] {
    const lot = first.lotSize;
    const inst = this.d.instruments.resolve(this.d.leaderBroker(), f.master(this.d.leaderBroker()), u.instrument);
    const freeze = inst.ok ? freezeQty(inst.instrument) : null;
    const maxSlice = maxSliceQty(lot, freeze);
    const working = counted.filter((c) => LIVE_COPY_STATES.includes(c.state));
    const qty = new Map(working.map((c) => [c.id, c.plannedQty]));
    const total = counted.reduce((n, c) => n + held(c), 0);
    let delta = target - total;
    if (delta < 0) {
      for (const c of [...working].reverse()) {
        if (delta >= 0) break;
        const give = Math.min(c.plannedQty - c.filledQty, -delta);
        qty.set(c.id, c.plannedQty - give);
        delta += give;
      }
    } else if (delta > 0 && !wait) {
      const top = working.at(-1);
      if (top && top.state !== 'awaiting_approval') {
        const room = Math.max(0, maxSlice - top.plannedQty);
        const up = Math.min(room, delta);
        qty.set(top.id, top.plannedQty + up);
        delta -= up;
      }
    }
    const terms = (quantity: number): OrderChange => ({
      orderType: a.orderType,
      validity: u.validity,
      quantity,
      ...(a.price > 0 ? { price: a.price } : {}),
      ...(a.triggerPrice > 0 ? { triggerPrice: a.triggerPrice } : {}),
    });
    for (const c of working) {
      const q = qty.get(c.id) ?? c.plannedQty;
      if (q <= c.filledQty) void this.d.executor.cancel(c.id, c.followerId, 'the leader reduced the order');
      else void this.d.executor.modify(c.id, c.followerId, terms(q));
    }
    if (why) this.d.log.info({ leaderOrder: u.orderId, follower: f.id, from: total, to: target }, `modify: ${why}`);
    if (delta <= 0) return [];
    // The rest goes out as new slices: after the leader increased the order, or after the copy filled.
    const now = this.d.clock.now();
    const filledAll = working.length === 0;
    const nextSlice = Math.max(...counted.map((c) => sliceOf(c.leg))) + 1;
    const approvalId = wait ? this.d.newApprovalId() : null;
    const reason = [filledAll ? `the copy had filled: a new order for the ${delta} more the leader added` : `extra slice after the leader increased the order to ${a.quantity}`, why || null, wait ? `⚠ ${wait}` : null].filter(Boolean).join('; ');
    const extra: NewCopy[] = sliceQty(delta, lot, freeze).map((q, j) => {
      const leg = legOf(partOf(first.leg), nextSlice + j);
      const { id: _id, ...rest } = first;
      return {
        ...rest,
        leg,
        tag: copyTag(u.orderId, f.id, leg),
        state: approvalId ? ('awaiting_approval' as const) : ('planned' as const),
        approvalId,
        plannedQty: q,
        lots: q / lot,
        notional: unitValue === null ? null : unitValue * q,
        filledQty: 0,
        avgPrice: 0,
        followerOrderId: null,
        price: a.price,
        triggerPrice: a.triggerPrice,
        orderType: a.orderType,
        reason,
        requestSentAt: null,
        ackedAt: null,
        filledAt: null,
        internalLatencyUs: null,
        brokerLatencyUs: null,
        createdAt: now,
        updatedAt: now,
      };
    });
    this.d.log.info({ leaderOrder: u.orderId, follower: f.id, add: delta, slices: extra.length, wait }, reason);
    if (approvalId) return extra;
    for (const c of this.d.store.copies.insert(extra)) void this.d.executor.place(c, null);
    return [];
  }
}
