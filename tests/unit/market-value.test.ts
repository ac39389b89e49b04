/**
 * Valuing a MARKET entry after its fill did not come: the last price seen, else the first account
 * whose quote answers. A plan that refuses market data is not asked again for an hour; a quote
 * refused for the once-a-second limit is asked again once, after a second. Stub brokers: this is
 * the valuer's own logic (the adapters' quote calls are contract-tested against the fakes).
 */
import { describe, expect, it } from 'vitest';
import { BrokerRateLimited, BrokerRejected, type Broker } from '../../src/brokers/port.js';
import type { InstrumentRef } from '../../src/domain/order.js';
import { instrumentKey } from '../../src/domain/order.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { PriceBoard } from '../../src/infra/price-board.js';
import { MarketValuer, type QuoteAccount } from '../../src/engine/market-value.js';

const REF: InstrumentRef = { segment: 'NSE_FNO', securityId: '61345', symbol: 'NIFTY-Dec2026-26000-CE' };
const log = createLogger({ level: 'silent' });

function account(id: string, answers: (() => number | Error)[]): QuoteAccount & { calls: number } {
  const a = {
    id,
    ref: REF,
    calls: 0,
    broker: {
      ltp: async () => {
        const next = answers[Math.min(a.calls, answers.length - 1)]!;
        a.calls += 1;
        const v = next();
        if (v instanceof Error) throw v;
        return new Map([[instrumentKey(REF), v]]);
      },
    } as unknown as Broker,
  };
  return a;
}

describe('MarketValuer', () => {
  it('takes the last price seen without asking anyone', async () => {
    const prices = new PriceBoard();
    prices.publish(REF, 121.5);
    const leader = account('leader', [() => 1]);
    const v = await new MarketValuer(prices, new ManualClock(0), log).value(REF, [leader], 300);
    expect(v).toEqual({ price: { price: 121.5, source: 'last price seen @ 121.5' }, why: null });
    expect(leader.calls).toBe(0);
  });

  it('asks the next account when a plan refuses, and not the refusing one again within the hour', async () => {
    const clock = new ManualClock(0);
    // A board that remembers nothing, so each valuation goes to the quotes.
    const forgetful = { last: () => null, publish: () => {} } as unknown as PriceBoard;
    const valuer = new MarketValuer(forgetful, clock, log);
    const leader = account('leader', [() => new BrokerRejected('806', 'Dhan refuses market data for this account')]);
    const mom = account('mom', [() => 95]);
    expect(await valuer.value(REF, [leader, mom], 300)).toMatchObject({ price: { price: 95, source: 'quote from mom @ 95' } });
    const dad = account('dad', [() => new Error('no answer in 800 ms')]);
    const none = await valuer.value(REF, [leader, dad], 300);
    expect(leader.calls).toBe(1); // the refusing plan is not asked again
    expect(none.price).toBeNull();
    expect(none.why).toBe('no leader fill within 300 ms, no price seen, quotes: leader: refuses market data; dad: no answer in 800 ms');
    clock.advance(61 * 60_000);
    await valuer.value(REF, [leader, mom], 300);
    expect(leader.calls).toBe(2); // an hour later it is asked again
  });

  it('a rate-limited quote is asked again once, a second later', async () => {
    const leader = account('leader', [() => new BrokerRateLimited('429 805 too many requests'), () => 88]);
    const started = Date.now();
    const v = await new MarketValuer(new PriceBoard(), new ManualClock(0), log).value(REF, [leader], 300);
    expect(v.price).toEqual({ price: 88, source: 'quote from leader @ 88' });
    expect(leader.calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});
