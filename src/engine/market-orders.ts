/**
 * Market orders tandem itself decides to send (flatten, drift sync), as intent rows that go through
 * the same exactly-once machinery as copies: one `copies` row per order with a deterministic tag,
 * a synthetic leader order id (`flatten-…`, `sync-…`) and per-follower legs, placed through the
 * follower's own queue (CopyExecutor.place). Quantities above the exchange freeze limit are split
 * into freeze-sized slices of whole lots, as leader copies are.
 */
import { randomBytes } from 'node:crypto';
import type { Instrument } from '../domain/instrument.js';
import type { InstrumentRef, Product, Side } from '../domain/order.js';
import { freezeQty, sliceQty } from '../domain/freeze.js';
import { copyTag } from '../domain/tag.js';
import type { NewCopy } from '../store/index.js';

export interface MarketLeg {
  followerId: string;
  kind: 'entry' | 'exit';
  instrument: InstrumentRef;
  product: Product;
  side: Side;
  /** Units, positive. */
  qty: number;
  lotSize: number;
  /** The exchange freeze quantity of the contract, null when none applies. */
  freeze: number | null;
}

/** A new synthetic "leader order" id for one batch: `flatten-1a2b3c4d`. */
export function batchId(prefix: 'flatten' | 'sync'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Lot size and freeze quantity of a contract as the follower's master lists it (lot 1, no freeze when unknown). */
export function contractTerms(inst: Instrument | undefined): { lotSize: number; freeze: number | null } {
  return { lotSize: inst?.lotSize ?? 1, freeze: inst ? freezeQty(inst) : null };
}

/** The freeze-sized slices of `leg`, in order. */
export function slicesOf(leg: Pick<MarketLeg, 'qty' | 'lotSize' | 'freeze'>): number[] {
  return sliceQty(leg.qty, leg.lotSize, leg.freeze);
}

/**
 * Intent rows for `legs` (already in the order they must go out: exits first), each leg split
 * into freeze-sized slices. Legs are numbered per follower so (batch, follower, leg) and the tag
 * stay unique.
 */
export function marketCopies(batch: string, legs: MarketLeg[], reason: string, now: number): NewCopy[] {
  const next = new Map<string, number>();
  const out: NewCopy[] = [];
  for (const l of legs) {
    const slices = slicesOf(l);
    slices.forEach((q, i) => {
      const leg = next.get(l.followerId) ?? 0;
      next.set(l.followerId, leg + 1);
      out.push({
        leaderOrderId: batch,
        followerId: l.followerId,
        leg,
        kind: l.kind,
        state: 'planned',
        tag: copyTag(batch, l.followerId, leg),
        segment: l.instrument.segment,
        securityId: l.instrument.securityId,
        symbol: l.instrument.symbol,
        side: l.side,
        orderType: 'MARKET',
        product: l.product,
        validity: 'DAY',
        amo: false,
        lotSize: l.lotSize,
        plannedQty: q,
        lots: q / (l.lotSize > 0 ? l.lotSize : 1),
        reason: slices.length > 1 ? `${reason}; slice ${i + 1} of ${slices.length} (freeze limit)` : reason,
        eventAt: now,
        createdAt: now,
        updatedAt: now,
      });
    });
  }
  return out;
}
