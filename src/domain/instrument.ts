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
