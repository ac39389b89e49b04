/**
 * Start-up reads every follower's order book before anything is placed (what covers a power cut
 * that lost the last commits: see chaos 4b). A follower whose book cannot be read copies nothing —
 * skipped with the reason and one alert — until a retry reads it; then copying resumes.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp } from './harness.js';
import { until } from '../chaos/world.js';

const LEADER = '1710000001';
const FOLLOWER = '1710000002';
const NIFTY_CE_BUY = { securityId: '61345', exchangeSegment: 'NSE_FNO', transactionType: 'BUY' as const, quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 100 };

describe('the follower order book at start-up', () => {
  let dhan: FakeDhan;
  let app: App & { logLines: string[] };

  afterAll(async () => {
    await app?.stop();
    await dhan?.close();
  });

  it('an unreadable book holds copies back (skipped, alerted) until a retry reads it', async () => {
    dhan = await startFakeDhan();
    const leaderToken = dhan.addAccount(LEADER);
    const followerToken = dhan.addAccount(FOLLOWER);
    dhan.injectError(FOLLOWER, 'book', { status: 500, body: { errorType: 'Internal', errorCode: 'DH-908', errorMessage: 'book unavailable' } }, 1_000_000);
    let chat = '';
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
        FOLLOWERS: 'f1',
        ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
        ...dhanEndpointsEnv(dhan),
      },
      {
        consoleOutput: new Writable({ write: (c: Buffer, _e, cb) => ((chat += c.toString()), cb()) }),
        engine: { bookRetryMs: 100, reconcileEveryMs: 0 },
      },
    );
    const first = dhan.placeAsUser(LEADER, NIFTY_CE_BUY);
    await until(() => app.store.copies.forLeaderOrder(first.orderId)[0]?.state === 'skipped', 'the first order skipped');
    expect(app.store.copies.forLeaderOrder(first.orderId)[0]?.reason).toMatch(/f1's order book has not been read since start-up/);
    await until(() => /Could not read f1's order book at start-up/.test(chat), `the alert\n${chat}`);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(0);

    // The book answers again: a retry reads it, and copying resumes.
    dhan.clearErrors(FOLLOWER);
    await until(() => app.logLines.some((l) => l.includes('follower order book read; copying resumes')), 'the book read');
    const second = dhan.placeAsUser(LEADER, { ...NIFTY_CE_BUY, price: 101 });
    await until(() => app.store.copies.forLeaderOrder(second.orderId)[0]?.state === 'open', 'the second order copied');
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(dhan.placeRequests(FOLLOWER)[0]!.body.price).toBe(101);
  });
});
