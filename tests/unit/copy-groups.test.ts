/**
 * The leader order's message through the real notifier and a real SQLite file, with a hand-moved
 * clock and scripted send/edit functions: edits until 48 h, a new message after; /notify decides
 * which lines a chat sees and whether the message makes a sound.
 */
import { GrammyError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier } from '../../src/bot/notifier.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { Store, type CopyRow } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

const A = 601;
const B = 602;
const quiet = createLogger({ level: 'silent', pretty: false });
const T0 = Date.UTC(2025, 5, 2, 4, 0);

const copy = (over: Partial<CopyRow> = {}): CopyRow => ({
  id: 1, leaderOrderId: 'L1', followerId: 'mom', leg: 0, kind: 'entry', state: 'open', tag: 'T1', segment: 'NSE_FNO', securityId: '1',
  symbol: 'NIFTY 24500 CE', side: 'BUY', orderType: 'MARKET', product: 'INTRADAY', validity: 'DAY', amo: false, price: 0, triggerPrice: 0,
  lotSize: 75, plannedQty: 150, lots: 2, notional: null, ratio: 1, followerOrderId: 'P1', filledQty: 0, avgPrice: 0, reason: null,
  approvalId: null, eventAt: 0, leaderExchangeTime: null, requestSentAt: null, ackedAt: null, filledAt: null, internalLatencyUs: null,
  brokerLatencyUs: null, createdAt: 0, updatedAt: 0, ...over,
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function make(chats: number[]) {
  const store = Store.open(tempDbPath());
  const clock = new ManualClock(T0);
  const notifier = new Notifier(store, clock, chats, quiet, { edits: { minIntervalMs: 10 } });
  const sends: { chat: number; text: string; silent: boolean; id: number }[] = [];
  const edits: { chat: number; id: number; text: string }[] = [];
  notifier.attach(
    async (chat, text, o) => {
      sends.push({ chat, text, silent: o.silent, id: sends.length + 1 });
      return sends.length;
    },
    async (chat, id, text) => void edits.push({ chat, id, text }),
  );
  cleanup.push(async () => {
    await notifier.stop();
    store.close();
  });
  return { store, clock, notifier, sends, edits };
}

describe('one message per leader order', () => {
  it('edited in place until 48 h; after that a new message carries the lines', async () => {
    const { clock, notifier, sends, edits } = make([A]);
    notifier.emit({ type: 'copy_placed', copy: copy() });
    await notifier.drained();
    expect(sends).toHaveLength(1);
    notifier.emit({ type: 'copy_placed', copy: copy({ id: 2, followerId: 'dad' }) });
    await notifier.drained();
    expect(edits).toHaveLength(1);
    expect(edits[0]!.text.split('\n')).toHaveLength(3);

    clock.advance(48 * 3600_000 + 1);
    notifier.emit({ type: 'copy_filled', copy: copy({ state: 'filled', filledQty: 150, avgPrice: 140 }), leaderPrice: 140 });
    await notifier.drained();
    expect(edits).toHaveLength(1);
    expect(sends).toHaveLength(2);
    expect(sends[1]!.text).toMatch(/^📋 <b>Leader<\/b> order L1\n✅ <b>mom<\/b> filled .*\n⏳ <b>dad<\/b> .* placed/);
  });

  it('/notify per chat: a kind set to off leaves its lines out; a working copy sounds as the fill it waits for', async () => {
    const C = 603;
    const { notifier, sends, edits } = make([A, B, C]);
    notifier.prefs.set(B, 'placed', 'off', 1);
    notifier.prefs.set(A, 'fills', 'silent', 1);
    notifier.emit({ type: 'copy_placed', copy: copy() });
    await notifier.drained();
    // B sees nothing yet (its only line is of a kind it turned off); A has placed and fills silent; C has the defaults (fills on).
    const byChat = () => sends.map((s) => [s.chat, s.silent]).sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(byChat()).toEqual([[A, true], [C, false]]);
    notifier.emit({ type: 'copy_filled', copy: copy({ state: 'filled', filledQty: 150, avgPrice: 140 }), leaderPrice: 140 });
    await notifier.drained();
    // B's message is sent at the fill, with a sound; A's and C's are edited (edits make no sound).
    expect(byChat()).toEqual([[A, true], [B, false], [C, false]]);
    expect(edits.map((e) => e.chat).sort()).toEqual([A, C]);
    expect(sends.find((s) => s.chat === B)!.text).not.toMatch(/placed/);
  });

  it('a rejection: a line of the message and its own loud alert', async () => {
    const { notifier, sends, edits } = make([A]);
    notifier.emit({ type: 'copy_placed', copy: copy() });
    notifier.emit({ type: 'copy_failed', copy: copy({ id: 2, followerId: 'dad', state: 'rejected', reason: 'margin' }), consequence: 'dad holds nothing.' });
    await notifier.drained();
    expect(sends).toHaveLength(2);
    expect(sends[0]!.text).toMatch(/^❌ <b>dad<\/b> .* REJECTED: margin \(leader L1\)\ndad holds nothing\.$/);
    expect(sends[0]!.silent).toBe(false);
    // The order's message went out as the copies did, and the edit that followed added the rejected line.
    expect(sends[1]!.text).toMatch(/^📋 .*\n⏳ <b>mom<\/b> [^\n]*$/);
    expect(edits.at(-1)!.text).toMatch(/^📋 .*\n⏳ <b>mom<\/b> .*\n❌ <b>dad<\/b> .* rejected: margin$/);
  });

  it('many copies of one order in one flush: read and written once, sent as the first copy went, then edited to every line', async () => {
    const { store, notifier, sends, edits } = make([A, B]);
    const names = ['mom', 'dad', 'son', 'aunt', 'uncle'];
    names.forEach((f, i) => notifier.emit({ type: 'copy_placed', copy: copy({ id: i + 1, followerId: f, tag: `T${i}` }) }));
    await notifier.drained();
    // Each chat: one message, sent with the first copy's line (as event by event), then edited to all five.
    expect(sends.map((x) => x.chat).sort()).toEqual([A, B]);
    for (const x of sends) expect(x.text.split('\n')).toHaveLength(2);
    for (const chat of [A, B]) expect(edits.filter((e) => e.chat === chat).at(-1)!.text.split('\n')).toHaveLength(6);
    // What the flush wrote at its end is in the store: the group's five lines, each chat's latest text.
    expect(store.alertGroups.get('L1')!.lines).toHaveLength(5);
    for (const chat of [A, B]) expect(store.alertGroups.message('L1', chat)!.text.split('\n')).toHaveLength(6);
  });

  it('a message Telegram refused for good (400): the next change of the order sends a new one, not an edit of nothing', async () => {
    const store = Store.open(tempDbPath());
    const notifier = new Notifier(store, new ManualClock(T0), [A], quiet, { edits: { minIntervalMs: 10 } });
    const sends: string[] = [];
    let refuse = true;
    notifier.attach(
      async (_chat, text) => {
        if (refuse) throw new GrammyError('Call to sendMessage failed', { ok: false, error_code: 400, description: 'Bad Request: message is too long' }, 'sendMessage', {});
        sends.push(text);
        return sends.length;
      },
      async () => {},
    );
    cleanup.push(async () => {
      await notifier.stop();
      store.close();
    });
    notifier.emit({ type: 'copy_placed', copy: copy() });
    await notifier.drained();
    expect(sends).toHaveLength(0);
    refuse = false;
    notifier.emit({ type: 'copy_filled', copy: copy({ state: 'filled', filledQty: 150, avgPrice: 140 }), leaderPrice: 140 });
    await notifier.drained();
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatch(/^📋 .*\n✅ <b>mom<\/b> filled/);
  });
});
