import { describe, expect, it } from 'vitest';
import { segmentFromShort, statusFromDhan } from '../../src/brokers/dhan/dhan-codes.js';
import { orderFromRow, positionFromRow, toModifyBody, toPlaceBody } from '../../src/brokers/dhan/dhan-orders.js';
import { jwtExpiry, parseIstDateTime, parseTokenValidity } from '../../src/brokers/dhan/dhan-time.js';
import { BrokerRejected } from '../../src/brokers/port.js';

/** The documented order object (reference §3.5). */
const ROW = {
  dhanClientId: '1000000003', orderId: '112111182198', exchangeOrderId: '...', correlationId: '123abc678', orderStatus: 'PENDING',
  transactionType: 'BUY', exchangeSegment: 'NSE_EQ', productType: 'INTRADAY', orderType: 'MARKET', validity: 'DAY', tradingSymbol: '',
  securityId: '11536', quantity: 5, disclosedQuantity: 0, price: 0.0, triggerPrice: 0.0, afterMarketOrder: false, boProfitValue: 0.0,
  boStopLossValue: 0.0, legName: null, createTime: '2021-11-24 13:33:03', updateTime: '2021-11-24 13:33:03', exchangeTime: '2021-11-24 13:33:03',
  drvExpiryDate: null, drvOptionType: null, drvStrikePrice: 0.0, omsErrorCode: null, omsErrorDescription: null, algoId: '',
  remainingQuantity: 5, averageTradedPrice: 0, filledQty: 0,
};

describe('Dhan REST mapping', () => {
  it('decodes the documented order object', () => {
    const d = orderFromRow(ROW);
    expect(d).toEqual({
      ok: true,
      value: {
        orderId: '112111182198', tag: '123abc678', status: 'open', instrument: { segment: 'NSE_EQ', securityId: '11536', symbol: '' },
        side: 'BUY', orderType: 'MARKET', product: 'INTRADAY', validity: 'DAY', amo: false, quantity: 5, filledQty: 0, avgPrice: 0,
        price: 0, triggerPrice: 0, reason: null, exchangeTime: Date.UTC(2021, 10, 24, 8, 3, 3),
      },
    });
  });

  it('carries the rejection text, an empty correlationId as null, and flags unknown statuses', () => {
    const d = orderFromRow({ ...ROW, orderStatus: 'REJECTED', correlationId: '', omsErrorDescription: 'RMS:1:Margin shortfall' });
    expect(d.ok && d.value).toMatchObject({ status: 'rejected', tag: null, reason: 'RMS:1:Margin shortfall' });
    const u = orderFromRow({ ...ROW, orderStatus: 'INACTIVE' });
    expect(u.ok && u.value.status).toBe('transit');
    expect(u.ok && u.warning).toMatch(/INACTIVE/);
    expect(orderFromRow({ ...ROW, exchangeSegment: 'IDX_I' }).ok).toBe(false);
  });

  it('reads the updateTime sentinel as unknown time', () => {
    const d = orderFromRow({ ...ROW, updateTime: '0001-01-01 00:00:00', exchangeTime: '0001-01-01' });
    expect(d.ok && d.value.exchangeTime).toBeNull();
  });

  it('builds a modify body with the total quantity and no empty strings', () => {
    expect(toModifyBody('1000000009', '112111182045', { orderType: 'LIMIT', validity: 'DAY', quantity: 40, price: 3345.8 })).toEqual({
      dhanClientId: '1000000009', orderId: '112111182045', orderType: 'LIMIT', validity: 'DAY', quantity: 40, price: 3345.8,
    });
    expect(toModifyBody('1', '2', { orderType: 'MARKET', validity: 'DAY', price: 10, triggerPrice: 5 })).toEqual({ dhanClientId: '1', orderId: '2', orderType: 'MARKET', validity: 'DAY' });
    expect(toModifyBody('1', '2', { orderType: 'SL', validity: 'DAY', price: 10, triggerPrice: 9.5 })).toMatchObject({ orderType: 'STOP_LOSS', price: 10, triggerPrice: 9.5 });
  });

  it('builds a place body for SL with both prices and refuses a tag over 25 chars', () => {
    const base = { tag: 'abc', instrument: { segment: 'BSE_FNO' as const, securityId: '825614', symbol: 'S' }, side: 'SELL' as const, product: 'CNC' as const, validity: 'DAY' as const, amo: false, quantity: 20 };
    expect(toPlaceBody('c1', { ...base, orderType: 'SL', price: 10, triggerPrice: 10.5 })).toMatchObject({ orderType: 'STOP_LOSS', price: 10, triggerPrice: 10.5, exchangeSegment: 'BSE_FNO', productType: 'CNC' });
    expect(() => toPlaceBody('c1', { ...base, orderType: 'MARKET', tag: 'a'.repeat(26) })).toThrow(BrokerRejected);
  });

  it('maps positions, skipping products outside the model', () => {
    const row = { tradingSymbol: 'TCS', securityId: '11536', positionType: 'SHORT', exchangeSegment: 'NSE_EQ', productType: 'INTRADAY', buyAvg: 0, sellAvg: 3345.8, costPrice: 3345.8, netQty: -40, realizedProfit: 0, unrealizedProfit: 6122.0 };
    expect(positionFromRow(row)).toEqual({ instrument: { segment: 'NSE_EQ', securityId: '11536', symbol: 'TCS' }, product: 'INTRADAY', netQty: -40, overnightQty: -40, avgPrice: 3345.8, realisedPnl: 0, unrealisedPnl: 6122 });
    expect(positionFromRow({ ...row, productType: 'WEIRD' })).toBeNull();
  });

  it('codes: statuses and segments', () => {
    expect(statusFromDhan('Part_Traded')).toEqual({ status: 'open', known: true });
    expect(statusFromDhan(undefined)).toEqual({ status: 'transit', known: false });
    expect(segmentFromShort('nse', 'd')).toBe('NSE_FNO');
    expect(segmentFromShort('NSE', 'I')).toBeNull();
    expect(segmentFromShort('BSE', 'C')).toBeNull();
  });

  it('times: IST strings, /profile validity, JWT exp', () => {
    expect(parseIstDateTime('2024-09-11 14:39:29')).toBe(Date.UTC(2024, 8, 11, 9, 9, 29));
    expect(parseIstDateTime('2026-01-01T00:00:00.000')).toBe(Date.UTC(2025, 11, 31, 18, 30, 0));
    expect(parseIstDateTime('0001-01-01')).toBeNull();
    expect(parseIstDateTime('garbage')).toBeNull();
    expect(parseTokenValidity('30/03/2025 15:37')).toBe(Date.UTC(2025, 2, 30, 10, 7));
    const jwt = `x.${Buffer.from(JSON.stringify({ exp: 1_800_000_000 })).toString('base64url')}.y`;
    expect(jwtExpiry(jwt)).toBe(1_800_000_000_000);
    expect(jwtExpiry('not-a-jwt')).toBeNull();
  });
});
