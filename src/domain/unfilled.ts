/**
 * The stale-child rule (issue 17), as pure decisions: a follower's LIMIT entry copy still unfilled
 * (or part-filled) N seconds after its leader order filled is kept, cancelled, or chased — modified
 * to a marketable price, at most three times, N seconds apart — then left working.
 *
 * The chase price: the last price tandem has seen (else the leader's fill price) moved 2, 4, then 6
 * ticks in the copy's direction, rounded to the tick away from the market (a buy up, a sell down),
 * always at least one tick beyond the copy's current price, and never more than CHASE_CAP_PCT from
 * that reference. Why a cap: tandem does not know the day's circuit band; Dhan rejects a limit
 * outside it ("Order Price needs to be Circuit Limits of …") and Kite's MARKET protection is itself
 * a percentage band. 2 % is the narrowest band NSE sets for equities, so a chase stays well inside
 * the protection the brokers apply to market orders. Pure: no I/O, no clock.
 */
import type { Side } from './order.js';
import type { UnfilledRule } from './rules.js';

export const MAX_CHASES = 3;
export const CHASE_TICKS_PER_STEP = 2;
export const CHASE_CAP_PCT = 2;

export interface UnfilledState {
  /** Chases sent so far. */
  chases: number;
  /** When the last chase was sent (epoch ms), null before the first. */
  lastChaseAt: number | null;
  /** The rule's last word was said (cancelled, left after the last chase). */
  done: boolean;
}

export const FRESH: UnfilledState = { chases: 0, lastChaseAt: null, done: false };

export type UnfilledAction =
  /** Nothing to do for this copy under its rule (keep, no N, or already dealt with). */
  | { kind: 'none' }
  /** Not yet: the leader has not filled, or N seconds have not passed. */
  | { kind: 'wait' }
  | { kind: 'cancel' }
  | { kind: 'chase'; attempt: number }
  /** Chased MAX_CHASES times and still unfilled: left working, said once. */
  | { kind: 'leave' };

/**
 * What the rule asks now for one working LIMIT entry copy. `leaderFilledAt` is when the leader's
 * order filled completely (null while it has not).
 */
export function unfilledDecision(rule: UnfilledRule, afterS: number | null, leaderFilledAt: number | null, now: number, s: UnfilledState): UnfilledAction {
  if (rule === 'keep' || afterS === null || s.done) return { kind: 'none' };
  if (leaderFilledAt === null) return { kind: 'wait' };
  const due = (s.lastChaseAt ?? leaderFilledAt) + afterS * 1000;
  if (now < due) return { kind: 'wait' };
  if (rule === 'cancel') return { kind: 'cancel' };
  return s.chases < MAX_CHASES ? { kind: 'chase', attempt: s.chases + 1 } : { kind: 'leave' };
}

const EPS = 1e-9;
/** Round to the tick, up or down, without float dust (118.15000000000001). */
function toTick(price: number, tick: number, dir: 'up' | 'down'): number {
  const n = price / tick;
  const k = dir === 'up' ? Math.ceil(n - EPS) : Math.floor(n + EPS);
  const decimals = Math.max(0, Math.ceil(-Math.log10(tick)) + 1);
  return Number((k * tick).toFixed(decimals));
}

export interface ChaseInput {
  side: Side;
  /** The copy's limit price now. */
  current: number;
  /** The last price seen, else the leader's fill price. */
  reference: number;
  tick: number;
  /** 1..MAX_CHASES. */
  attempt: number;
}

/**
 * The price of chase `attempt`, or null when no price more marketable than the current one stays
 * within CHASE_CAP_PCT of the reference (the cap is reached: nothing more to do within protection).
 */
export function chasePrice(c: ChaseInput): number | null {
  if (!(c.reference > 0) || !(c.tick > 0)) return null;
  const step = CHASE_TICKS_PER_STEP * c.attempt * c.tick;
  if (c.side === 'BUY') {
    const cap = toTick(c.reference * (1 + CHASE_CAP_PCT / 100), c.tick, 'down');
    const want = Math.max(toTick(c.reference + step, c.tick, 'up'), toTick(c.current + c.tick, c.tick, 'up'));
    const price = Math.min(want, cap);
    return price > c.current + EPS ? price : null;
  }
  const floor = toTick(c.reference * (1 - CHASE_CAP_PCT / 100), c.tick, 'up');
  const want = Math.min(toTick(c.reference - step, c.tick, 'down'), toTick(c.current - c.tick, c.tick, 'down'));
  const price = Math.max(want, floor, c.tick);
  return price < c.current - EPS ? price : null;
}
