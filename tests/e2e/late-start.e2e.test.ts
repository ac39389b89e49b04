/**
 * Starting late: leader orders that filled while tandem was not running are found in the order
 * book at start-up. A fill older than two minutes is recorded and reported, not copied at a later
 * price; a recent one, and any order still working, is copied.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { ManualClock } from '../../src/infra/clock.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp } from './harness.js';
import { until } from '../chaos/world.js';

const LEADER = '1700000001';
const FOLLOWER = '1700000002';
const NIFTY_CE = '61345';

describe('start-up after the leader traded', () => {
  let dhan: FakeDhan;
  let app: App;

  afterAll(async () => {
    await app?.stop();
    await dhan?.close();
  });

  it('copies what is still working, reports what filled long ago instead of buying it late', async () => {
    dhan = await startFakeDhan();
    const leaderToken = dhan.addAccount(LEADER);
    const followerToken = dhan.addAccount(FOLLOWER);
    const order = (price: number) => ({ securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY' as const, quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price });
    const filledEarly = dhan.placeAsUser(LEADER, order(100));
    await until(() => dhan.orders(LEADER)[0]?.status === 'PENDING', 'the order at the exchange');
    dhan.fill(filledEarly.orderId, { price: 100 });
    const working = dhan.placeAsUser(LEADER, order(90));
    // tandem starts ten minutes later.
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
        FOLLOWERS: 'f1',
        ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
        ...dhanEndpointsEnv(dhan),
      },
      { clock: new ManualClock(Date.now() + 10 * 60_000), consoleOutput: new Writable({ write: (_c, _e, cb) => cb() }) },
    );
    await until(() => app.store.copies.forLeaderOrder(working.orderId)[0]?.state === 'open', 'the working order copied');
    await app.engine.idle();
    const stale = app.store.copies.forLeaderOrder(filledEarly.orderId);
    expect(stale.map((c) => c.state)).toEqual(['skipped']);
    expect(stale[0]?.reason).toMatch(/seen only now: not copied at a later price/);
    expect(app.store.copies.forLeaderOrder(working.orderId).map((c) => c.state)).toEqual(['open']);
    const places = dhan.placeRequests(FOLLOWER);
    expect(places).toHaveLength(1);
    expect(places[0]!.body.price).toBe(90);
  });
});
