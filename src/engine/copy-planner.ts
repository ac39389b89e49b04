/**
 * The copies (one per follower, part and freeze slice) a newly seen leader order calls for, and the
 * decision behind each: entry or exit, the numbers used, or why it is skipped. Synchronous, no I/O
 * but cached look-ups and one read of the live copies when the order exits something.
 */
import type { BrokerOrder, Product, Side } from '../domain/order.js';
import { isTerminal, opposite } from '../domain/order.js';
import type { Instrument } from '../domain/instrument.js';
import { entryProduct } from '../domain/rules.js';
import { effectiveRatio, sizeExit, splitEntryExit } from '../domain/sizing.js';
import { copyTag } from '../domain/tag.js';
import { freezeQty, legOf, sliceQty } from '../domain/freeze.js';
import type { OrderStatus } from '../domain/order.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { PositionBook } from './positions.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { gateEntry, type ApprovalRules, type PriceEstimate } from './entry-gate.js';
import { allocateExit, exitHoldings, ruleRefusal, type RuleGateDeps } from './entry-rules.js';

export interface PlannerDeps {
  store: Store;
  followers: Map<string, FollowerRuntime>;
  instruments: InstrumentResolver;
  prices: PriceBoard;
  settings: RuntimeSettings;
  positions: PositionBook;
  log: Logger;
  leaderBroker: () => string;
  leaderFunds: () => number | null;
  /** The leader order's last known status (null when never seen). */
  leaderStatus: (orderId: string) => OrderStatus | null;
  approval: ApprovalRules | undefined;
  /** The follower's own rules (issue 17): filters, entry window, loss limit, max open positions, product. */
  rules: Omit<RuleGateDeps, 'positions' | 'liveEntries'>;
}

/** How a leader order is valued: its own price when it has one, else an estimate, else why not. */
export interface Valuation {
  price: PriceEstimate | null;
  why: string | null;
}

/** The price of a leader order that carries one (limit, trigger, its own fill), else the last seen. */
export function ownPrice(u: BrokerOrder, prices: PriceBoard): PriceEstimate | null {
  if (u.price > 0) return { price: u.price, source: 'limit price' };
  if (u.triggerPrice > 0) return { price: u.triggerPrice, source: 'trigger price' };
  if (u.avgPrice > 0) return { price: u.avgPrice, source: `leader fill @ ${u.avgPrice}` };
  const last = prices.last(u.instrument);
  return last ? { price: last, source: `last price seen @ ${last}` } : null;
}

/**
 * An exit that must wait for the follower's stale entries (their leader order is done, the copy is
 * still working) to be cancelled, then be sized again from what the follower then holds.
 */
export interface DeferredExit {
  followerId: string;
  tag: string;
  staleEntries: number[];
  /** The leader's exit quantity and its absolute position before it, for sizing after the cancels. */
  leaderQty: number;
  leaderPosition: number;
  /** 'long' exits sell what the follower holds long; 'short' buys back a short. */
  direction: 1 | -1;
  /** The product its rule maps the leader's to: sold from first, then any other holding the same direction. */
  mapped: Product;
}

export interface Plan {
  copies: NewCopy[];
  deferred: DeferredExit[];
}

const LIVE: CopyRow['state'][] = ['planned', 'placing', 'open'];
const WORKING_ENTRIES: CopyRow['state'][] = ['planned', 'placing', 'open', 'awaiting_approval'];

export class CopyPlanner {
  private readonly ruleGate: RuleGateDeps;

  constructor(private readonly d: PlannerDeps) {
    this.ruleGate = { ...d.rules, positions: d.positions, liveEntries: () => d.store.copies.inStates(WORKING_ENTRIES) };
  }

  /**
   * Plan the copies of `u`. `leaderNetBefore` is the leader's signed position before this order. An
   * order first seen already terminal (filled, or cancelled after a partial fill) is mirrored for
   * what filled only, at market: never a working order for a rest the leader no longer wants.
   */
  plan(u: BrokerOrder, leaderNetBefore: number, now: number, approvalId: () => string, valuation?: Valuation): Plan {
    const terminal = isTerminal(u.status);
    const orderQty = terminal ? u.filledQty : u.quantity;
    const terms = terminal ? { orderType: 'MARKET' as const, price: 0, triggerPrice: 0 } : { orderType: u.orderType, price: u.price, triggerPrice: u.triggerPrice };
    const { exitQty, entryQty } = splitEntryExit(u.side, orderQty, leaderNetBefore);
    const legs: { part: number; kind: 'entry' | 'exit'; qty: number }[] = [];
    if (exitQty > 0) legs.push({ part: 0, kind: 'exit', qty: exitQty });
    if (entryQty > 0) legs.push({ part: exitQty > 0 ? 1 : 0, kind: 'entry', qty: entryQty });
    const value: Valuation = valuation ?? { price: ownPrice(u, this.d.prices), why: 'no limit price, no leader fill and no price seen yet' };
    // Exits read the live copies once: stale entries to cancel first, market exits already on their way.
    const live = exitQty > 0 ? this.d.store.copies.inStates(LIVE) : [];
    const out: Plan = { copies: [], deferred: [] };
    for (const f of this.d.followers.values()) {
      const resolved = this.d.instruments.resolve(this.d.leaderBroker(), f.master(this.d.leaderBroker()), u.instrument);
      const inst = resolved.ok ? resolved.instrument : null;
      for (const { part, kind, qty } of legs) {
        const base: NewCopy = {
          leaderOrderId: u.orderId,
          followerId: f.id,
          leg: part,
          kind,
          state: 'planned',
          tag: copyTag(u.orderId, f.id, part),
          segment: inst?.segment ?? u.instrument.segment,
          securityId: inst?.securityId ?? u.instrument.securityId,
          symbol: inst?.symbol ?? u.instrument.symbol,
          side: u.side,
          product: u.product,
          validity: u.validity,
          amo: u.amo,
          ...terms,
          lotSize: inst?.lotSize ?? 1,
          plannedQty: 0,
          lots: 0,
          eventAt: now,
          leaderExchangeTime: u.exchangeTime,
          createdAt: now,
          updatedAt: now,
        };
        const skip = (reason: string): NewCopy => {
          this.decided(u, f.id, kind, `skipped: ${reason}`, { leaderNetBefore });
          return { ...base, state: 'skipped', reason };
        };
        const blocked = this.blocked(f, kind, resolved.ok ? null : resolved.reason, inst);
        if (blocked) {
          out.copies.push(skip(blocked));
          continue;
        }
        const lotSize = base.lotSize;
        const freeze = inst ? freezeQty(inst) : null;
        let decision: string;
        let deferred: DeferredExit | null = null;
        let quantity: number;
        let slices: number[];
        let notional: number | null = null;
        let wait: string | null = null;
        let note: string | null = null;
        let ratio: number | null = null;
        let products: Product[] = [];
        if (kind === 'entry') {
          const rule = this.d.rules.rules.get(f.id).product;
          base.product = entryProduct(rule, u.product, base.segment);
          const g = gateEntry({ follower: f, ratioOverride: this.d.settings.ratio(f.id), leaderFunds: this.d.leaderFunds(), leaderQty: qty, lotSize, price: value.price, noPriceWhy: value.why, freeze, already: 0, approval: this.d.approval });
          decision = `entry: leader net ${leaderNetBefore} → ${u.side} ${qty}`;
          if (!g.ok) {
            out.copies.push(skip(`${g.reason} (${decision})`));
            continue;
          }
          ({ total: quantity, slices, notional, wait, note, ratio } = g);
          // The value and where it came from, where a value gate judged it (the approval shows it).
          const judged = this.d.approval?.thresholdInr != null || f.cfg.maxOrderValue != null;
          if (judged && value.price && notional !== null) decision += `; value ≈ ₹${Math.round(notional).toLocaleString('en-IN')} (${value.price.source})`;
          if (base.product !== u.product) decision += `; as ${base.product} (its product rule: ${rule})`;
          products = slices.map(() => base.product);
        } else {
          const direction: 1 | -1 = leaderNetBefore > 0 ? 1 : -1;
          // The follower sells what it holds, in the product it holds it in (its rule's product for
          // the leader's first, then any other holding the same direction), never through zero.
          const mapped = entryProduct(this.d.rules.rules.get(f.id).product, u.product, base.segment);
          const mine = live.filter((c) => c.followerId === f.id && c.segment === base.segment && c.securityId === base.securityId);
          // Its entries copied from the leader's orders in this product, whatever product they went out in.
          const stale = mine.filter((c) => c.kind === 'entry' && c.side === opposite(u.side) && this.leaderDone(c.leaderOrderId) && this.leaderProduct(c.leaderOrderId, u.product) === u.product);
          const holdings = exitHoldings(this.d.positions, f.id, base, mapped, direction, mine, u.side);
          const going = holdings.reduce((n, h) => n + h.going, 0);
          const free = holdings.reduce((n, h) => n + h.free, 0);
          const heldAll = holdings.reduce((n, h) => n + h.held, 0) * direction;
          const inProducts = holdings.length && holdings.some((h) => h.product !== u.product) ? ` (${holdings.map((h) => `${h.held * direction} ${h.product}`).join(' + ')})` : '';
          base.product = holdings[0]?.product ?? mapped;
          let size = sizeExit({ leaderQty: qty, leaderPosition: Math.abs(leaderNetBefore), followerPosition: free, lotSize });
          decision = `exit: leader net ${leaderNetBefore} → ${u.side} ${qty}; ${f.id} holds ${heldAll}${inProducts}${going ? ` (${going} already on its way out)` : ''}`;
          if (stale.length) {
            deferred = { followerId: f.id, tag: base.tag, staleEntries: stale.map((c) => c.id), leaderQty: qty, leaderPosition: Math.abs(leaderNetBefore), direction, mapped };
            decision += `; ${stale.length} unfilled entr${stale.length === 1 ? 'y' : 'ies'} cancelled first, then sized again`;
            if (!size.ok) size = { ok: true, lots: 0, quantity: 0, notional: null, note: null };
          }
          if (!size.ok) {
            out.copies.push(skip(`${size.reason} (${decision})`));
            continue;
          }
          quantity = size.quantity;
          // A deferred exit is one row, sliced (and split by product) when it is sized again after the cancels.
          if (deferred) {
            slices = [quantity];
            products = [base.product];
          } else {
            slices = [];
            products = [];
            for (const a of allocateExit(quantity, holdings)) {
              for (const q of sliceQty(a.qty, lotSize, freeze)) {
                slices.push(q);
                products.push(a.product);
              }
            }
          }
          ratio = effectiveRatio(f.policy(this.d.settings.ratio(f.id), this.d.leaderFunds()));
          if (value.price) notional = quantity * value.price.price;
        }
        this.decided(u, f.id, kind, `${decision} → sends ${quantity}${slices.length > 1 ? ` in ${slices.length} slices` : ''}${wait ? ' after approval' : ''}`, { leaderNetBefore, qty: quantity });
        if (deferred) out.deferred.push(deferred);
        const id = wait ? approvalId() : null;
        slices.forEach((q, i) => {
          const sliceLeg = legOf(part, i);
          out.copies.push({
            ...base,
            ...(id ? { state: 'awaiting_approval' as const, approvalId: id } : {}),
            product: products[i] ?? base.product,
            leg: sliceLeg,
            // The first slice is the leg itself: its tag is the base's (a hash, dear on the copy path).
            tag: sliceLeg === part ? base.tag : copyTag(u.orderId, f.id, sliceLeg),
            plannedQty: q,
            lots: q / lotSize,
            notional: notional === null || quantity === 0 ? null : (notional * q) / quantity,
            ratio,
            reason: [decision, slices.length > 1 ? `slice ${i + 1} of ${slices.length} (${new Set(products).size > 1 ? products[i] : 'freeze limit'})` : null, note, wait ? `⚠ ${wait}` : null].filter(Boolean).join('; ') || null,
          });
        });
      }
    }
    return out;
  }

  /**
   * The reason nothing (or, for an entry, nothing more) can go to this follower now, or null. For
   * entries and increases (never exits) the follower's own rules on `inst`, its resolved instrument.
   */
  blocked(f: FollowerRuntime, kind: 'entry' | 'exit', unmapped: string | null, inst: Instrument | null = null): string | null {
    if (this.d.settings.isHalted()) return 'halted: nothing is copied, exits included, until /resume all';
    if (unmapped) return unmapped;
    if (!f.sessionOk) return `${f.id}'s broker session has expired (${f.sessionDetail ?? 'token dead'}); /login ${f.id} to fix`;
    if (!f.bookRead) return `${f.id}'s order book has not been read since start-up, so an order sent just before a crash cannot be ruled out; retrying every 5 s`;
    if (kind === 'entry' && this.d.settings.isPaused(f.id)) return 'paused: entries are not copied while paused';
    if (kind === 'entry') return ruleRefusal(this.ruleGate, f.id, inst);
    return null;
  }

  /** The product of a leader order (a copy's), or `fallback` when it is not on record. */
  private leaderProduct(orderId: string, fallback: Product): Product {
    return this.d.store.leader.get(orderId)?.product ?? fallback;
  }

  /** The leader order of a copy no longer works at the exchange (filled, cancelled, rejected). */
  private leaderDone(orderId: string): boolean {
    const s = this.d.leaderStatus(orderId);
    return s !== null && isTerminal(s);
  }

  /**
   * A follower's decision, so why it ends where it does can be told afterwards. Logged once the
   * turn's order calls are out (setImmediate), one info line per leader order with every follower's
   * decision in it: a line per follower was the copy path's largest cost before the last follower's
   * request left, and then a twentieth of its CPU with 20 followers (issue 16).
   */
  private decided(u: BrokerOrder, followerId: string, kind: 'entry' | 'exit', decision: string, nums: Record<string, number>): void {
    let line = this.decisions.get(u.orderId);
    if (!line) this.decisions.set(u.orderId, (line = { leaderOrder: u.orderId, symbol: u.instrument.symbol, followers: [] }));
    line.followers.push({ follower: followerId, kind, decision, ...nums });
    this.logging ??= setImmediate(() => this.logDecisions());
  }

  /** Writes the decisions waiting (also at stop, so none is lost). */
  logDecisions(): void {
    if (this.logging) clearImmediate(this.logging);
    this.logging = null;
    for (const line of this.decisions.values()) this.d.log.info(line, 'copy decisions');
    this.decisions.clear();
  }

  private readonly decisions = new Map<string, { leaderOrder: string; symbol: string; followers: Record<string, unknown>[] }>();
  private logging: NodeJS.Immediate | null = null;
}

/** Units of market exits (same side) already planned or working for a follower: they fill at once. */
export function inFlightMarketExits(copies: CopyRow[], side: Side): number {
  return copies.filter((c) => c.kind === 'exit' && c.side === side && c.orderType === 'MARKET').reduce((n, c) => n + Math.max(0, c.plannedQty - c.filledQty), 0);
}
