import { describe, expect, it } from 'vitest';
import { isDerivative, mappingMismatch, roundToTick, type Instrument } from '../../src/domain/instrument.js';
import { SEGMENTS, type Segment } from '../../src/domain/order.js';
import { istDateTime, istDayStart, istTime, IST_OFFSET_MS } from '../../src/domain/time.js';

describe('roundToTick', () => {
  it.each([
    { price: 100.03, tick: 0.05, expected: 100.05 },
    { price: 100.02, tick: 0.05, expected: 100 },
    { price: 142.45, tick: 0.05, expected: 142.45 }, // already on tick: 2849 × 0.05 = 142.45000000000002 raw
    { price: 1.15, tick: 0.05, expected: 1.15 }, // 1.15 / 0.05 = 22.999999999999996 raw
    { price: 0.1 + 0.2, tick: 0.05, expected: 0.3 },
    { price: 24.96, tick: 0.05, expected: 24.95 },
    { price: 24.99, tick: 0.05, expected: 25 },
    { price: 83.12345, tick: 0.0025, expected: 83.1225 }, // currency tick
    { price: 83.1239, tick: 0.0025, expected: 83.125 },
    { price: 2501.3, tick: 1, expected: 2501 },
    { price: 2501.7, tick: 1, expected: 2502 },
    { price: 61234.4, tick: 5, expected: 61235 }, // MCX-style coarse tick
    { price: 0.03, tick: 0.05, expected: 0.05 },
    { price: 0.01, tick: 0.05, expected: 0 },
    { price: 123.456, tick: 0, expected: 123.456 }, // unknown tick: untouched
    { price: 123.456, tick: -0.05, expected: 123.456 },
    { price: 123.456, tick: Number.NaN, expected: 123.456 },
  ])('roundToTick($price, $tick) = $expected', ({ price, tick, expected }) => {
    expect(roundToTick(price, tick)).toBe(expected);
  });

  it('every result is an exact multiple of the tick to 4 decimals, for a sweep of prices', () => {
    for (let paise = 0; paise < 20_000; paise += 7) {
      const price = paise / 100 + 0.013;
      const r = roundToTick(price, 0.05);
      expect(Math.abs(r - price)).toBeLessThanOrEqual(0.025 + 1e-9);
      const ticks = r / 0.05;
      expect(Math.abs(ticks - Math.round(ticks))).toBeLessThan(1e-6);
      expect(String(r)).toMatch(/^\d+(\.\d{1,2})?$/); // no float noise like 100.05000000000001
    }
  });
});

describe('isDerivative', () => {
  const expected: Record<Segment, boolean> = {
    NSE_EQ: false,
    BSE_EQ: false,
    NSE_FNO: true,
    BSE_FNO: true,
    MCX_COMM: true,
    NSE_CURRENCY: true,
  };
  it.each(SEGMENTS.map((s) => ({ segment: s, derivative: expected[s] })))('$segment → $derivative', ({ segment, derivative }) => {
    expect(isDerivative(segment)).toBe(derivative);
  });
});

function inst(over: Partial<Instrument> = {}): Instrument {
  return {
    segment: 'NSE_FNO',
    securityId: '35001',
    symbol: 'NIFTY24JUN24000CE',
    name: 'NIFTY',
    lotSize: 25,
    tickSize: 0.05,
    expiry: '2024-06-27',
    strike: 24000,
    optionType: 'CE',
    freezeQty: 1800,
    ...over,
  };
}

describe('mappingMismatch', () => {
  it.each<{ name: string; leader: Instrument; follower: Instrument; mismatch: RegExp | null }>([
    { name: 'identical', leader: inst(), follower: inst(), mismatch: null },
    { name: 'only symbols, lot and tick differ', leader: inst(), follower: inst({ symbol: 'NIFTY 27 JUN 24000 CALL', lotSize: 75, tickSize: 0.1, freezeQty: null }), mismatch: null },
    { name: 'name spelled differently (spaces, case)', leader: inst({ name: 'Nifty 50' }), follower: inst({ name: 'NIFTY50' }), mismatch: null },
    { name: 'name is a prefix of the other', leader: inst({ name: 'NIFTY' }), follower: inst({ name: 'NIFTY 50' }), mismatch: null },
    { name: 'follower name empty → not compared', leader: inst(), follower: inst({ name: '' }), mismatch: null },
    { name: 'strike within float noise', leader: inst({ strike: 24000 }), follower: inst({ strike: 24000.0000001 }), mismatch: null },
    { name: 'cash instruments (no expiry, strike, type)', leader: inst({ segment: 'NSE_EQ', expiry: null, strike: null, optionType: null, name: 'RELIANCE' }), follower: inst({ segment: 'NSE_EQ', expiry: null, strike: null, optionType: null, name: 'RELIANCE INDUSTRIES' }), mismatch: null },
    { name: 'null strike equals strike 0', leader: inst({ strike: null, optionType: null }), follower: inst({ strike: 0, optionType: null }), mismatch: null },
    { name: 'segment differs', leader: inst(), follower: inst({ segment: 'BSE_FNO' }), mismatch: /^segment differs \(NSE_FNO vs BSE_FNO\)$/ },
    { name: 'expiry differs', leader: inst(), follower: inst({ expiry: '2024-07-04' }), mismatch: /^expiry differs \(2024-06-27 vs 2024-07-04\)$/ },
    { name: 'expiry vs none', leader: inst(), follower: inst({ expiry: null }), mismatch: /^expiry differs \(2024-06-27 vs none\)$/ },
    { name: 'option type differs', leader: inst(), follower: inst({ optionType: 'PE' }), mismatch: /^option type differs \(CE vs PE\)$/ },
    { name: 'option vs future', leader: inst(), follower: inst({ optionType: null }), mismatch: /^option type differs \(CE vs none\)$/ },
    { name: 'strike differs', leader: inst(), follower: inst({ strike: 24050 }), mismatch: /^strike differs \(24000 vs 24050\)$/ },
    { name: 'underlying differs', leader: inst({ name: 'NIFTY' }), follower: inst({ name: 'BANKNIFTY' }), mismatch: /^underlying differs \(NIFTY vs BANKNIFTY\)$/ },
    { name: 'underlying differs (FINNIFTY)', leader: inst({ name: 'FINNIFTY' }), follower: inst({ name: 'NIFTY' }), mismatch: /underlying differs/ },
  ])('$name', ({ leader, follower, mismatch }) => {
    const r = mappingMismatch(leader, follower);
    if (mismatch === null) expect(r).toBeNull();
    else expect(r).toMatch(mismatch);
  });

  it('is symmetric in whether it finds a mismatch', () => {
    const pairs: [Instrument, Instrument][] = [
      [inst(), inst({ strike: 1 })],
      [inst({ name: 'NIFTY' }), inst({ name: 'NIFTY 50' })],
      [inst({ name: 'NIFTY' }), inst({ name: 'BANKNIFTY' })],
      [inst(), inst({ expiry: null })],
    ];
    for (const [a, b] of pairs) expect(mappingMismatch(a, b) === null).toBe(mappingMismatch(b, a) === null);
  });
});

describe('IST time helpers', () => {
  it('offset is 5h30m', () => {
    expect(IST_OFFSET_MS).toBe(19_800_000);
  });

  it.each([
    // 2024-06-14 09:15 IST = 03:45 UTC
    { utc: Date.UTC(2024, 5, 14, 3, 45, 7), dayStart: Date.UTC(2024, 5, 13, 18, 30), time: '09:15:07', dateTime: '2024-06-14 09:15' },
    // 23:59:59.999 IST on the 14th = 18:29:59.999 UTC on the 14th
    { utc: Date.UTC(2024, 5, 14, 18, 29, 59, 999), dayStart: Date.UTC(2024, 5, 13, 18, 30), time: '23:59:59', dateTime: '2024-06-14 23:59' },
    // IST midnight exactly belongs to the new day
    { utc: Date.UTC(2024, 5, 14, 18, 30), dayStart: Date.UTC(2024, 5, 14, 18, 30), time: '00:00:00', dateTime: '2024-06-15 00:00' },
    // UTC midnight is 05:30 IST the same calendar day
    { utc: Date.UTC(2024, 0, 1), dayStart: Date.UTC(2023, 11, 31, 18, 30), time: '05:30:00', dateTime: '2024-01-01 05:30' },
    // year boundary: 31 Dec 20:00 UTC is 1 Jan 01:30 IST
    { utc: Date.UTC(2023, 11, 31, 20, 0), dayStart: Date.UTC(2023, 11, 31, 18, 30), time: '01:30:00', dateTime: '2024-01-01 01:30' },
    // leap day, market close 15:30 IST = 10:00 UTC
    { utc: Date.UTC(2024, 1, 29, 10, 0), dayStart: Date.UTC(2024, 1, 28, 18, 30), time: '15:30:00', dateTime: '2024-02-29 15:30' },
  ])('$dateTime IST', ({ utc, dayStart, time, dateTime }) => {
    expect(istDayStart(utc)).toBe(dayStart);
    expect(istTime(utc)).toBe(time);
    expect(istDateTime(utc)).toBe(dateTime);
    expect(istTime(istDayStart(utc))).toBe('00:00:00');
    expect(utc - istDayStart(utc)).toBeGreaterThanOrEqual(0);
    expect(utc - istDayStart(utc)).toBeLessThan(86_400_000);
  });

  it('istDayStart is idempotent', () => {
    const t = Date.UTC(2024, 5, 14, 7, 0);
    expect(istDayStart(istDayStart(t))).toBe(istDayStart(t));
  });
});
