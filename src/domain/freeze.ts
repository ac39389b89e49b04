/**
 * Exchange freeze quantities: an F&O order above its contract's freeze limit is refused by the
 * exchange, so larger copies are sent as legal slices. The instrument master's value wins when a
 * broker publishes one; otherwise the exchange limits below apply (NSE/BSE circulars, as of
 * late 2026 — revised from time to time: a stale value too high gets a slice rejected with the
 * exchange's reason, reported verbatim; too low only costs an extra slice).
 */
import type { Instrument } from './instrument.js';

export const INDEX_FREEZE_QTY: Readonly<Record<string, number>> = {
  NIFTY: 1800,
  BANKNIFTY: 900,
  FINNIFTY: 1800,
  MIDCPNIFTY: 2800,
  NIFTYNXT50: 600,
  SENSEX: 1000,
  BANKEX: 900,
};

/** The freeze quantity of a derivative contract, in units, when known. */
export function freezeQty(i: Pick<Instrument, 'segment' | 'name' | 'freezeQty'>): number | null {
  if (i.freezeQty && i.freezeQty > 0) return i.freezeQty;
  if (i.segment !== 'NSE_FNO' && i.segment !== 'BSE_FNO') return null;
  return INDEX_FREEZE_QTY[i.name.toUpperCase()] ?? null;
}

/**
 * Split `total` units into slices that stay below the freeze quantity, each a whole number of
 * lots, largest first. Without a freeze limit (or under it) the order is one slice.
 */
export function sliceQty(total: number, lotSize: number, freeze: number | null): number[] {
  if (!freeze || total < freeze) return total > 0 ? [total] : [];
  const max = maxSliceQty(lotSize, freeze);
  if (!Number.isFinite(max)) return [total];
  const slices: number[] = [];
  let left = total;
  while (left > 0) {
    const s = Math.min(max, left);
    slices.push(s);
    left -= s;
  }
  return slices;
}

/** The largest legal slice: strictly below the freeze quantity, in whole lots (Infinity: no limit). */
export function maxSliceQty(lotSize: number, freeze: number | null): number {
  const lot = lotSize > 0 ? lotSize : 1;
  const max = freeze ? Math.floor((freeze - 1) / lot) * lot : 0;
  return max > 0 ? max : Infinity;
}

/** Copy legs: leg % 2 is the part of the leader order (0 main, 1 reversal remainder), leg >> 1 the slice. */
export function legOf(part: number, slice: number): number {
  return part + 2 * slice;
}

export function partOf(leg: number): number {
  return leg % 2;
}

export function sliceOf(leg: number): number {
  return Math.floor(leg / 2);
}
