/**
 * Each follower's own rules (issue 17), decision by decision: the instrument filters, the entry
 * window's edges, MAX_OPEN_POSITIONS, the product an entry goes out with, and the rules book (env
 * values, chat overrides that survive a restart, reset).
 */
import { describe, expect, it } from 'vitest';
import type { Instrument } from '../../src/domain/instrument.js';
import { DEFAULT_RULES, entryProduct, instrumentRefusal, type FollowerRules } from '../../src/domain/rules.js';
import { allocateExit, exitHoldings, ruleRefusal, type RuleGateDeps } from '../../src/engine/entry-rules.js';
import { FollowerRulesBook } from '../../src/engine/follower-rules.js';
import { PositionBook } from '../../src/engine/positions.js';
import type { CopyRow } from '../../src/store/index.js';
import { RuntimeSettings } from '../../src/engine/runtime-settings.js';
import { ManualClock } from '../../src/infra/clock.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

const rules = (over: Partial<FollowerRules> = {}): FollowerRules => ({ ...DEFAULT_RULES, ...over });

const inst = (segment: Instrument['segment'], symbol: string, name: string, securityId = symbol) => ({ segment, securityId, symbol, name });
const NIFTY_CE = inst('NSE_FNO', 'NIFTY25JAN24000CE', 'NIFTY', '43001');
const BANKNIFTY_FUT = inst('NSE_FNO', 'BANKNIFTY25JANFUT', 'BANKNIFTY', '43002');
const SENSEX_PE = inst('BSE_FNO', 'SENSEX25JAN80000PE', 'SENSEX', '83001');
const RELIANCE = inst('NSE_EQ', 'RELIANCE', 'RELIANCE INDUSTRIES', '2885');
const INFY_EQ = inst('NSE_EQ', 'INFY-EQ', 'INFOSYS', '1594');
const GOLD = inst('MCX_COMM', 'GOLDM25FEBFUT', 'GOLDM', '90001');

/** 2026-01-05 (a Monday) at IST hh:mm. */
const istMs = (hhmm: string) => Date.UTC(2026, 0, 5, 0, 0) - 5.5 * 3600_000 + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * 60_000;

function gate(over: { rules?: Partial<FollowerRules>; at?: string; window?: RuleGateDeps['entryWindow']; positions?: PositionBook; live?: Partial<CopyRow>[]; loss?: string | null } = {}): RuleGateDeps {
  const clock = new ManualClock(istMs(over.at ?? '10:00'));
  return {
    rules: { get: () => rules(over.rules) },
    entryWindow: over.window ?? { from: null, until: null },
    clock,
    positions: over.positions ?? new PositionBook(),
    lossGuard: () => ({ entryBlock: () => over.loss ?? null }),
    liveEntries: () => (over.live ?? []) as CopyRow[],
  };
}

describe('instrument filters (SEGMENTS, SYMBOLS, EXCLUDE_SYMBOLS)', () => {
  it.each<{ name: string; r: Partial<FollowerRules>; i: ReturnType<typeof inst>; why: string | null }>([
    { name: 'all segments by default', r: {}, i: GOLD, why: null },
    { name: 'NFO, BFO only: an NSE equity is refused, naming what is allowed', r: { segments: ['NFO', 'BFO'] }, i: RELIANCE, why: 'NFO, BFO only' },
    { name: 'NFO, BFO only: an NFO option goes', r: { segments: ['NFO', 'BFO'] }, i: NIFTY_CE, why: null },
    { name: 'NFO, BFO only: a BFO option goes', r: { segments: ['NFO', 'BFO'] }, i: SENSEX_PE, why: null },
    { name: 'NSE_EQ only: MCX refused', r: { segments: ['NSE_EQ'] }, i: GOLD, why: 'NSE_EQ only' },
    { name: 'symbols NIFTY: a NIFTY option goes (its underlying)', r: { symbols: ['NIFTY'] }, i: NIFTY_CE, why: null },
    { name: 'symbols NIFTY: a BANKNIFTY future is refused', r: { symbols: ['NIFTY'] }, i: BANKNIFTY_FUT, why: 'BANKNIFTY is not in its symbols (NIFTY)' },
    { name: 'symbols RELIANCE: the equity matches its trading symbol', r: { symbols: ['RELIANCE'] }, i: RELIANCE, why: null },
    { name: 'an -EQ suffix is not part of the underlying', r: { symbols: ['INFY'] }, i: INFY_EQ, why: null },
    { name: 'excluded BANKNIFTY is refused', r: { excludeSymbols: ['BANKNIFTY'] }, i: BANKNIFTY_FUT, why: 'BANKNIFTY is excluded' },
    { name: 'excluded BANKNIFTY leaves NIFTY alone', r: { excludeSymbols: ['BANKNIFTY'] }, i: NIFTY_CE, why: null },
    { name: 'the segment is said before the symbol', r: { segments: ['NSE_EQ'], symbols: ['RELIANCE'] }, i: NIFTY_CE, why: 'NSE_EQ only' },
  ])('$name', ({ r, i, why }) => {
    expect(instrumentRefusal(rules(r), i)).toBe(why);
    expect(ruleRefusal(gate({ rules: r }), 'f1', i)).toBe(why);
  });
});

describe('entry window (COPY_ENTRIES_FROM / UNTIL, IST)', () => {
  const window = { from: '09:20', until: '15:00' };
  it.each<{ at: string; ok: boolean }>([
    { at: '09:19', ok: false },
    { at: '09:20', ok: true },
    { at: '14:59', ok: true },
    { at: '15:00', ok: false },
    { at: '15:25', ok: false },
  ])('an entry at $at IST: allowed $ok', ({ at, ok }) => {
    const why = ruleRefusal(gate({ at, window }), 'f1', NIFTY_CE);
    if (ok) expect(why).toBeNull();
    else expect(why).toBe(`outside the entry window (09:20–15:00 IST; now ${at})`);
  });

  it('either end may be unset', () => {
    expect(ruleRefusal(gate({ at: '09:00', window: { from: null, until: '15:00' } }), 'f1', NIFTY_CE)).toBeNull();
    expect(ruleRefusal(gate({ at: '15:10', window: { from: null, until: '15:00' } }), 'f1', NIFTY_CE)).toMatch(/open–15:00 IST; now 15:10/);
    expect(ruleRefusal(gate({ at: '09:10', window: { from: '09:15', until: null } }), 'f1', NIFTY_CE)).toMatch(/09:15–close IST/);
  });
});

describe('MAX_OPEN_POSITIONS and the loss guard', () => {
  const book = () => {
    const p = new PositionBook();
    p.add('f1', NIFTY_CE, 'MARGIN', 75);
    p.add('f1', BANKNIFTY_FUT, 'INTRADAY', -30);
    p.add('f1', RELIANCE, 'CNC', 10); // delivery holdings: not an open trade
    p.add('f2', GOLD, 'MARGIN', 1); // another follower's
    return p;
  };

  it('a third instrument is refused at 2; adding to one already open goes', () => {
    const g = gate({ rules: { maxOpenPositions: 2 }, positions: book() });
    expect(ruleRefusal(g, 'f1', SENSEX_PE)).toBe('2 positions open, its max_open_positions is 2');
    expect(ruleRefusal(g, 'f1', NIFTY_CE)).toBeNull();
    expect(ruleRefusal(g, 'f1', BANKNIFTY_FUT)).toBeNull();
    expect(ruleRefusal(gate({ rules: { maxOpenPositions: 3 }, positions: book() }), 'f1', SENSEX_PE)).toBeNull();
  });

  it('an entry still working counts as open (it opens one when it fills); a closed line does not', () => {
    const p = book();
    p.add('f1', BANKNIFTY_FUT, 'INTRADAY', 30); // flat again
    const live = [{ followerId: 'f1', kind: 'entry' as const, segment: GOLD.segment, securityId: GOLD.securityId }];
    expect(ruleRefusal(gate({ rules: { maxOpenPositions: 2 }, positions: p }), 'f1', SENSEX_PE)).toBeNull();
    expect(ruleRefusal(gate({ rules: { maxOpenPositions: 2 }, positions: p, live }), 'f1', SENSEX_PE)).toBe('2 positions open, its max_open_positions is 2');
    // Other followers' working entries are theirs.
    expect(ruleRefusal(gate({ rules: { maxOpenPositions: 2 }, positions: p, live: [{ ...live[0]!, followerId: 'f2' }] }), 'f1', SENSEX_PE)).toBeNull();
  });

  it("the loss guard's reason stops entries", () => {
    expect(ruleRefusal(gate({ loss: 'daily loss limit reached: P&L −₹5,200 ≤ −₹5,000' }), 'f1', NIFTY_CE)).toBe('daily loss limit reached: P&L −₹5,200 ≤ −₹5,000');
  });
});

describe('PRODUCT', () => {
  it.each<{ rule: FollowerRules['product']; leader: 'CNC' | 'INTRADAY' | 'MARGIN'; segment: Instrument['segment']; out: string }>([
    { rule: 'same', leader: 'INTRADAY', segment: 'NSE_FNO', out: 'INTRADAY' },
    { rule: 'same', leader: 'CNC', segment: 'NSE_EQ', out: 'CNC' },
    { rule: 'intraday', leader: 'MARGIN', segment: 'NSE_FNO', out: 'INTRADAY' },
    { rule: 'intraday', leader: 'CNC', segment: 'NSE_EQ', out: 'INTRADAY' },
    { rule: 'carry', leader: 'INTRADAY', segment: 'NSE_FNO', out: 'MARGIN' },
    { rule: 'carry', leader: 'INTRADAY', segment: 'NSE_EQ', out: 'CNC' },
    { rule: 'delivery', leader: 'INTRADAY', segment: 'NSE_EQ', out: 'CNC' },
    { rule: 'delivery', leader: 'INTRADAY', segment: 'BSE_EQ', out: 'CNC' },
    // Delivery is for equities: a derivative keeps the leader's product.
    { rule: 'delivery', leader: 'INTRADAY', segment: 'NSE_FNO', out: 'INTRADAY' },
    { rule: 'delivery', leader: 'MARGIN', segment: 'MCX_COMM', out: 'MARGIN' },
  ])('$rule with a leader $leader on $segment → $out', ({ rule, leader, segment, out }) => {
    expect(entryProduct(rule, leader, segment)).toBe(out);
  });

  it("exits sell the rule's product first, then any other holding the same direction, never more than held", () => {
    const p = new PositionBook();
    p.add('f1', RELIANCE, 'CNC', 60); // bought while the rule said delivery
    p.add('f1', RELIANCE, 'INTRADAY', 40); // bought after it was changed to intraday
    p.add('f1', RELIANCE, 'MARGIN', -5); // the other direction: never touched by a sell
    const hs = exitHoldings(p, 'f1', RELIANCE, 'INTRADAY', 1, [], 'SELL');
    expect(hs.map((h) => [h.product, h.free])).toEqual([
      ['INTRADAY', 40],
      ['CNC', 60],
    ]);
    expect(allocateExit(100, hs)).toEqual([
      { product: 'INTRADAY', qty: 40 },
      { product: 'CNC', qty: 60 },
    ]);
    expect(allocateExit(30, hs)).toEqual([{ product: 'INTRADAY', qty: 30 }]);
    // Asked for more than is held: what is held, no more (never short).
    expect(allocateExit(500, hs).reduce((n, a) => n + a.qty, 0)).toBe(100);
    // A market exit already on its way out of the CNC holding is not sold twice.
    const going = [{ followerId: 'f1', kind: 'exit', side: 'SELL', orderType: 'MARKET', product: 'CNC', plannedQty: 60, filledQty: 0 }] as CopyRow[];
    expect(exitHoldings(p, 'f1', RELIANCE, 'INTRADAY', 1, going, 'SELL').map((h) => [h.product, h.free])).toEqual([
      ['INTRADAY', 40],
      ['CNC', 0],
    ]);
    // A buy-back of a short reads only the short.
    expect(exitHoldings(p, 'f1', RELIANCE, 'CNC', -1, [], 'BUY').map((h) => [h.product, h.held])).toEqual([['MARGIN', 5]]);
  });
});

describe('FollowerRulesBook', () => {
  it('gives the env rules, a chat value over them that survives a restart, and reset back to env', () => {
    const path = tempDbPath();
    const clock = new ManualClock(1_800_000_000_000);
    const env = [
      { id: 'f1', rules: rules({ segments: ['NFO'], maxOpenPositions: 3 }) },
      { id: 'f2', rules: rules() },
    ];
    const s1 = Store.open(path);
    const book = bookOn(s1, clock, env);
    expect(book.get('f1').segments).toEqual(['NFO']);
    expect(book.source('f1', 'segments')).toBe('env');

    const change = book.set('f1', 'segments', ['NFO', 'BFO'], 111);
    expect(change).toEqual({ before: ['NFO'], after: ['NFO', 'BFO'], was: 'env' });
    expect(book.get('f1').segments).toEqual(['NFO', 'BFO']);
    expect(book.source('f1', 'segments')).toBe('chat');
    // A chat value may itself be null ("all"): still the chat's.
    book.set('f1', 'maxOpenPositions', null, 111);
    expect(book.get('f1').maxOpenPositions).toBeNull();
    expect(book.source('f1', 'maxOpenPositions')).toBe('chat');
    // Other followers and rules are untouched.
    expect(book.get('f2').segments).toBeNull();
    expect(book.source('f1', 'product')).toBe('env');
    s1.close();

    const s2 = Store.open(path);
    const again = bookOn(s2, clock, env);
    expect(again.get('f1').segments).toEqual(['NFO', 'BFO']);
    expect(again.get('f1').maxOpenPositions).toBeNull();
    const back = again.reset('f1', 'maxOpenPositions', 111);
    expect(back).toEqual({ before: null, after: 3, was: 'chat' });
    expect(again.source('f1', 'maxOpenPositions')).toBe('env');
    expect(again.get('f1').maxOpenPositions).toBe(3);
    s2.close();

    const s3 = Store.open(path);
    const third = bookOn(s3, clock, env);
    expect(third.get('f1').maxOpenPositions).toBe(3);
    expect(third.source('f1', 'segments')).toBe('chat');
    expect(() => third.get('nobody')).toThrow(/unknown follower nobody/);
    s3.close();
  });
});

/** A rules book over its own RuntimeSettings on `store`. */
function bookOn(store: Store, clock: ManualClock, env: { id: string; rules: FollowerRules }[]): FollowerRulesBook {
  return new FollowerRulesBook(env, new RuntimeSettings(store, clock));
}
