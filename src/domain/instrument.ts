import type { InstrumentRef, Segment } from './order.js';

/** A contract from a broker's instrument master, with what rounding and mapping need. */
export interface Instrument extends InstrumentRef {
  /** Underlying name (e.g. NIFTY), used to check a cross-broker mapping. */
  name: string;
  lotSize: number;
  tickSize: number;
  /** Expiry date `YYYY-MM-DD`, null for cash instruments. */
  expiry: string | null;
  strike: number | null;
  optionType: 'CE' | 'PE' | null;
  /** Exchange freeze quantity in units, when known (F&O). */
  freezeQty: number | null;
}

/**
 * Where a downloaded instrument master goes (the store's InstrumentRepo). A load stages rows as they
 * arrive, so the master is never held in memory whole, and readers see nothing of it until `commit`
 * swaps the whole master in at once; `abort` (a no-op after `commit`) drops what was staged and keeps
 * the stored master.
 */
export interface InstrumentSink {
  beginLoad(broker: string): InstrumentLoad;
}

export interface InstrumentLoad {
  add(rows: Iterable<Instrument>): void;
  /** Rows added so far. */
  readonly count: number;
  /** Replace the broker's master with the rows added; returns how many there were. */
  commit(at: number): number;
  abort(): void;
}

/** The segments traded in lots of more than one unit. */
export function isDerivative(segment: Segment): boolean {
  return segment === 'NSE_FNO' || segment === 'BSE_FNO' || segment === 'MCX_COMM' || segment === 'NSE_CURRENCY';
}

/** Round a price to the instrument's tick (nearest tick), avoiding binary-float noise. */
export function roundToTick(price: number, tickSize: number): number {
  if (!(tickSize > 0)) return price;
  const ticks = Math.round(price / tickSize);
  return Number((ticks * tickSize).toFixed(4));
}

/**
 * Why two brokers' listings of the same exchange token are not the same contract, or null when
 * they agree on everything that matters (expiry, strike, option type, underlying).
 */
export function mappingMismatch(leader: Instrument, follower: Instrument): string | null {
  if (leader.segment !== follower.segment) return `segment differs (${leader.segment} vs ${follower.segment})`;
  if ((leader.expiry ?? null) !== (follower.expiry ?? null)) return `expiry differs (${leader.expiry ?? 'none'} vs ${follower.expiry ?? 'none'})`;
  if ((leader.optionType ?? null) !== (follower.optionType ?? null)) return `option type differs (${leader.optionType ?? 'none'} vs ${follower.optionType ?? 'none'})`;
  const ls = leader.strike ?? 0;
  const fs = follower.strike ?? 0;
  if (Math.abs(ls - fs) > 1e-6) return `strike differs (${ls} vs ${fs})`;
  const norm = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const ln = norm(leader.name);
  const fn = norm(follower.name);
  if (ln && fn && !ln.startsWith(fn) && !fn.startsWith(ln)) return `underlying differs (${leader.name} vs ${follower.name})`;
  return null;
}
