/** The Kite order view: a poll answered with the book as it was before the stream's newer state is never emitted. */
import { describe, expect, it } from 'vitest';
import type { BrokerOrder } from '../../src/domain/order.js';
import { OrderView } from '../../src/brokers/kite/kite-poller.js';

const order = (over: Partial<BrokerOrder>): BrokerOrder => ({
  orderId: 'K1',
  tag: null,
  status: 'open',
  instrument: { segment: 'NSE_FNO', securityId: '12345', symbol: 'NIFTY26DEC26000CE' },
  side: 'BUY',
  orderType: 'LIMIT',
  product: 'MARGIN',
  validity: 'DAY',
  amo: false,
  quantity: 75,
  filledQty: 0,
  avgPrice: 0,
  price: 120,
  triggerPrice: 0,
  reason: null,
  exchangeTime: 1_000,
  ...over,
});

describe('OrderView', () => {
  it('emits new and changed snapshots once, never one stamped earlier than the newest seen', () => {
    const v = new OrderView();
    expect(v.note(order({}))).toBe(true); // new
    expect(v.note(order({}))).toBe(false); // same
    expect(v.note(order({ price: 121, exchangeTime: 3_000 }))).toBe(true); // the stream's modification
    expect(v.note(order({ price: 120, exchangeTime: 1_000 }))).toBe(false); // a stale poll: not emitted
    expect(v.note(order({ price: 121, exchangeTime: 3_000 }))).toBe(false); // and not remembered either
    expect(v.note(order({ price: 122, exchangeTime: 4_000 }))).toBe(true);
  });

  it('a snapshot without a time is judged by its content alone', () => {
    const v = new OrderView();
    expect(v.note(order({ exchangeTime: null }))).toBe(true);
    expect(v.note(order({ price: 121, exchangeTime: null }))).toBe(true);
    expect(v.note(order({ price: 121, exchangeTime: 2_000 }))).toBe(false);
  });
});
