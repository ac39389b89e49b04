import { describe, expect, it } from 'vitest';
import type { BrokerOrder } from '../../src/domain/order.js';
import { isNews, isStaleFirstSight, nextSnapshot, planLeaderUpdate, type LeaderAction, type LeaderOrderSnapshot } from '../../src/domain/planner.js';

function order(over: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    orderId: 'L1',
    tag: null,
    status: 'open',
    instrument: { segment: 'NSE_FNO', securityId: '35001', symbol: 'NIFTY24JUN24000CE' },
    side: 'BUY',
    orderType: 'LIMIT',
    product: 'MARGIN',
    validity: 'DAY',
    amo: false,
    quantity: 100,
    filledQty: 0,
    avgPrice: 0,
    price: 120.5,
    triggerPrice: 0,
    reason: null,
    exchangeTime: null,
    ...over,
  };
}

function snap(over: Partial<LeaderOrderSnapshot> = {}): LeaderOrderSnapshot {
  return { status: 'open', quantity: 100, filledQty: 0, price: 120.5, triggerPrice: 0, orderType: 'LIMIT', mirrored: true, ...over };
}

type PlanCase = { name: string; prev: LeaderOrderSnapshot | null; next: BrokerOrder; expected: LeaderAction[] };

const planCases: PlanCase[] = [
  // first sight
  { name: 'first open → mirror', prev: null, next: order(), expected: [{ kind: 'mirror' }] },
  { name: 'first transit → nothing', prev: null, next: order({ status: 'transit' }), expected: [] },
  { name: 'transit then open → mirror', prev: snap({ status: 'transit', mirrored: false }), next: order(), expected: [{ kind: 'mirror' }] },
  { name: 'transit repeated → nothing', prev: snap({ status: 'transit', mirrored: false, price: 120 }), next: order({ status: 'transit' }), expected: [] },
  { name: 'first seen partly filled open → mirror + fill', prev: null, next: order({ filledQty: 25, avgPrice: 120 }), expected: [{ kind: 'mirror' }, { kind: 'fill', qty: 25 }] },
  { name: 'first seen filled → mirror + fill', prev: null, next: order({ status: 'filled', filledQty: 100, avgPrice: 120 }), expected: [{ kind: 'mirror' }, { kind: 'fill', qty: 100 }] },
  { name: 'first seen cancelled after partial fill → mirror + fill', prev: null, next: order({ status: 'cancelled', filledQty: 40, avgPrice: 120 }), expected: [{ kind: 'mirror' }, { kind: 'fill', qty: 40 }] },
  { name: 'first seen cancelled, nothing filled → nothing', prev: null, next: order({ status: 'cancelled' }), expected: [] },
  { name: 'first seen rejected → nothing', prev: null, next: order({ status: 'rejected', reason: 'margin' }), expected: [] },
  { name: 'first seen expired → nothing', prev: null, next: order({ status: 'expired' }), expected: [] },
  // modify
  { name: 'price change of a mirrored open order → modify', prev: snap(), next: order({ price: 121 }), expected: [{ kind: 'modify', quantity: 100, price: 121, triggerPrice: 0, orderType: 'LIMIT' }] },
  { name: 'quantity change → modify', prev: snap(), next: order({ quantity: 150 }), expected: [{ kind: 'modify', quantity: 150, price: 120.5, triggerPrice: 0, orderType: 'LIMIT' }] },
  { name: 'order type and trigger change → modify', prev: snap(), next: order({ orderType: 'SL', triggerPrice: 119 }), expected: [{ kind: 'modify', quantity: 100, price: 120.5, triggerPrice: 119, orderType: 'SL' }] },
  { name: 'modify together with a partial fill → modify + fill', prev: snap(), next: order({ price: 122, filledQty: 10, avgPrice: 121.9 }), expected: [{ kind: 'modify', quantity: 100, price: 122, triggerPrice: 0, orderType: 'LIMIT' }, { kind: 'fill', qty: 10 }] },
  { name: 'same terms on a mirrored open order → nothing', prev: snap(), next: order(), expected: [] },
  // cancel
  { name: 'cancelled mirrored order → cancel', prev: snap(), next: order({ status: 'cancelled' }), expected: [{ kind: 'cancel', why: 'cancelled' }] },
  { name: 'rejected mirrored order → cancel', prev: snap(), next: order({ status: 'rejected' }), expected: [{ kind: 'cancel', why: 'rejected' }] },
  { name: 'expired mirrored order → cancel', prev: snap(), next: order({ status: 'expired' }), expected: [{ kind: 'cancel', why: 'expired' }] },
  { name: 'cancelled after more fills → cancel + fill', prev: snap({ filledQty: 20 }), next: order({ status: 'cancelled', filledQty: 60 }), expected: [{ kind: 'cancel', why: 'cancelled' }, { kind: 'fill', qty: 40 }] },
  { name: 'cancel of an unmirrored (transit) order → nothing', prev: snap({ status: 'transit', mirrored: false }), next: order({ status: 'cancelled' }), expected: [] },
  { name: 'rejection of an unmirrored (transit) order → nothing', prev: snap({ status: 'transit', mirrored: false }), next: order({ status: 'rejected' }), expected: [] },
  // fills
  { name: 'mirrored order fills completely → fill only', prev: snap(), next: order({ status: 'filled', filledQty: 100, avgPrice: 120.4 }), expected: [{ kind: 'fill', qty: 100 }] },
  { name: 'partial fill 0 → 25', prev: snap(), next: order({ filledQty: 25 }), expected: [{ kind: 'fill', qty: 25 }] },
  { name: 'partial fill 25 → 75 books the delta', prev: snap({ filledQty: 25 }), next: order({ filledQty: 75 }), expected: [{ kind: 'fill', qty: 50 }] },
  { name: 'final fill 75 → 100 filled books the delta', prev: snap({ filledQty: 75 }), next: order({ status: 'filled', filledQty: 100 }), expected: [{ kind: 'fill', qty: 25 }] },
  { name: 'fill regression (echo) is ignored', prev: snap({ filledQty: 50 }), next: order({ filledQty: 20 }), expected: [] },
  // out of order
  { name: 'OPEN after CANCELLED → nothing', prev: snap({ status: 'cancelled' }), next: order({ status: 'open' }), expected: [] },
  { name: 'OPEN with new price after CANCELLED → no modify', prev: snap({ status: 'cancelled' }), next: order({ status: 'open', price: 130 }), expected: [] },
  { name: 'OPEN after FILLED → nothing', prev: snap({ status: 'filled', filledQty: 100 }), next: order({ status: 'open', filledQty: 50 }), expected: [] },
  { name: 'TRANSIT after OPEN → nothing', prev: snap(), next: order({ status: 'transit' }), expected: [] },
  { name: 'CANCELLED after FILLED → no cancel', prev: snap({ status: 'filled', filledQty: 100 }), next: order({ status: 'cancelled', filledQty: 100 }), expected: [] },
  { name: 'REJECTED after CANCELLED → no second cancel', prev: snap({ status: 'cancelled' }), next: order({ status: 'rejected' }), expected: [] },
  { name: 'late OPEN of an unmirrored cancelled order → no mirror', prev: snap({ status: 'cancelled', mirrored: false }), next: order({ status: 'open' }), expected: [] },
  // stale snapshots (a poll or book read taken before a modification the stream delivered)
  { name: 'older price snapshot → no modify', prev: snap({ price: 121, exchangeTime: 2_000 }), next: order({ price: 120.5, exchangeTime: 1_000 }), expected: [] },
  { name: 'older quantity snapshot → no modify', prev: snap({ quantity: 200, exchangeTime: 2_000 }), next: order({ quantity: 100, exchangeTime: 1_000 }), expected: [] },
  { name: 'newer snapshot → modify', prev: snap({ exchangeTime: 1_000 }), next: order({ price: 121, exchangeTime: 2_000 }), expected: [{ kind: 'modify', quantity: 100, price: 121, triggerPrice: 0, orderType: 'LIMIT' }] },
  { name: 'same stamp, new terms → modify (a second cannot tell them apart)', prev: snap({ exchangeTime: 2_000 }), next: order({ price: 121, exchangeTime: 2_000 }), expected: [{ kind: 'modify', quantity: 100, price: 121, triggerPrice: 0, orderType: 'LIMIT' }] },
];

describe('stale snapshots', () => {
  it('stream moves the price forward, a stale poll and a stale book row after it never move it back', () => {
    const stream1 = order({ price: 120.5, exchangeTime: 1_000 });
    const stream2 = order({ price: 121, exchangeTime: 2_000 });
    const stalePoll = order({ price: 120.5, exchangeTime: 1_000 });
    const modifies: number[] = [];
    let prev: LeaderOrderSnapshot | null = null;
    for (const u of [stream1, stream2, stalePoll, stream2, stalePoll]) {
      if (!isNews(prev, u)) continue;
      const actions = planLeaderUpdate(prev, u);
      for (const a of actions) if (a.kind === 'modify') modifies.push(a.price);
      prev = nextSnapshot(prev, u, true);
    }
    expect(modifies).toEqual([121]);
    expect(prev?.price).toBe(121);
    expect(prev?.exchangeTime).toBe(2_000);
  });
});

describe('planLeaderUpdate', () => {
  it.each(planCases)('$name', ({ prev, next, expected }) => {
    expect(planLeaderUpdate(prev, next)).toEqual(expected);
  });

  it('a sequence of partial fills books exactly the total once', () => {
    const updates = [
      order({ status: 'transit' }),
      order({ status: 'open' }),
      order({ status: 'open', filledQty: 30 }),
      order({ status: 'open', filledQty: 10 }), // late echo
      order({ status: 'open', filledQty: 30 }), // duplicate
      order({ status: 'open', filledQty: 80 }),
      order({ status: 'filled', filledQty: 100 }),
      order({ status: 'open', filledQty: 80 }), // late echo after terminal
    ];
    let prev: LeaderOrderSnapshot | null = null;
    let booked = 0;
    let mirrors = 0;
    for (const u of updates) {
      if (!isNews(prev, u)) continue;
      const actions = planLeaderUpdate(prev, u);
      for (const a of actions) {
        if (a.kind === 'fill') booked += a.qty;
        if (a.kind === 'mirror') mirrors += 1;
        expect(a.kind).not.toBe('cancel');
      }
      prev = nextSnapshot(prev, u, (prev?.mirrored ?? false) || actions.some((a) => a.kind === 'mirror'));
    }
    expect(booked).toBe(100);
    expect(mirrors).toBe(1);
    expect(prev?.status).toBe('filled');
    expect(prev?.filledQty).toBe(100);
  });
});

describe('isNews', () => {
  it.each<{ name: string; prev: LeaderOrderSnapshot | null; next: BrokerOrder; expected: boolean }>([
    { name: 'first sight', prev: null, next: order(), expected: true },
    { name: 'exact duplicate', prev: snap(), next: order(), expected: false },
    { name: 'duplicate ignores fields outside the dedupe key (avgPrice, reason, time)', prev: snap(), next: order({ avgPrice: 99, reason: 'x', exchangeTime: 123 }), expected: false },
    { name: 'duplicate ignores the mirrored flag', prev: snap({ mirrored: false }), next: order(), expected: false },
    { name: 'status changed', prev: snap(), next: order({ status: 'cancelled' }), expected: true },
    { name: 'fills changed', prev: snap(), next: order({ filledQty: 1 }), expected: true },
    { name: 'quantity changed', prev: snap(), next: order({ quantity: 101 }), expected: true },
    { name: 'price changed', prev: snap(), next: order({ price: 120.55 }), expected: true },
    { name: 'trigger changed', prev: snap(), next: order({ triggerPrice: 1 }), expected: true },
    { name: 'order type changed', prev: snap(), next: order({ orderType: 'MARKET' }), expected: true },
  ])('$name → $expected', ({ prev, next, expected }) => {
    expect(isNews(prev, next)).toBe(expected);
  });
});

describe('nextSnapshot', () => {
  it.each<{ name: string; prev: LeaderOrderSnapshot | null; next: BrokerOrder; mirrored: boolean; expected: LeaderOrderSnapshot }>([
    {
      name: 'first sight takes the update',
      prev: null,
      next: order({ filledQty: 10 }),
      mirrored: true,
      expected: snap({ filledQty: 10, mirrored: true }),
    },
    {
      name: 'forward move takes the new terms',
      prev: snap(),
      next: order({ price: 125, quantity: 150, orderType: 'SL', triggerPrice: 124, filledQty: 5 }),
      mirrored: true,
      expected: { status: 'open', quantity: 150, price: 125, triggerPrice: 124, orderType: 'SL', filledQty: 5, mirrored: true },
    },
    {
      name: 'never moves status backwards out of a terminal state',
      prev: snap({ status: 'cancelled', filledQty: 20 }),
      next: order({ status: 'open', price: 130, filledQty: 10 }),
      mirrored: true,
      expected: snap({ status: 'cancelled', filledQty: 20 }),
    },
    {
      name: 'never moves open back to transit',
      prev: snap({ status: 'open' }),
      next: order({ status: 'transit', price: 1 }),
      mirrored: true,
      expected: snap({ status: 'open' }),
    },
    {
      name: 'fills never go down',
      prev: snap({ filledQty: 50 }),
      next: order({ filledQty: 20 }),
      mirrored: true,
      expected: snap({ filledQty: 50 }),
    },
    {
      name: 'backwards update still raises fills',
      prev: snap({ status: 'cancelled', filledQty: 20 }),
      next: order({ status: 'open', filledQty: 30 }),
      mirrored: true,
      expected: snap({ status: 'cancelled', filledQty: 30 }),
    },
    {
      name: 'mirrored flag comes from the caller',
      prev: snap({ status: 'transit', mirrored: false }),
      next: order({ status: 'transit' }),
      mirrored: false,
      expected: snap({ status: 'transit', mirrored: false }),
    },
  ])('$name', ({ prev, next, mirrored, expected }) => {
    const { avgPrice: _avg, exchangeTime: _at, ...rest } = nextSnapshot(prev, next, mirrored);
    expect(rest).toEqual(expected);
  });

  it.each([
    { name: 'first seen filled long ago', prev: null, next: { status: 'filled', filledQty: 100, exchangeTime: 0 }, stale: true },
    { name: 'first seen filled just now', prev: null, next: { status: 'filled', filledQty: 100, exchangeTime: 290_000 }, stale: false },
    { name: 'first seen working, however old', prev: null, next: { status: 'open', filledQty: 0, exchangeTime: 0 }, stale: false },
    { name: 'first seen part-filled long ago', prev: null, next: { status: 'cancelled', filledQty: 50, exchangeTime: 0 }, stale: true },
    { name: 'seen before', prev: 'known', next: { status: 'filled', filledQty: 100, exchangeTime: 0 }, stale: false },
    { name: 'no exchange time', prev: null, next: { status: 'filled', filledQty: 100, exchangeTime: null }, stale: false },
  ] as const)('stale first sight: $name', ({ prev, next, stale }) => {
    const u = order({ status: next.status, filledQty: next.filledQty, exchangeTime: next.exchangeTime });
    expect(isStaleFirstSight(prev ? snap() : null, u, 300_000, 120_000)).toBe(stale);
  });

  it('keeps the average fill price, and never takes a stale one', () => {
    const filled = nextSnapshot(snap(), order({ status: 'filled', filledQty: 100, avgPrice: 121.5 }), true);
    expect(filled.avgPrice).toBe(121.5);
    const stale = nextSnapshot(filled, order({ status: 'open', filledQty: 50, avgPrice: 120 }), true);
    expect(stale.avgPrice).toBe(121.5);
  });

  it('after a snapshot, the same update is no longer news', () => {
    const u = order({ filledQty: 30, price: 121 });
    const s = nextSnapshot(snap(), u, true);
    expect(isNews(s, u)).toBe(false);
  });
});
