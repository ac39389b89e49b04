/**
 * Sizing: how many units a follower trades for a leader order. Pure functions, table-tested.
 * Quantities are in units (shares / contracts as brokers count them); lots = units / lotSize.
 */

export type SizingPolicy =
  | { kind: 'ratio'; ratio: number }
  /** Scale by follower capital / leader capital (funds cached in the background), times `multiplier`. */
  | { kind: 'capital'; followerCapital: number; leaderCapital: number; multiplier: number }
  | { kind: 'fixed_lots'; lots: number };

export interface Caps {
  maxLots?: number | null;
  /** Largest notional (₹) of one follower order. */
  maxOrderValue?: number | null;
}

export type SizeResult =
  | { ok: true; lots: number; quantity: number; notional: number | null; note: string | null }
  | { ok: false; reason: string };

const EPS = 1e-9;

/** Whole lots, floored, tolerant of binary-float noise (0.1 × 30 = 3, not 2.9999). */
export function floorLots(x: number): number {
  return Math.max(0, Math.floor(x + EPS));
}

export function effectiveRatio(policy: SizingPolicy): number | null {
  switch (policy.kind) {
    case 'ratio':
      return policy.ratio;
    case 'capital':
      return policy.leaderCapital > 0 ? (policy.followerCapital / policy.leaderCapital) * policy.multiplier : null;
    case 'fixed_lots':
      return null;
  }
}

function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * Size a risk-increasing (entry) copy.
 * @param price the best price known for the order (limit, trigger or leader fill); null when unknown.
 */
export function sizeEntry(args: {
  leaderQty: number;
  lotSize: number;
  price: number | null;
  policy: SizingPolicy;
  caps?: Caps;
}): SizeResult {
  const { leaderQty, price, policy } = args;
  const lotSize = args.lotSize > 0 ? args.lotSize : 1;
  const caps = args.caps ?? {};
  const leaderLots = leaderQty / lotSize;
  let lots: number;
  if (policy.kind === 'fixed_lots') {
    lots = floorLots(policy.lots);
  } else {
    const ratio = effectiveRatio(policy);
    if (ratio === null) return { ok: false, reason: 'leader capital unknown: cannot size a capital-proportional copy' };
    const raw = leaderLots * ratio;
    lots = floorLots(raw);
    if (lots === 0) {
      return { ok: false, reason: `rounds to 0 lots (leader ${fmtNum(leaderLots)} lot(s) × ${fmtNum(ratio)} = ${fmtNum(raw)})` };
    }
  }
  if (lots === 0) return { ok: false, reason: 'fixed size is 0 lots' };

  let note: string | null = null;
  if (caps.maxLots != null && lots > caps.maxLots) {
    note = `capped at max ${caps.maxLots} lot(s) (wanted ${lots})`;
    lots = floorLots(caps.maxLots);
    if (lots === 0) return { ok: false, reason: 'max lots is 0' };
  }
  const notional = price != null && price > 0 ? lots * lotSize * price : null;
  if (caps.maxOrderValue != null) {
    if (notional === null) return { ok: false, reason: 'no price known to check the max order value' };
    if (notional > caps.maxOrderValue + EPS) {
      const byValue = floorLots(caps.maxOrderValue / (lotSize * (price as number)));
      if (byValue === 0) {
        return { ok: false, reason: `one lot (₹${fmtNum(lotSize * (price as number))}) exceeds the max order value ₹${fmtNum(caps.maxOrderValue)}` };
      }
      note = `capped at max order value ₹${fmtNum(caps.maxOrderValue)} (wanted ${lots} lot(s))`;
      lots = byValue;
    }
  }
  const quantity = lots * lotSize;
  return { ok: true, lots, quantity, notional: price != null && price > 0 ? quantity * price : null, note };
}

/**
 * Size an exit (risk-reducing) copy from the follower's own position: when the leader closes its
 * whole position the follower closes all it holds, whatever rounding did on the way in; a partial
 * exit takes the same fraction, floored to lots, and never more than the follower holds.
 */
export function sizeExit(args: {
  leaderQty: number;
  /** The leader's absolute position in the instrument before this order. */
  leaderPosition: number;
  /** The follower's absolute position in the same direction. */
  followerPosition: number;
  lotSize: number;
}): SizeResult {
  const { leaderQty, leaderPosition, followerPosition } = args;
  const lotSize = args.lotSize > 0 ? args.lotSize : 1;
  if (followerPosition <= 0) return { ok: false, reason: 'follower holds no position to exit' };
  let quantity: number;
  if (leaderPosition <= 0 || leaderQty >= leaderPosition) {
    quantity = followerPosition;
  } else {
    const lots = floorLots(((followerPosition / lotSize) * leaderQty) / leaderPosition);
    quantity = Math.min(lots * lotSize, followerPosition);
    if (quantity === 0) return { ok: false, reason: 'partial exit rounds to 0 lots' };
  }
  return { ok: true, lots: quantity / lotSize, quantity, notional: null, note: null };
}

/**
 * Split a leader order into the part that reduces its current position (exit) and the part that
 * opens or adds (entry). A sell of 100 against a long of 60 is an exit of 60 and a short entry of 40.
 */
export function splitEntryExit(side: 'BUY' | 'SELL', qty: number, leaderNetBefore: number): { exitQty: number; entryQty: number } {
  const reducing = (side === 'SELL' && leaderNetBefore > 0) || (side === 'BUY' && leaderNetBefore < 0);
  if (!reducing) return { exitQty: 0, entryQty: qty };
  const exitQty = Math.min(qty, Math.abs(leaderNetBefore));
  return { exitQty, entryQty: qty - exitQty };
}
