/**
 * The follower's own rules in the copy path (issue 17). Entries and increases only — an exit is
 * never held up by a rule (ARCHITECTURE invariant 3):
 *   - SEGMENTS / SYMBOLS / EXCLUDE_SYMBOLS on the follower's resolved instrument,
 *   - COPY_ENTRIES_FROM / COPY_ENTRIES_UNTIL on the IST clock,
 *   - the daily loss limit (LossGuard.entryBlock),
 *   - MAX_OPEN_POSITIONS: an entry that would open one instrument more than the limit.
 * And for exits, which of the follower's products an exit sells from: the one its rule maps the
 * leader's product to first, then any other holding the same direction (the rule may have changed
 * during the day). Synchronous: cached rules, the position book, and the live copies when needed.
 */
import type { Instrument } from '../domain/instrument.js';
import { instrumentKey, PRODUCTS, type InstrumentRef, type Product, type Side } from '../domain/order.js';
import { inEntryWindow, instrumentRefusal, type FollowerRules } from '../domain/rules.js';
import { istDayStart, istTime } from '../domain/time.js';
import type { Clock } from '../infra/clock.js';
import type { CopyRow } from '../store/index.js';
import type { PositionBook } from './positions.js';

/** What a rule refusing entries needs to know (the loss guard is B's; see loss-guard.ts). */
export interface RuleGateDeps {
  rules: { get(followerId: string): FollowerRules };
  entryWindow: { from: string | null; until: string | null };
  clock: Clock;
  positions: PositionBook;
  lossGuard: () => { entryBlock(followerId: string): string | null } | null;
  /** Entries still working (planned, placing, open, awaiting approval), read only when MAX_OPEN_POSITIONS needs them. */
  liveEntries: () => CopyRow[];
}

type Ref = Pick<InstrumentRef, 'segment' | 'securityId'>;

/** IST minute of the day. */
export function istMinute(ms: number): number {
  return Math.floor((ms - istDayStart(ms)) / 60_000);
}

/** Why this follower's rules refuse an entry (or an increase) in `inst` now, or null. */
export function ruleRefusal(d: RuleGateDeps, followerId: string, inst: (Ref & Pick<Instrument, 'symbol' | 'name'>) | null): string | null {
  const r = d.rules.get(followerId);
  if (inst) {
    const why = instrumentRefusal(r, inst);
    if (why) return why;
  }
  const { from, until } = d.entryWindow;
  if (from !== null || until !== null) {
    const now = d.clock.now();
    if (!inEntryWindow(istMinute(now), from, until)) return `outside the entry window (${from ?? 'open'}–${until ?? 'close'} IST; now ${istTime(now).slice(0, 5)})`;
  }
  const loss = d.lossGuard()?.entryBlock(followerId);
  if (loss) return loss;
  if (r.maxOpenPositions !== null && inst) {
    const open = openInstruments(d, followerId);
    if (!open.has(instrumentKey(inst)) && open.size >= r.maxOpenPositions) return `${open.size} position${open.size === 1 ? '' : 's'} open, its max_open_positions is ${r.maxOpenPositions}`;
  }
  return null;
}

/**
 * The instruments a follower has open for MAX_OPEN_POSITIONS: every non-zero line of its position
 * book except delivery holdings (CNC: the account's investments, not the copier's open trades), and
 * every instrument an entry is still working in (it opens one when it fills).
 */
export function openInstruments(d: Pick<RuleGateDeps, 'positions' | 'liveEntries'>, followerId: string): Set<string> {
  const open = new Set<string>();
  for (const l of d.positions.lines(followerId)) if (l.product !== 'CNC') open.add(instrumentKey(l));
  for (const c of d.liveEntries()) if (c.followerId === followerId && c.kind === 'entry') open.add(instrumentKey(c));
  return open;
}

/** One product a follower holds an instrument in, in the direction an exit closes. */
export interface Holding {
  product: Product;
  /** Absolute quantity held in that direction. */
  held: number;
  /** Of which market exits already on their way out. */
  going: number;
  free: number;
}

/**
 * The follower's holdings an exit can sell from, in order: `mapped` (its rule's product for the
 * leader's) first, then each other product holding the same direction. `live` are the follower's
 * live copies in this instrument (market exits on their way count as gone).
 */
export function exitHoldings(positions: PositionBook, followerId: string, ref: Ref, mapped: Product, direction: 1 | -1, live: CopyRow[], side: Side): Holding[] {
  const out: Holding[] = [];
  for (const product of [mapped, ...PRODUCTS.filter((p) => p !== mapped)]) {
    const net = positions.get(followerId, ref, product);
    if (Math.sign(net) !== direction) continue;
    const going = live.filter((c) => c.product === product && c.kind === 'exit' && c.side === side && c.orderType === 'MARKET').reduce((n, c) => n + Math.max(0, c.plannedQty - c.filledQty), 0);
    out.push({ product, held: Math.abs(net), going, free: Math.max(0, Math.abs(net) - going) });
  }
  return out;
}

/** Split an exit quantity over the holdings, in their order; never more than each holds free. */
export function allocateExit(quantity: number, holdings: Holding[]): { product: Product; qty: number }[] {
  const out: { product: Product; qty: number }[] = [];
  let rest = quantity;
  for (const h of holdings) {
    if (rest <= 0) break;
    const q = Math.min(rest, h.free);
    if (q > 0) out.push({ product: h.product, qty: q });
    rest -= q;
  }
  return out;
}

/** "100 CNC + 50 INTRADAY" (signed by direction), or "0". */
export function describeHoldings(holdings: Holding[], direction: 1 | -1): string {
  return holdings.length ? holdings.map((h) => `${h.held * direction} ${h.product}`).join(' + ') : '0';
}
