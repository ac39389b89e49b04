/**
 * The trading-day check the day jobs share (issue 17): weekends and shipped NSE holidays are days
 * off with their reason, MARKET_HOLIDAYS adds dates, and a year with no shipped list says so.
 */
import { describe, expect, it } from 'vitest';
import { dayOff, holidayCoverage, isTradingDay, istDate, NSE_HOLIDAYS, tradingDayCheck } from '../../src/domain/holidays.js';

describe('isTradingDay', () => {
  it('a weekend is not a trading day', () => {
    expect(isTradingDay('2026-12-05')).toBe(false); // Saturday
    expect(isTradingDay('2026-12-06')).toBe(false); // Sunday
    expect(dayOff('2026-12-06')).toBe('weekend');
    expect(isTradingDay('2026-12-07')).toBe(true); // Monday
  });

  it('a shipped NSE holiday is not, and says which', () => {
    expect(isTradingDay('2026-12-25')).toBe(false);
    expect(dayOff('2026-12-25')).toBe('Christmas');
    expect(dayOff('2026-01-15')).toMatch(/Municipal Corporation elections/);
    expect(dayOff('2026-12-24')).toBeNull();
  });

  it('the shipped 2026 list: sixteen weekdays, each a weekday', () => {
    const dates = Object.keys(NSE_HOLIDAYS).filter((d) => d.startsWith('2026-'));
    expect(dates).toHaveLength(16);
    for (const d of dates) expect([0, 6]).not.toContain(new Date(`${d}T00:00:00Z`).getUTCDay());
  });

  it('an extra date (MARKET_HOLIDAYS) is a day off; other days are not affected', () => {
    expect(isTradingDay('2027-01-26')).toBe(true); // 2027 is not shipped: a Tuesday counts as trading
    expect(isTradingDay('2027-01-26', ['2027-01-26'])).toBe(false);
    expect(dayOff('2027-01-26', ['2027-01-26'])).toBe('a market holiday (MARKET_HOLIDAYS)');
    expect(isTradingDay('2027-01-27', ['2027-01-26'])).toBe(true);
  });

  it('the IST date of an instant, and the check built from it', () => {
    // 2026-12-24 20:00 UTC is already 25 Dec 01:30 IST.
    const ms = Date.parse('2026-12-24T20:00:00Z');
    expect(istDate(ms)).toBe('2026-12-25');
    expect(tradingDayCheck()(ms)).toBe(false);
    expect(tradingDayCheck()(Date.parse('2026-12-24T09:40:00Z'))).toBe(true);
    expect(tradingDayCheck(['2026-12-24'])(Date.parse('2026-12-24T09:40:00Z'))).toBe(false);
  });

  it('2026 names its source; 2027 says it was not published rather than guessing', () => {
    expect(holidayCoverage(2026)).toMatchObject({ shipped: true, note: expect.stringContaining('NSE/CMTR/71775') });
    expect(holidayCoverage(2027)).toEqual({ shipped: false, note: expect.stringContaining('not published') });
    expect(Object.keys(NSE_HOLIDAYS).some((d) => d.startsWith('2027-'))).toBe(false);
  });
});
