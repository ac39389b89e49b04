/**
 * The one gate every risk-increasing copy passes (ARCHITECTURE invariant 10): a new entry, a leader
 * modify that raises the quantity, an extra freeze slice, an increase after the copy has filled.
 * Sizing (ratio / capital / fixed lots), MAX_LOTS, MAX_ORDER_VALUE, approval by value and by lots,
 * and freeze slicing are decided here and nowhere else. Pure but for the follower's cached policy.
 */
import { effectiveRatio, sizeEntry } from '../domain/sizing.js';
import { sliceQty } from '../domain/freeze.js';
import type { FollowerRuntime } from './follower.js';

/** A price for valuing an order, and where it came from (shown in the approval request). */
export interface PriceEstimate {
  price: number;
  source: string;
}

export interface ApprovalRules {
  thresholdInr: number | null;
  lotsAbove?: number | null;
}

export interface GateInput {
  follower: FollowerRuntime;
  /** The chat's ratio override for this follower, if any. */
  ratioOverride: number | undefined;
  leaderFunds: number | null;
  /** The leader's quantity (units) the follower's whole position in this order mirrors. */
  leaderQty: number;
  lotSize: number;
  /** The price the order is valued at, or null (unknown: value gates fail closed). */
  price: PriceEstimate | null;
  /** Why no price is known, when `price` is null (said in the approval request). */
  noPriceWhy?: string | null;
  freeze: number | null;
  /** Units this follower already has working or filled for this order and part (0 for a new entry). */
  already: number;
  approval: ApprovalRules | undefined;
}

export type GateResult =
  | { ok: false; reason: string }
  | {
      ok: true;
      /** The follower's total for this order after the change, and its value (null when unknown). */
      total: number;
      lots: number;
      notional: number | null;
      /** Units to add now (total − already); 0 or less means nothing to add. */
      add: number;
      /** `add` split by the freeze limit. */
      slices: number[];
      /** The addition waits for a tap, and why (null when it goes now). */
      wait: string | null;
      note: string | null;
      ratio: number | null;
    };

/** Whether a value gate (the approval threshold or a follower's MAX_ORDER_VALUE) needs a price. */
export function valueGated(approval: ApprovalRules | undefined, followers: Iterable<FollowerRuntime>): boolean {
  if (approval?.thresholdInr != null) return true;
  for (const f of followers) if (f.cfg.maxOrderValue != null) return true;
  return false;
}

function inr(n: number): string {
  return `₹${Math.round(n).toLocaleString('en-IN')}`;
}

export function gateEntry(g: GateInput): GateResult {
  const f = g.follower;
  const policy = f.policy(g.ratioOverride, g.leaderFunds);
  const size = sizeEntry({ leaderQty: g.leaderQty, lotSize: g.lotSize, price: g.price?.price ?? null, policy, caps: { maxLots: f.cfg.maxLots, maxOrderValue: f.cfg.maxOrderValue } });
  if (!size.ok) {
    const why = size.reason === 'no price known to check the max order value' && g.noPriceWhy ? `${size.reason} (${g.noPriceWhy})` : size.reason;
    return { ok: false, reason: why };
  }
  const add = size.quantity - g.already;
  const threshold = g.approval?.thresholdInr ?? null;
  const lotsAbove = g.approval?.lotsAbove ?? null;
  let wait: string | null = null;
  if (add > 0) {
    // Fail closed: an entry whose value cannot be known waits for approval too. The whole position
    // after the change is what is judged: a 1-lot copy raised to 20 waits as a 20-lot order would.
    if (threshold !== null && size.notional === null) wait = `value unknown (${g.noPriceWhy ?? 'no price'})`;
    else if (threshold !== null && size.notional !== null && size.notional > threshold) wait = `${inr(size.notional)} is above the ${inr(threshold)} approval threshold`;
    else if (lotsAbove !== null && size.lots > lotsAbove) wait = `${size.lots} lots, above the ${lotsAbove}-lot approval limit`;
  }
  return {
    ok: true,
    total: size.quantity,
    lots: size.lots,
    notional: size.notional,
    add,
    slices: add > 0 ? sliceQty(add, g.lotSize, g.freeze) : [],
    wait,
    note: size.note,
    ratio: effectiveRatio(policy),
  };
}
