/** The lines of a leader order's message: each copy's line only moves forward, whatever order events come in. */
import { describe, expect, it } from 'vitest';
import { applyLine, groupText, leaderLine, lineOf, type CopyEvent, type CopyLine } from '../../src/bot/copy-lines.js';
import type { CopyRow, LeaderOrderRow } from '../../src/store/index.js';

const copy = (over: Partial<CopyRow> = {}): CopyRow => ({
  id: 1, leaderOrderId: 'L1', followerId: 'mom', leg: 0, kind: 'entry', state: 'open', tag: 'T1', segment: 'NSE_FNO', securityId: '1',
  symbol: 'NIFTY 24500 CE', side: 'BUY', orderType: 'MARKET', product: 'INTRADAY', validity: 'DAY', amo: false, price: 0, triggerPrice: 0,
  lotSize: 75, plannedQty: 150, lots: 2, notional: null, ratio: 1, followerOrderId: 'P1', filledQty: 0, avgPrice: 0, reason: null,
  approvalId: null, eventAt: 0, leaderExchangeTime: null, requestSentAt: null, ackedAt: null, filledAt: null, internalLatencyUs: null,
  brokerLatencyUs: null, createdAt: 0, updatedAt: 0, ...over,
});

const placed = (c = copy()): CopyEvent => ({ type: 'copy_placed', copy: c });
const filled = (c = copy({ state: 'filled', filledQty: 150, avgPrice: 140.1 }), leaderPrice: number | null = 140): CopyEvent => ({ type: 'copy_filled', copy: c, leaderPrice });

/** Apply events in order; the final states of each copy's line. */
function run(events: CopyEvent[]): CopyLine[] {
  let lines: CopyLine[] = [];
  for (const e of events) lines = applyLine(lines, lineOf(e)) ?? lines;
  return lines;
}

describe('copy lines', () => {
  it('placed, then filled: the fill line carries quantity, average, leader price and slippage', () => {
    const lines = run([placed(), filled()]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.state).toBe('filled');
    expect(lines[0]!.text).toBe('✅ <b>mom</b> filled BUY 2 lots (150) NIFTY 24500 CE @ ₹140.10 · leader ₹140.00 · slippage ₹0.10 (0.07%)');
  });

  it('a copy found already filled when placed (or adopted) shows as filled, with slippage when the leader price is known', () => {
    const c = copy({ state: 'filled', filledQty: 150, avgPrice: 140.1 });
    expect(lineOf(placed(c), 140).text).toBe(lineOf(filled(c, 140)).text);
    expect(lineOf(placed(c)).text).toBe('✅ <b>mom</b> filled BUY 2 lots (150) NIFTY 24500 CE @ ₹140.10');
  });

  it('a late "placed" after "filled" does not move the line back', () => {
    expect(run([filled(), placed()])[0]!.state).toBe('filled');
    expect(applyLine(run([filled()]), lineOf(placed()))).toBeNull();
  });

  it('a part fill moves on only when more is filled; a cancel after it is final', () => {
    const part = (q: number) => placed(copy({ filledQty: q, avgPrice: 140 }));
    let lines = run([placed(), part(75)]);
    expect(lines[0]!.state).toBe('partial');
    expect(lines[0]!.text).toContain('filled 1 lot (75) so far @ ₹140.00');
    expect(applyLine(lines, lineOf(part(75)))).toBeNull();
    lines = run([placed(), part(75), { type: 'copy_cancelled', copy: copy({ state: 'cancelled', filledQty: 75, avgPrice: 140, reason: 'leader cancelled' }) }, filled()]);
    expect(lines[0]!.state).toBe('cancelled');
    expect(lines[0]!.text).toContain('1 lot (75) filled before @ ₹140.00');
  });

  it('skipped and rejected are final; a failed or unknown copy that turns up at the broker is revived', () => {
    const skipped: CopyEvent = { type: 'copy_skipped', copy: copy({ state: 'skipped', reason: 'paused' }) };
    expect(run([skipped, placed()])[0]!.state).toBe('skipped');
    const rejected: CopyEvent = { type: 'copy_failed', copy: copy({ state: 'rejected', reason: 'margin' }), consequence: '' };
    expect(run([rejected, filled()])[0]!.state).toBe('rejected');
    const unknown: CopyEvent = { type: 'copy_unknown', copy: copy({ state: 'unknown', reason: 'timeout' }) };
    expect(run([unknown, placed()])[0]!.state).toBe('placed');
    expect(lineOf(unknown).text).not.toMatch(/OUTCOME UNKNOWN/); // the loud one, with buttons, is its own message
    const failed: CopyEvent = { type: 'copy_failed', copy: copy({ state: 'failed', reason: 'session expired' }), consequence: '' };
    expect(run([failed, filled()])[0]!.state).toBe('filled');
  });

  it('an exit not copied is its own state; nothing held to exit is an ordinary skip', () => {
    const exit = (reason: string): CopyEvent => ({ type: 'copy_skipped', copy: copy({ kind: 'exit', side: 'SELL', state: 'skipped', reason }) });
    expect(lineOf(exit('halted')).state).toBe('exit_not_copied');
    expect(lineOf(exit('follower holds no position in NIFTY')).state).toBe('skipped');
  });

  it('lines keep copy order; the leader line is on top and says where the leader order stands', () => {
    const lines = run([placed(copy({ id: 3, followerId: 'dad' })), placed(copy({ id: 2, followerId: 'mom' }))]);
    expect(lines.map((l) => l.followerId)).toEqual(['mom', 'dad']);
    const leader = { orderId: 'L1', side: 'BUY', quantity: 150, filledQty: 75, avgPrice: 139.5, symbol: 'NIFTY 24500 CE', orderType: 'LIMIT', price: 140, triggerPrice: 0, status: 'open' } as LeaderOrderRow;
    const text = groupText(leaderLine('L1', leader, 75), lines);
    expect(text.split('\n')[0]).toBe('📋 <b>Leader</b> BUY 2 lots (150) NIFTY 24500 CE LIMIT ₹140.00 · order L1 · filled 1 lot (75) @ ₹139.50');
    expect(text.split('\n')).toHaveLength(3);
  });

  it('orders tandem sent on its own (a /flatten, a drift sync) say so on top', () => {
    expect(leaderLine('flatten-0a1b2c3d', undefined, 1)).toBe('🧹 <b>Flatten orders</b> (flatten-0a1b2c3d)');
    expect(leaderLine('sync-0a1b2c3d', undefined, 1)).toBe('🔁 <b>Drift sync orders</b> (sync-0a1b2c3d)');
  });

  it('a very long list stays under Telegram’s 4096 characters', () => {
    const many = run(Array.from({ length: 60 }, (_, i) => placed(copy({ id: i + 1, followerId: `follower_${i}` }))));
    const text = groupText(leaderLine('L1', undefined, 75), many);
    expect(text.length).toBeLessThan(4096);
    expect(text).toMatch(/… and \d+ more \(see \/orders\)$/);
  });
});
