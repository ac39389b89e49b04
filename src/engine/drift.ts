/**
 * The drift watch: every minute of the market session (and on demand: /drift, /status) compare
 * each follower's net position per instrument and product — the position book — with the leader's
 * scaled by that follower's sizing (domain/drift.ts). A drift beyond rounding raises ONE alert per
 * follower and instrument, with a Sync button; it is raised again only when the numbers change,
 * or after it was gone and came back.
 *
 * Sync places market orders bringing the follower to the scaled target through the same
 * exactly-once machinery as flatten (intent rows with tags, each follower's queue): the reducing
 * part first; an entry (opening or adding) passes the follower's caps and is never placed while the
 * follower is paused or the engine halted — a reduction always is.
 *
 * Not checked: a follower whose session is dead or whose order book is unread (its book may be
 * stale), and an instrument with copies still in flight for that follower (an entry or exit
 * planned, waiting for approval, being placed or working): those are still converging.
 */
import { createHash } from 'node:crypto';
import { driftOf, inMarketHours, syncSteps } from '../domain/drift.js';
import type { Instrument } from '../domain/instrument.js';
import { isDerivative } from '../domain/instrument.js';
import type { InstrumentRef, Product } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import { floorLots, sizeEntry } from '../domain/sizing.js';
import { entryProduct, type FollowerRules } from '../domain/rules.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import { batchId, contractTerms, marketCopies, type MarketLeg } from './market-orders.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface DriftItem {
  /** Short stable id of (follower, instrument, product), for buttons. */
  id: string;
  followerId: string;
  /** The follower's contract. */
  instrument: InstrumentRef;
  product: Product;
  lotSize: number;
  leaderNet: number;
  followerNet: number;
  /** The scaled target, units, signed. */
  target: number;
  /** The exact scaled position in lots (before rounding), signed. */
  exactLots: number;
}

export interface NotChecked {
  followerId: string;
  /** The item id; null when the whole follower was not checked. */
  id: string | null;
  /** null: the whole follower. */
  symbol: string | null;
  reason: string;
}

export interface DriftScan {
  items: DriftItem[];
  notChecked: NotChecked[];
}

export interface SyncPlan {
  item: DriftItem;
  /** In the order they go out: the reducing part first. */
  legs: MarketLeg[];
  /** What is not placed, and why (paused, halted, caps). */
  notes: string[];
  /** Identifies the plan: the second tap places only what the first one showed. */
  signature: string;
}

export type SyncOutcome =
  | { kind: 'placed'; plan: SyncPlan; placed: CopyRow[] }
  | { kind: 'changed'; plan: SyncPlan }
  | { kind: 'none'; reason: string };

/** What the drift watch reads of the position book (PositionBook): one net, and every open line of an account. */
export interface PositionReader {
  get(accountId: string, i: Pick<InstrumentRef, 'segment' | 'securityId'>, product: Product): number;
  lines(accountId: string): (Pick<InstrumentRef, 'segment' | 'securityId' | 'symbol'> & { product: Product; qty: number })[];
}

export interface DriftDeps {
  store: Store;
  settings: RuntimeSettings;
  followers: Map<string, FollowerRuntime>;
  executor: CopyExecutor;
  instruments: InstrumentResolver;
  positions: PositionReader;
  prices: PriceBoard;
  events: EngineEvents;
  clock: Clock;
  logger: Logger;
  leaderBroker: () => string;
  /** The leader's available funds (capital sizing), cached by the engine. */
  leaderFunds: () => number | null;
  /** Each follower's effective rules: the leader's product is compared with the one its PRODUCT rule maps it to (else its config's). */
  rules?: { get(followerId: string): FollowerRules };
}

export function driftId(followerId: string, i: Pick<InstrumentRef, 'segment' | 'securityId'>, product: Product): string {
  return createHash('sha256').update(`${followerId}|${instrumentKey(i)}|${product}`).digest('hex').slice(0, 10);
}

type Ref = InstrumentRef & { product: Product };

export class DriftWatch {
  /** Drift alerted, by item id → the numbers it was alerted with. */
  private readonly alerted = new Map<string, string>();
  /** Item id → its follower, for every line seen. */
  private readonly owners = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly d: DriftDeps) {
    this.log = d.logger.child({ module: 'drift' });
  }

  /** The minute timer's body: a check during the market session, nothing outside it. */
  tick(): DriftItem[] {
    return inMarketHours(this.d.clock.now()) ? this.check() : [];
  }

  /** Scan now and alert each drift not alerted yet with these numbers. Returns the new alerts. */
  check(): DriftItem[] {
    const scan = this.scan();
    const fresh: DriftItem[] = [];
    const now = new Set<string>();
    for (const item of scan.items) {
      now.add(item.id);
      const sig = `${item.leaderNet}|${item.followerNet}|${item.target}`;
      if (this.alerted.get(item.id) === sig) continue;
      this.alerted.set(item.id, sig);
      fresh.push(item);
      this.log.warn({ follower: item.followerId, symbol: item.instrument.symbol, product: item.product, leader: item.leaderNet, follower_net: item.followerNet, target: item.target }, 'drift');
      this.d.events.emit({ type: 'drift', drift: item });
    }
    // Checked and fine now: forget it, so that a drift coming back is alerted again. What was not
    // checked this time (copies in flight, a session down) keeps its mark.
    const unchecked = new Set(scan.notChecked.map((n) => n.id ?? `follower:${n.followerId}`));
    for (const id of [...this.alerted.keys()]) {
      if (now.has(id) || unchecked.has(id) || unchecked.has(`follower:${this.owners.get(id)}`)) continue;
      this.alerted.delete(id);
    }
    return fresh;
  }

  /** How many instruments drift right now (for /status). */
  count(): number {
    return this.scan().items.length;
  }

  /** Every follower's drift now, and what could not be checked. No I/O: the position book only. */
  scan(): DriftScan {
    const out: DriftScan = { items: [], notChecked: [] };
    const lb = this.d.leaderBroker();
    const leaderLines = this.d.positions.lines('leader');
    const live = this.d.store.copies.inStates(LIVE_COPY_STATES);
    for (const f of this.d.followers.values()) {
      if (!f.sessionOk) {
        out.notChecked.push({ followerId: f.id, id: null, symbol: null, reason: `session expired (${f.sessionDetail ?? 'token dead'}): its positions may be stale` });
        continue;
      }
      if (!f.bookRead) {
        out.notChecked.push({ followerId: f.id, id: null, symbol: null, reason: 'its order book has not been read since start-up' });
        continue;
      }
      // The leader's lines in the product this follower's PRODUCT rule turns them into (identity for `same`).
      const rule = (this.d.rules?.get(f.id) ?? f.cfg.rules).product;
      const mapped = leaderLines.map((l) => ({ ...l, product: entryProduct(rule, l.product, l.segment) }));
      const refs = new Map<string, Ref>();
      for (const l of [...mapped, ...this.d.positions.lines(f.id)]) {
        const k = `${instrumentKey(l)}:${l.product}`;
        if (!refs.has(k)) refs.set(k, { segment: l.segment, securityId: l.securityId, symbol: l.symbol, product: l.product });
      }
      const policy = f.policy(this.d.settings.ratio(f.id), this.d.leaderFunds());
      for (const ref of refs.values()) {
        const id = driftId(f.id, ref, ref.product);
        this.owners.set(id, f.id);
        const skip = (reason: string) => out.notChecked.push({ followerId: f.id, id, symbol: ref.symbol, reason });
        const inFlight = live.filter((c) => c.followerId === f.id && c.segment === ref.segment && c.securityId === ref.securityId).length;
        if (inFlight > 0) {
          skip(`${inFlight} cop${inFlight === 1 ? 'y' : 'ies'} in flight: still converging`);
          continue;
        }
        const leaderNet = mapped.filter((l) => l.product === ref.product && instrumentKey(l) === instrumentKey(ref)).reduce((n, l) => n + l.qty, 0);
        const followerNet = this.d.positions.get(f.id, ref, ref.product);
        const inst = this.contract(lb, f, ref, leaderNet !== 0);
        if ('reason' in inst) {
          skip(inst.reason);
          continue;
        }
        const v = driftOf({ leaderNet, followerNet, lotSize: inst.lotSize, policy });
        if (!v.ok) {
          skip(v.reason);
          continue;
        }
        if (!v.drift) continue;
        out.items.push({
          id,
          followerId: f.id,
          instrument: { segment: inst.segment, securityId: inst.securityId, symbol: inst.symbol },
          product: ref.product,
          lotSize: inst.lotSize,
          leaderNet,
          followerNet,
          target: v.target,
          exactLots: v.exactLots,
        });
      }
    }
    return out;
  }

  /** The follower's contract for a leader (or follower-only) line; a reason when it cannot be known. */
  private contract(lb: string, f: FollowerRuntime, ref: Ref, leaderHolds: boolean): Instrument | { reason: string } {
    const master = f.master(lb);
    if (leaderHolds) {
      const r = this.d.instruments.resolve(lb, master, ref);
      if (r.ok) return r.instrument;
      // The leader's contract does not map; what the follower holds of it can still be judged.
      if (this.d.positions.get(f.id, ref, ref.product) === 0) return { reason: r.reason };
    }
    const own = this.d.instruments.lookup(master, ref);
    if (own) return own;
    if (!isDerivative(ref.segment)) return { ...ref, name: ref.symbol, lotSize: 1, tickSize: 0.05, expiry: null, strike: null, optionType: null, freezeQty: null };
    return { reason: `${ref.symbol} is not in the ${master} instrument master: lot size unknown` };
  }

  /** The orders a Sync of drift `id` would place now, or why there is nothing to sync. */
  plan(id: string): SyncPlan | { none: string } {
    const scan = this.scan();
    const item = scan.items.find((i) => i.id === id);
    if (!item) {
      const owner = this.owners.get(id);
      const why = scan.notChecked.find((n) => n.id === id || (n.id === null && n.followerId === owner))?.reason;
      return { none: why ? `not checked now: ${why}` : 'no drift now: the follower matches the scaled leader' };
    }
    const f = this.d.followers.get(item.followerId)!;
    const inst = this.d.instruments.lookup(f.master(this.d.leaderBroker()), item.instrument);
    const { freeze } = contractTerms(inst);
    const legs: MarketLeg[] = [];
    const notes: string[] = [];
    for (const s of syncSteps(item.followerNet, item.target)) {
      let qty = s.qty;
      if (s.kind === 'entry') {
        if (this.d.settings.isHalted()) {
          notes.push(`the entry (${s.side} ${qty}) is not placed: the engine is halted; /resume all first`);
          continue;
        }
        if (this.d.settings.isPaused(f.id)) {
          notes.push(`the entry (${s.side} ${qty}) is not placed: ${f.id} is paused; /resume ${f.id} first`);
          continue;
        }
        // The follower's caps apply to an increase as to any entry.
        const size = sizeEntry({ leaderQty: qty, lotSize: item.lotSize, price: this.d.prices.last(item.instrument), policy: { kind: 'fixed_lots', lots: floorLots(qty / item.lotSize) }, caps: { maxLots: f.cfg.maxLots, maxOrderValue: f.cfg.maxOrderValue } });
        if (!size.ok) {
          notes.push(`the entry (${s.side} ${qty}) is not placed: ${size.reason}`);
          continue;
        }
        if (size.note) notes.push(`the entry is ${size.note}`);
        qty = size.quantity;
      }
      legs.push({ followerId: f.id, kind: s.kind, instrument: item.instrument, product: item.product, side: s.side, qty, lotSize: item.lotSize, freeze });
    }
    const signature = JSON.stringify([item.leaderNet, item.followerNet, item.target, legs.map((l) => [l.kind, l.side, l.qty])]);
    return { item, legs, notes, signature };
  }

  /**
   * Place the Sync of drift `id` — only if the plan is still the one shown (`signature`); a plan
   * that changed since is returned to be shown again, never placed unseen.
   */
  sync(id: string, by: number | null, signature: string): SyncOutcome {
    const plan = this.plan(id);
    if ('none' in plan) return { kind: 'none', reason: plan.none };
    if (plan.signature !== signature) return { kind: 'changed', plan };
    if (plan.legs.length === 0) return { kind: 'none', reason: plan.notes.join('; ') || 'nothing to place' };
    const batch = batchId('sync');
    const placed = this.d.store.copies.insert(marketCopies(batch, plan.legs, `drift sync by ${by ?? 'system'}`, this.d.clock.now()));
    for (const c of placed) void this.d.executor.place(c, null);
    this.log.info(
      { by, batch, follower: plan.item.followerId, symbol: plan.item.instrument.symbol, leader: plan.item.leaderNet, held: plan.item.followerNet, target: plan.item.target, orders: placed.map((c) => `${c.side} ${c.plannedQty}`) },
      'drift sync placed',
    );
    return { kind: 'placed', plan, placed };
  }
}
