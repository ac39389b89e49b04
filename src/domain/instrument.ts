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
 * they agree on everything that matters for the segment:
 * - equities (NSE_EQ, BSE_EQ): the exchange token and the trading symbol (see `sameEquitySymbol`).
 *   `name` is not compared: Kite's is the company name (INFOSYS for INFY), Dhan's the symbol;
 * - derivatives: expiry, strike, option type and the underlying (`name`: Kite's NFO/BFO/MCX/CDS
 *   `name`, Dhan's taken from the trading symbol; see dhan-instruments.ts).
 */
export function mappingMismatch(leader: Instrument, follower: Instrument): string | null {
  if (leader.segment !== follower.segment) return `segment differs (${leader.segment} vs ${follower.segment})`;
  return isDerivative(leader.segment) ? derivativeMismatch(leader, follower) : equityMismatch(leader, follower);
}

function equityMismatch(leader: Instrument, follower: Instrument): string | null {
  if (exchangeToken(leader.securityId) !== exchangeToken(follower.securityId)) {
    return `exchange token differs (${leader.securityId} vs ${follower.securityId})`;
  }
  if (!sameEquitySymbol(leader.symbol, follower.symbol)) return `trading symbol differs (${leader.symbol} vs ${follower.symbol})`;
  return null;
}

function derivativeMismatch(leader: Instrument, follower: Instrument): string | null {
  if ((leader.expiry ?? null) !== (follower.expiry ?? null)) return `expiry differs (${leader.expiry ?? 'none'} vs ${follower.expiry ?? 'none'})`;
  if ((leader.optionType ?? null) !== (follower.optionType ?? null)) return `option type differs (${leader.optionType ?? 'none'} vs ${follower.optionType ?? 'none'})`;
  const ls = leader.strike ?? 0;
  const fs = follower.strike ?? 0;
  if (Math.abs(ls - fs) > 1e-6) return `strike differs (${ls} vs ${fs})`;
  // One name may extend the other (NIFTY vs NIFTY 50); the token, expiry, strike and type above
  // already pin the contract, so this only catches a listing of another underlying altogether.
  const ln = alphanumeric(leader.name);
  const fn = alphanumeric(follower.name);
  if (ln && fn && !ln.startsWith(fn) && !fn.startsWith(ln)) return `underlying differs (${leader.name} vs ${follower.name})`;
  return null;
}

/** Upper case, letters and digits only: `M&M` → `MM`, `Bajaj-Auto` → `BAJAJAUTO`. */
function alphanumeric(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** An exchange token as a number written without leading zeros (`01594` and `1594` are one token). */
function exchangeToken(id: string): string {
  const t = id.trim();
  return /^\d+$/.test(t) ? t.replace(/^0+(?=\d)/, '') : t;
}

/**
 * An NSE series other than EQ as Kite writes it, after the symbol: `20MICRONS-BE`, `GOLDSTAR-SM`
 * (BE, BZ, SM, ST, …: two characters). Dhan's compact master keeps the series in its own column
 * (SEM_SERIES) and the bare symbol in SEM_TRADING_SYMBOL.
 */
const SERIES_SUFFIX = /-[A-Z][A-Z0-9]$/;

/**
 * Whether two brokers' trading symbols name the same equity: equal once upper-cased and stripped
 * of everything but letters and digits, or equal once a series suffix is dropped from the one side
 * that has it (Kite `KEC-BE` vs Dhan `KEC`). Both sides with a suffix must agree as written.
 */
export function sameEquitySymbol(a: string, b: string): boolean {
  const ua = a.trim().toUpperCase();
  const ub = b.trim().toUpperCase();
  if (alphanumeric(ua) === alphanumeric(ub)) return true;
  const sa = SERIES_SUFFIX.test(ua);
  const sb = SERIES_SUFFIX.test(ub);
  if (sa && !sb) return alphanumeric(ua.slice(0, -3)) === alphanumeric(ub);
  if (sb && !sa) return alphanumeric(ub.slice(0, -3)) === alphanumeric(ua);
  return false;
}
