/**
 * The silent-socket watchdog, end to end: the leader's Dhan order socket stays open (pings go on)
 * but delivers nothing, as after an overnight token rollover. In market hours tandem replaces it,
 * the reconnect makes the engine read the leader's book, and the order placed during the silence
 * is copied — once. The periodic reconciliation is off, so only the watchdog can have found it.
 * Counts at the fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import type { Clock } from '../../src/infra/clock.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';

const ADMIN = 111;
const LEADER = '1100000011';
const FOLLOWER = '1100000012';
const NIFTY_CE = '61345';
/** Real time, moved to Wednesday 15 January 2025, 10:00 IST onwards: market hours. */
const shift = Date.UTC(2025, 0, 15, 4, 30) - Date.now();
const marketClock: Clock = { now: () => Date.now() + shift };
const order = (price: number) => ({ securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price }) as const;

describe('a leader socket that stays open but goes silent', () => {
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const leaderToken = dhan.addAccount(LEADER);
    const followerToken = dhan.addAccount(FOLLOWER);
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ADMIN_IDS: String(ADMIN),
        ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
        FOLLOWERS: 'f1',
        ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
        ...dhanEndpointsEnv(dhan),
        RECONCILE_EVERY_MS: '0',
        // Above the stream's 1 s login grace, so a replacement is never taken for a refused login.
        STREAM_SILENT_AFTER_S: '2',
      },
      { clock: marketClock },
    );
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  it('is replaced, and the order the leader placed while it was silent is copied exactly once', async () => {
    const loginsBefore = dhan.logins(LEADER).filter((l) => l.ok).length;
    expect(dhan.silenceSockets(LEADER)).toBe(1);
    const missed = dhan.placeAsUser(LEADER, order(120));
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> BUY 1 lot \\(75\\) .* placed .* leader ${missed.orderId}`), 8000);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(dhan.logins(LEADER).filter((l) => l.ok).length).toBeGreaterThan(loginsBefore);
    expect(dhan.connectedSockets(LEADER)).toBe(1); // the silent one was closed, not kept beside the new
    expect(app.logLines.some((l) => l.includes('dhan order stream silent in market hours'))).toBe(true);
    // A planned replacement is not an outage: no "feed disconnected" alert.
    await app.notifier.drained();
    expect(tg.messages(ADMIN).filter((m) => /Leader feed disconnected/.test(m.text ?? ''))).toEqual([]);

    // The new socket delivers: the next order arrives by push and /health shows the frame's age.
    const next = dhan.placeAsUser(LEADER, order(121));
    await tg.waitForMessage(ADMIN, new RegExp(`placed .* leader ${next.orderId}`), 8000);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(2);
    tg.sendText(ADMIN, '/health');
    const health = await tg.waitForMessage(ADMIN, /Leader socket: last frame/);
    expect(health.text).toMatch(/Leader socket: last frame \d+s ago · replaced after 2 s of silence in market hours/);
  });
});
