import { describe, expect, it } from 'vitest';
import { parseDhanFrame } from '../../src/brokers/dhan/dhan-frame.js';
import { ORDER_STATUSES, ORDER_TYPES, PRODUCTS, SEGMENTS, type BrokerOrder } from '../../src/domain/order.js';
import { prng } from '../support/prng.js';

/** The official sample (reference §6.2) verbatim, duplicate Remarks and mixed-case Status included. */
const OFFICIAL = `{"Data":{"Exchange":"NSE","Segment":"E","Source":"N","SecurityId":"14366","ClientId":"1000000001",
 "ExchOrderNo":"1400000000404591","OrderNo":"1124091136546","Product":"C","TxnType":"B","OrderType":"LMT",
 "Validity":"DAY","DiscQuantity":1,"DiscQtyRem":1,"RemainingQuantity":1,"Quantity":1,"TradedQty":0,
 "Price":13,"TriggerPrice":0,"TradedPrice":0,"AvgTradedPrice":0,"AlgoOrdNo":"","OffMktFlag":"0",
 "OrderDateTime":"2024-09-11 14:39:29","ExchOrderTime":"2024-09-11 14:39:29","LastUpdatedTime":"2024-09-11 14:39:29",
 "Remarks":"NR","MktType":"NL","ReasonDescription":"CONFIRMED","LegNo":1,"Instrument":"EQUITY","Symbol":"IDEA",
 "ProductName":"CNC","Status":"Cancelled","LotSize":1,"StrikePrice":0,"ExpiryDate":"0001-01-01 00:00:00",
 "OptType":"XX","DisplayName":"Vodafone Idea","Isin":"INE669E01016","Series":"EQ","GoodTillDaysDate":"2024-09-11",
 "RefLtp":13.21,"TickSize":0.01,"AlgoId":"0","Multiplier":1,"CorrelationId":"","Remarks":"Super Order"},
 "Type":"order_alert"}`;

/** An F&O order with the live page's camelCase duplicate cluster, numbers as strings, our tag. */
const FNO_STRINGS = JSON.stringify({
  Type: 'order_alert',
  Data: {
    Exchange: 'NSE', Segment: 'D', Source: 'P', SecurityId: 61345, OrderNo: '5126000000042', Product: 'M', TxnType: 'S', OrderType: 'SLM',
    Validity: 'IOC', Quantity: '150', TradedQty: '75', AvgTradedPrice: '101.25', Price: '0', TriggerPrice: '99.5', OffMktFlag: '1',
    LastUpdatedTime: '2026-12-01 09:15:00', ReasonDescription: 'CONFIRMED', Symbol: 'NIFTY-Dec2026-26000-CE', Status: 'part_traded',
    CorrelationId: 'tdmL1F2abc', series: 'NA', goodTillDaysDate: '2026-12-01', instrumentType: 'OPTIDX', refLtp: '101', tickSize: '0.05', algoId: '0', multiplier: '1',
  },
});

const ist = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h, mi, s) - 330 * 60_000;

const frameWith = (data: Record<string, unknown>) =>
  JSON.stringify({ Type: 'order_alert', Data: { Exchange: 'NSE', Segment: 'E', SecurityId: '1333', OrderNo: '1', Product: 'I', TxnType: 'B', OrderType: 'MKT', Quantity: 1, Status: 'PENDING', ...data } });

describe('parseDhanFrame: documented frames and quirks', () => {
  it('maps the official sample (duplicate Remarks, "Cancelled", empty CorrelationId)', () => {
    const { orders, errors } = parseDhanFrame(OFFICIAL);
    expect(errors).toEqual([]);
    expect(orders).toEqual<BrokerOrder[]>([
      {
        orderId: '1124091136546', tag: null, status: 'cancelled', instrument: { segment: 'NSE_EQ', securityId: '14366', symbol: 'IDEA' },
        side: 'BUY', orderType: 'LIMIT', product: 'CNC', validity: 'DAY', amo: false, quantity: 1, filledQty: 0, avgPrice: 0,
        price: 13, triggerPrice: 0, reason: null, exchangeTime: ist(2024, 9, 11, 14, 39, 29),
      },
    ]);
  });

  it('reads numbers sent as strings, short codes, AMO flag and our correlation id', () => {
    const [o] = parseDhanFrame(FNO_STRINGS).orders;
    expect(o).toMatchObject({
      orderId: '5126000000042', tag: 'tdmL1F2abc', status: 'open', side: 'SELL', orderType: 'SL-M', product: 'MARGIN', validity: 'IOC',
      amo: true, quantity: 150, filledQty: 75, avgPrice: 101.25, price: 0, triggerPrice: 99.5, exchangeTime: ist(2026, 12, 1, 9, 15, 0),
      instrument: { segment: 'NSE_FNO', securityId: '61345', symbol: 'NIFTY-Dec2026-26000-CE' },
    });
  });

  it('accepts camelCase duplicates and camelCase-only frames; the first non-empty spelling wins', () => {
    const both = frameWith({ OrderNo: '', orderNo: '777', Status: 'TRADED', status: 'PENDING', TradedQty: 1, AvgTradedPrice: 10 });
    expect(parseDhanFrame(both).orders[0]).toMatchObject({ orderId: '777', status: 'filled' });
    const camel = JSON.stringify({
      type: 'order_alert',
      data: { exchange: 'BSE', segment: 'D', securityId: '825614', orderNo: '9', product: 'I', txnType: 'B', orderType: 'LMT', quantity: '20', price: '5.5', status: 'pending', correlationId: 'abc' },
    });
    expect(parseDhanFrame(camel).orders[0]).toMatchObject({ orderId: '9', status: 'open', instrument: { segment: 'BSE_FNO' }, quantity: 20, price: 5.5, tag: 'abc' });
  });

  it.each([
    ['TRANSIT', 'transit'], ['pending', 'open'], ['Pending', 'open'], ['PART_TRADED', 'open'], ['Part_Traded', 'open'], ['TRIGGERED', 'open'],
    ['TRADED', 'filled'], ['traded', 'filled'], ['Cancelled', 'cancelled'], ['CANCELLED', 'cancelled'], ['Rejected', 'rejected'], ['EXPIRED', 'expired'],
  ])('status %s → %s', (raw, want) => {
    const r = parseDhanFrame(frameWith({ Status: raw }));
    expect(r.errors).toEqual([]);
    expect(r.orders[0]?.status).toBe(want);
  });

  it('decodes an unknown status as transit (fail closed) and reports it', () => {
    const r = parseDhanFrame(frameWith({ Status: 'CLOSED' }));
    expect(r.orders[0]?.status).toBe('transit');
    expect(r.errors.join()).toMatch(/unknown status "CLOSED"/);
  });

  it.each([
    ['NSE', 'E', 'NSE_EQ'], ['NSE', 'D', 'NSE_FNO'], ['BSE', 'E', 'BSE_EQ'], ['BSE', 'D', 'BSE_FNO'], ['MCX', 'M', 'MCX_COMM'], ['NSE', 'C', 'NSE_CURRENCY'],
  ])('segment %s+%s → %s', (exchange, segment, want) => {
    expect(parseDhanFrame(frameWith({ Exchange: exchange, Segment: segment })).orders[0]?.instrument.segment).toBe(want);
  });

  it.each([['C', 'CNC'], ['I', 'INTRADAY'], ['M', 'MARGIN'], ['F', 'CNC'], ['V', 'INTRADAY'], ['B', 'INTRADAY']])('product %s → %s', (code, want) => {
    expect(parseDhanFrame(frameWith({ Product: code })).orders[0]?.product).toBe(want);
  });

  it.each([['LMT', 'LIMIT'], ['MKT', 'MARKET'], ['SL', 'SL'], ['SLM', 'SL-M']])('order type %s → %s', (code, want) => {
    expect(parseDhanFrame(frameWith({ OrderType: code })).orders[0]?.orderType).toBe(want);
  });

  it('carries the rejection reason verbatim, but not CONFIRMED', () => {
    const reason = 'RMS:1:Order Price needs to be Circuit Limits of 2915.70 to 3563.50';
    expect(parseDhanFrame(frameWith({ Status: 'REJECTED', ReasonDescription: reason })).orders[0]?.reason).toBe(reason);
  });

  it('splits two objects concatenated in one frame, braces inside strings included', () => {
    const a = frameWith({ OrderNo: 'A1', ReasonDescription: 'odd {text} [here] "quoted"' });
    const b = frameWith({ OrderNo: 'B2', Status: 'TRADED' });
    const r = parseDhanFrame(`${a}${b}`);
    expect(r.orders.map((o) => o.orderId)).toEqual(['A1', 'B2']);
    expect(r.errors).toEqual([]);
    expect(parseDhanFrame(`${a}\n ${b}\n`).orders).toHaveLength(2);
    expect(parseDhanFrame(`${OFFICIAL}${OFFICIAL}`).orders).toHaveLength(2);
  });

  it('skips PING, garbage and truncated frames with an error, never throwing', () => {
    for (const bad of ['PING', 'pong', '\u0000\u0001\u00ff binary', OFFICIAL.slice(0, 200), '{"Type":"order_alert","Data":', '}{', '[1,2', 'null', '42']) {
      const r = parseDhanFrame(bad);
      expect(r.orders, bad).toEqual([]);
      expect(r.errors.length, bad).toBeGreaterThan(0);
    }
    expect(parseDhanFrame('')).toEqual({ orders: [], errors: [] });
    expect(parseDhanFrame('   \n')).toEqual({ orders: [], errors: [] });
  });

  it('keeps the good half of a frame whose second object is truncated', () => {
    const r = parseDhanFrame(`${frameWith({ OrderNo: 'OK1' })}${OFFICIAL.slice(0, 120)}`);
    expect(r.orders.map((o) => o.orderId)).toEqual(['OK1']);
    expect(r.errors.length).toBe(1);
  });

  it('ignores other message types and refuses orders it cannot map', () => {
    expect(parseDhanFrame('{"Type":"login_ack","Data":{}}').errors.join()).toMatch(/type "login_ack"/);
    expect(parseDhanFrame(frameWith({ OrderNo: '' })).errors.join()).toMatch(/OrderNo/);
    expect(parseDhanFrame(frameWith({ Exchange: 'NSE', Segment: 'I' })).orders).toEqual([]);
    expect(parseDhanFrame(frameWith({ TxnType: 'X' })).orders).toEqual([]);
    expect(parseDhanFrame('{"Type":"order_alert","Data":"nope"}').errors.join()).toMatch(/without a Data object/);
  });
});

// ---------------------------------------------------------------- fuzz


const NASTY = ['{', '}', '[', ']', '"', '\\', ':', ',', '0', '-', 'e', 'E', ' ', '\n', '\u0000', '\uffff', 'é', 'null', 'true', '1e999', '"Status":"TRADED"', '}{'];
const ODD_VALUES: unknown[] = [null, '', ' ', 'NA', -1, 0, 1e308, -1e308, '1e999', 'NaN', true, false, [], {}, [1, 2], { nested: { deep: 1 } }, 'x'.repeat(500), '🙂'];

function mutate(frame: string, rnd: () => number): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const at = () => Math.floor(rnd() * (frame.length + 1));
  switch (Math.floor(rnd() * 8)) {
    case 0: // truncate
      return frame.slice(0, at());
    case 1: { // flip a few characters
      const chars = [...frame];
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n -= 1) chars[Math.floor(rnd() * chars.length)] = pick(NASTY);
      return chars.join('');
    }
    case 2: { // insert junk
      const i = at();
      return frame.slice(0, i) + pick(NASTY) + frame.slice(i);
    }
    case 3: // concatenate with a (possibly truncated) copy
      return frame + frame.slice(0, at());
    default: { // structural: delete fields or give them odd values
      let obj: { Data?: Record<string, unknown> };
      try {
        obj = JSON.parse(frame) as { Data?: Record<string, unknown> };
      } catch {
        return frame.slice(0, at());
      }
      const data = obj.Data;
      if (!data || typeof data !== 'object') return JSON.stringify(obj);
      const keys = Object.keys(data);
      for (let n = 1 + Math.floor(rnd() * 5); n > 0; n -= 1) {
        const k = pick(keys);
        if (rnd() < 0.5) delete data[k];
        else data[k] = pick(ODD_VALUES);
      }
      if (rnd() < 0.1) (obj as Record<string, unknown>).Data = pick(ODD_VALUES);
      return JSON.stringify(obj);
    }
  }
}

function assertWellFormed(o: BrokerOrder): void {
  expect(typeof o.orderId).toBe('string');
  expect(o.orderId.length).toBeGreaterThan(0);
  expect(ORDER_STATUSES).toContain(o.status);
  expect(SEGMENTS).toContain(o.instrument.segment);
  expect(ORDER_TYPES).toContain(o.orderType);
  expect(PRODUCTS).toContain(o.product);
  expect(['BUY', 'SELL']).toContain(o.side);
  expect(['DAY', 'IOC']).toContain(o.validity);
  expect(typeof o.amo).toBe('boolean');
  for (const n of [o.quantity, o.filledQty, o.avgPrice, o.price, o.triggerPrice]) expect(Number.isFinite(n)).toBe(true);
  expect(o.tag === null || typeof o.tag === 'string').toBe(true);
  expect(o.exchangeTime === null || Number.isFinite(o.exchangeTime)).toBe(true);
}

describe('parseDhanFrame: fuzz', () => {
  const bases = [OFFICIAL, FNO_STRINGS, frameWith({ Status: 'REJECTED', ReasonDescription: 'RMS: {x}' }), `${frameWith({})}${frameWith({ OrderNo: '2' })}`];

  it('never throws and only ever emits well-formed orders, over 6000 mutated frames', () => {
    const rnd = prng(0xd4a17);
    let emitted = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i += 1) {
      let frame = bases[i % bases.length] as string;
      for (let m = 1 + Math.floor(rnd() * 3); m > 0; m -= 1) frame = mutate(frame, rnd);
      let r: ReturnType<typeof parseDhanFrame> | undefined;
      expect(() => {
        r = parseDhanFrame(frame);
      }, frame).not.toThrow();
      if (!r) throw new Error('unreachable');
      expect(Array.isArray(r.orders) && Array.isArray(r.errors)).toBe(true);
      for (const o of r.orders) assertWellFormed(o);
      emitted += r.orders.length;
      if (r.orders.length === 0) rejected += 1;
    }
    // The mutations must exercise both paths, or the fuzz proves nothing.
    expect(emitted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });

  it('survives pathological inputs', () => {
    for (const s of ['['.repeat(100_000), '{"a":'.repeat(50_000), '"'.repeat(10_001), '}'.repeat(10_000), '{}'.repeat(20_000)]) {
      expect(() => parseDhanFrame(s)).not.toThrow();
    }
  });
});
