import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES, SEGMENTS, type BrokerOrder } from '../../src/domain/order.js';
import { parseKiteFrame, type RawFrame } from '../../src/brokers/kite/kite-frame.js';
import { prng } from '../support/prng.js';

/** The reference's WS order frame (postback.json with a blank checksum). */
const ORDER_DATA = {
  user_id: 'AB1234', unfilled_quantity: 0, app_id: 1234, checksum: '', placed_by: 'AB1234',
  order_id: '220303000308932', exchange_order_id: '1000000001482421', parent_order_id: null, status: 'COMPLETE',
  status_message: null, status_message_raw: null, order_timestamp: '2022-03-03 09:24:25',
  exchange_update_timestamp: '2022-03-03 09:24:25', exchange_timestamp: '2022-03-03 09:24:25', variety: 'regular',
  exchange: 'NSE', tradingsymbol: 'SBIN', instrument_token: 779521, order_type: 'MARKET', transaction_type: 'BUY',
  validity: 'DAY', product: 'CNC', quantity: 1, disclosed_quantity: 0, price: 0, trigger_price: 0, average_price: 470,
  filled_quantity: 1, pending_quantity: 0, cancelled_quantity: 0, market_protection: 0, meta: {}, tag: null, guid: 'XXXXXX',
};
const frame = (data: Record<string, unknown>) => JSON.stringify({ type: 'order', data });

/** An ltp-mode market-data frame: int16 packet count, int16 length, token, price in paise. */
function ltpPacket(token: number, paise: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(8, 2);
  b.writeUInt32BE(token, 4);
  b.writeUInt32BE(paise, 8);
  return b;
}

describe('parseKiteFrame', () => {
  it('normalises an order frame', () => {
    const { orders, errors } = parseKiteFrame(frame(ORDER_DATA), false);
    expect(errors).toEqual([]);
    expect(orders).toHaveLength(1);
    const o = orders[0] as BrokerOrder;
    expect(o).toMatchObject({
      orderId: '220303000308932', tag: null, status: 'filled', side: 'BUY', orderType: 'MARKET', product: 'CNC',
      validity: 'DAY', amo: false, quantity: 1, filledQty: 1, avgPrice: 470, price: 0, triggerPrice: 0,
    });
    expect(o.instrument).toEqual({ segment: 'NSE_EQ', securityId: String(Math.floor(779521 / 256)), symbol: 'SBIN' });
    expect(o.exchangeTime).toBe(Date.UTC(2022, 2, 3, 3, 54, 25)); // 09:24:25 IST
  });

  it('keeps a 19-digit order id exact and reads the F&O segment and tag', () => {
    const data = { ...ORDER_DATA, order_id: '1953367517686685697', exchange: 'NFO', instrument_token: 10189826, tag: 'tdmabc', product: 'NRML', status: 'UPDATE', filled_quantity: 0 };
    const o = parseKiteFrame(frame(data), false).orders[0];
    expect(o?.orderId).toBe('1953367517686685697');
    expect(o?.instrument.segment).toBe('NSE_FNO');
    expect(o?.instrument.securityId).toBe('39804');
    expect(o?.tag).toBe('tdmabc');
    expect(o?.product).toBe('MARGIN');
    expect(o?.status).toBe('open');
  });

  it.each([
    ['OPEN', 'open'], ['TRIGGER PENDING', 'open'], ['MODIFIED', 'open'], ['MODIFY PENDING', 'open'], ['CANCEL PENDING', 'open'],
    ['MODIFY VALIDATION PENDING', 'open'], ['PUT ORDER REQ RECEIVED', 'transit'], ['VALIDATION PENDING', 'transit'],
    ['OPEN PENDING', 'transit'], ['AMO REQ RECEIVED', 'transit'], ['CANCELLED', 'cancelled'], ['CANCELLED AMO', 'cancelled'],
    ['REJECTED', 'rejected'], ['COMPLETE', 'filled'],
  ])('maps status %s to %s', (kite, canonical) => {
    expect(parseKiteFrame(frame({ ...ORDER_DATA, status: kite }), false).orders[0]?.status).toBe(canonical);
  });

  it('carries the rejection reason verbatim and reads amo from the variety', () => {
    const reason = 'RMS:Margin Exceeds,Required:95417.84, Available:74251.80';
    const o = parseKiteFrame(frame({ ...ORDER_DATA, status: 'REJECTED', status_message: reason, variety: 'amo' }), false).orders[0];
    expect(o?.reason).toBe(reason);
    expect(o?.amo).toBe(true);
  });

  it('reads a text frame delivered as a Buffer', () => {
    expect(parseKiteFrame(Buffer.from(frame(ORDER_DATA)), false).orders).toHaveLength(1);
  });

  it('reports error frames and message frames', () => {
    const e = parseKiteFrame(JSON.stringify({ type: 'error', data: 'Invalid subscription' }), false);
    expect(e.orders).toEqual([]);
    expect(e.errors).toEqual(['kite error: Invalid subscription']);
    const m = parseKiteFrame(JSON.stringify({ type: 'message', data: 'Markets closed early today' }), false);
    expect(m.messages).toEqual(['Markets closed early today']);
    expect(m.errors).toEqual([]);
  });

  it('ignores heartbeats and market data', () => {
    for (const b of [Buffer.from([0]), ltpPacket(408065, 123450)]) {
      expect(parseKiteFrame(b, true)).toEqual({ orders: [], errors: [], messages: [] });
    }
  });

  it('describes what it cannot read instead of throwing', () => {
    expect(parseKiteFrame('not json{', false).errors[0]).toMatch(/not JSON/);
    expect(parseKiteFrame('[1,2]', false).errors[0]).toMatch(/not an object/);
    expect(parseKiteFrame(JSON.stringify({ type: 'tick' }), false).errors[0]).toMatch(/unknown frame type/);
    expect(parseKiteFrame(frame({ ...ORDER_DATA, status: 'SOMETHING NEW' }), false).errors[0]).toMatch(/unknown status/);
    expect(parseKiteFrame(frame({ ...ORDER_DATA, exchange: 'BCD' }), false).errors[0]).toMatch(/unsupported exchange/);
    expect(parseKiteFrame(frame({ ...ORDER_DATA, order_id: 1953367517686685697 }), false).errors[0]).toMatch(/bad order_id/);
  });
});


describe('parseKiteFrame fuzz', () => {
  const rnd = prng(20261121);
  const int = (n: number) => Math.floor(rnd() * n);
  const weird: unknown[] = [null, true, 0, -1, 1e308, -0, 2 ** 64, '', ' ', 'NaN', '1e999', '١٢٣', [], {}, [1, 'a'], { a: { b: 1 } }, 'x'.repeat(5000), '\u0000', '\ud800'];
  const keys = Object.keys(ORDER_DATA);
  const seeds: RawFrame[] = [frame(ORDER_DATA), JSON.stringify({ type: 'error', data: 'x' }), JSON.stringify({ type: 'message', data: 'y' })];

  function mutateBytes(s: string): Buffer {
    const b = Buffer.from(s);
    const out = Buffer.from(b);
    const edits = 1 + int(8);
    for (let i = 0; i < edits && out.length > 0; i += 1) out[int(out.length)] = int(256);
    return rnd() < 0.3 ? out.subarray(0, int(out.length + 1)) : out;
  }

  function mutateJson(): string {
    const data: Record<string, unknown> = { ...ORDER_DATA };
    const edits = 1 + int(6);
    for (let i = 0; i < edits; i += 1) {
      const k = keys[int(keys.length)] as string;
      if (rnd() < 0.2) delete data[k];
      else data[k] = weird[int(weird.length)];
    }
    const outer: Record<string, unknown> = { type: rnd() < 0.9 ? 'order' : weird[int(weird.length)], data: rnd() < 0.95 ? data : weird[int(weird.length)] };
    return JSON.stringify(outer);
  }

  function check(f: ReturnType<typeof parseKiteFrame>): void {
    expect(Array.isArray(f.orders) && Array.isArray(f.errors) && Array.isArray(f.messages)).toBe(true);
    for (const o of f.orders) {
      expect(o.orderId).toMatch(/^\d+$/);
      expect(ORDER_STATUSES).toContain(o.status);
      expect(SEGMENTS).toContain(o.instrument.segment);
      expect(o.instrument.securityId).toMatch(/^\d+$/);
      for (const n of [o.quantity, o.filledQty, o.avgPrice, o.price, o.triggerPrice]) expect(Number.isFinite(n)).toBe(true);
    }
  }

  it('never throws on 6000 mutated frames and returns well-formed orders', () => {
    let orders = 0;
    let errors = 0;
    for (let i = 0; i < 6000; i += 1) {
      const pick = i % 3;
      let input: RawFrame;
      let binary = false;
      if (pick === 0) input = mutateBytes(String(seeds[int(seeds.length)]));
      else if (pick === 1) input = mutateJson();
      else {
        input = Buffer.from(Array.from({ length: int(64) }, () => int(256)));
        binary = rnd() < 0.5;
      }
      let out: ReturnType<typeof parseKiteFrame> | undefined;
      expect(() => {
        out = parseKiteFrame(input, binary);
      }).not.toThrow();
      if (out) {
        check(out);
        orders += out.orders.length;
        errors += out.errors.length;
      }
    }
    // The fuzz must reach both outcomes, or it is not exercising the parser.
    expect(orders).toBeGreaterThan(100);
    expect(errors).toBeGreaterThan(1000);
  });
});
