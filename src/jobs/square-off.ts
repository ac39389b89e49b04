/**
 * SQUARE_OFF_AT (IST, trading days only): each follower's open INTRADAY positions that came from
 * copies are closed before the broker's own auto square-off charges for it — through the kill
 * switch's flatten (working INTRADAY copies cancelled first, then freeze-sliced MARKET closes, each
 * an intent row placed through the follower's queue). "From copies": at most the net quantity the
 * follower's copies of today (tandem's own flatten/sync orders included) filled in that instrument
 * on that side; a position the follower opened by hand is left alone. Once per IST day; not while
 * tandem is halted (it then says so). One summary alert: what was closed per follower, what failed
 * and why.
 *
 * Entries after the square-off time are NOT refused here: COPY_ENTRIES_UNTIL is the owner's tool
 * for that (set it at or before SQUARE_OFF_AT); exits the leader makes later copy as usual.
 */
import type { Position } from '../domain/order.js';
import { signedQty } from '../domain/order.js';
import { istDate } from '../domain/holidays.js';
import { istDayStart } from '../domain/time.js';
import type { EngineEvents } from '../engine/events.js';
import type { FlattenResult } from '../engine/kill-switch.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, Store } from '../store/index.js';

export interface SquareOffDeps {
  /** The kill switch's intraday flatten (KillSwitch.squareOffIntraday). */
  squareOff: (ids: string[] | 'all', cap: (followerId: string, p: Position) => number, why: string) => Promise<FlattenResult>;
  store: Store;
  events: EngineEvents;
  logger: Logger;
  /** `HH:MM` IST, for the messages. */
  at: string;
  halted: () => boolean;
  /** Resolves when every follower queue is empty (the close orders sent): the summary says how they went. */
  idle: () => Promise<void>;
  tradingDay: (ms: number) => boolean;
  /** The IST day it last ran (once a day). */
  last: { day: string | null };
}

export interface SquareOffReport {
  day: string;
  result: FlattenResult | null;
  message: string | null;
}

/** What copies of today filled, net, in this follower's INTRADAY line of this instrument (units, signed). */
export function copiedNet(copies: CopyRow[], p: Pick<Position, 'instrument' | 'product'>): number {
  let net = 0;
  for (const c of copies) {
    if (c.product !== p.product || c.segment !== p.instrument.segment || c.securityId !== p.instrument.securityId) continue;
    net += signedQty(c.side, c.filledQty);
  }
  return net;
}

/** How much of a position the square-off may close: what copies opened on the same side, no more. */
export function fromCopies(copies: CopyRow[], p: Pick<Position, 'instrument' | 'product' | 'netQty'>): number {
  const net = copiedNet(copies, p);
  return Math.sign(net) === Math.sign(p.netQty) ? Math.min(Math.abs(net), Math.abs(p.netQty)) : 0;
}

const lots = (qty: number, lotSize: number) => (lotSize > 1 ? `${qty / lotSize} lot${qty === lotSize ? '' : 's'} (${qty})` : String(qty));

/** The one summary: per follower what was closed and cancelled, then what failed and why; null when there was nothing. */
export function squareOffSummary(at: string, r: FlattenResult, placed: CopyRow[]): string | null {
  const per = new Map<string, string[]>();
  const add = (id: string, s: string) => per.set(id, [...(per.get(id) ?? []), s]);
  const failed: string[] = [];
  for (const c of placed) {
    const ok = c.state !== 'rejected' && c.state !== 'failed' && c.state !== 'unknown';
    if (ok) add(c.followerId, `${c.side} ${lots(c.plannedQty, c.lotSize)} ${c.symbol} at market (${c.state === 'filled' ? 'filled' : 'sent'})`);
    else failed.push(`${c.followerId}: ${c.side} ${lots(c.plannedQty, c.lotSize)} ${c.symbol} ${c.state}: ${c.reason ?? 'no reason given'}`);
  }
  const cancelledBy = new Map<string, number>();
  for (const c of r.cancelled) cancelledBy.set(c.followerId, (cancelledBy.get(c.followerId) ?? 0) + 1);
  for (const [id, n] of cancelledBy) add(id, `${n} working intraday cop${n === 1 ? 'y' : 'ies'} cancelled first`);
  for (const c of r.notCancelled) failed.push(`${c.followerId}: could not cancel the working ${c.kind} copy ${c.side} ${c.symbol} (${c.reason ?? 'still working'})`);
  for (const u of r.unread) failed.push(`${u.followerId}: positions could not be read (${u.error}): nothing closed — check /positions ${u.followerId}`);
  if (per.size === 0 && failed.length === 0) return null;
  const lines = [`Square-off ${at} IST: intraday positions from copies.`];
  for (const [id, xs] of per) lines.push(`${id}: ${xs.join('; ')}.`);
  if (failed.length) lines.push(`Not done: ${failed.join('; ')}.`);
  return lines.join('\n');
}

/** The job body: run by cron at SQUARE_OFF_AT on weekdays (tests run it by hand with their clock). */
export async function runSquareOff(d: SquareOffDeps, clock: Clock): Promise<SquareOffReport | null> {
  const now = clock.now();
  const day = istDate(now);
  if (!d.tradingDay(now)) {
    d.logger.info({ day }, 'square-off: not a trading day');
    return null;
  }
  if (d.last.day === day) {
    d.logger.info({ day }, 'square-off: already done today');
    return null;
  }
  d.last.day = day;
  if (d.halted()) {
    const message = `Square-off ${d.at} IST not done: tandem is halted. Intraday positions are left to you (or to the broker's own square-off).`;
    d.events.emit({ type: 'error', accountId: null, message });
    return { day, result: null, message };
  }
  const since = istDayStart(now);
  const todays = new Map<string, CopyRow[]>();
  const copiesOf = (id: string) => todays.get(id) ?? todays.set(id, d.store.copies.since(id, since)).get(id)!;
  const result = await d.squareOff('all', (id, p) => fromCopies(copiesOf(id), p), `square-off ${d.at}`);
  await d.idle();
  const placed = result.placed.map((c) => d.store.copies.get(c.id) ?? c);
  const message = squareOffSummary(d.at, result, placed);
  d.logger.warn({ day, orders: placed.length, cancelled: result.cancelled.length, unread: result.unread.map((u) => u.followerId) }, 'square-off done');
  if (message) d.events.emit({ type: 'error', accountId: null, message });
  return { day, result, message };
}
