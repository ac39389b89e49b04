/**
 * Drift: how far a follower's position in one instrument is from the leader's, scaled by that
 * follower's sizing, and the market orders that would bring it back. Pure, table-tested.
 *
 * Target (units, signed like the leader's position), per sizing policy:
 * - ratio / capital: leader lots × the (effective) ratio, floored to whole lots of the follower's
 *   instrument — the rounding `sizeEntry` applies to each entry;
 * - fixed_lots: the follower's fixed lots in the leader's direction when the leader holds any,
 *   else 0 (fixed-lot copies add up per leader order, so a leader adding to a position in several
 *   orders shows as drift here: the owner decides with the Sync button).
 *
 * "Beyond rounding": for ratio and capital the follower may sit anywhere less than one lot away
 * from the exact scaled position (leader 1 lot × 0.5 = 0.5: holding 0 or 1 lot is rounding, not
 * drift); for fixed lots the target is exact, so any whole-lot difference is drift.
 */
import { IST_OFFSET_MS, istAt } from './time.js';
import { effectiveRatio, floorLots, type SizingPolicy } from './sizing.js';

const EPS = 1e-9;

export type DriftVerdict =
  | {
      ok: true;
      /** The scaled target in units (signed), whole lots. */
      target: number;
      /** The exact scaled position in lots (signed), before rounding. */
      exactLots: number;
      /** True when the follower is further from the exact position than rounding explains. */
      drift: boolean;
    }
  | { ok: false; reason: string };

/** Compare a follower's net position with the leader's, scaled by `policy`. Quantities in units. */
export function driftOf(args: { leaderNet: number; followerNet: number; lotSize: number; policy: SizingPolicy }): DriftVerdict {
  const { leaderNet, followerNet, policy } = args;
  const lot = args.lotSize > 0 ? args.lotSize : 1;
  const sign = Math.sign(leaderNet);
  const followerLots = followerNet / lot;
  if (policy.kind === 'fixed_lots') {
    const lots = sign === 0 ? 0 : floorLots(policy.lots);
    const target = sign * lots * lot;
    return { ok: true, target, exactLots: sign * lots, drift: Math.abs(followerLots - sign * lots) >= 1 - EPS };
  }
  const ratio = effectiveRatio(policy);
  if (ratio === null) return { ok: false, reason: 'leader capital unknown: the scaled position cannot be computed' };
  const exact = (Math.abs(leaderNet) / lot) * ratio;
  const target = sign * floorLots(exact) * lot;
  const exactLots = sign * exact;
  return { ok: true, target: target === 0 ? 0 : target, exactLots, drift: Math.abs(followerLots - exactLots) >= 1 - EPS };
}

export interface SyncStep {
  kind: 'entry' | 'exit';
  side: 'BUY' | 'SELL';
  /** Units, positive. */
  qty: number;
}

/**
 * The orders that move a follower from `followerNet` to `target` (units, signed): the reducing
 * part first (down to zero at most: an exit never crosses zero), then the entry that opens or
 * adds. Going from long 2 to short 1 is an exit SELL 2 and an entry SELL 1.
 */
export function syncSteps(followerNet: number, target: number): SyncStep[] {
  const steps: SyncStep[] = [];
  if (followerNet === target) return steps;
  const crosses = followerNet !== 0 && Math.sign(target) !== Math.sign(followerNet);
  if (crosses) {
    // Close all of it; the rest (if any) is a new position the other way.
    steps.push({ kind: 'exit', side: followerNet > 0 ? 'SELL' : 'BUY', qty: Math.abs(followerNet) });
    if (target !== 0) steps.push({ kind: 'entry', side: target > 0 ? 'BUY' : 'SELL', qty: Math.abs(target) });
    return steps;
  }
  const diff = Math.abs(target) - Math.abs(followerNet);
  const dir = Math.sign(target) || Math.sign(followerNet);
  if (diff < 0) steps.push({ kind: 'exit', side: dir > 0 ? 'SELL' : 'BUY', qty: -diff });
  else steps.push({ kind: 'entry', side: dir > 0 ? 'BUY' : 'SELL', qty: diff });
  return steps;
}

/** Weekday (Mon–Fri, IST) between 09:15 and 15:30 IST: the equity and F&O session. */
export function inMarketHours(ms: number): boolean {
  const day = new Date(ms + IST_OFFSET_MS).getUTCDay();
  if (day === 0 || day === 6) return false;
  return ms >= istAt(ms, '09:15') && ms <= istAt(ms, '15:30');
}
