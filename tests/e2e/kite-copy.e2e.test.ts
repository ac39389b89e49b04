/**
 * Kite end to end through the real composition: a Kite leader mirrored into a Kite follower
 * (place, modify, cancel), and copying across brokers (Dhan leader → Kite follower) with the
 * instrument mapped through the exchange token, or refused when it does not map.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKite, type FakeKite } from '../fakes/kite.js';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { testInstrument } from '../fakes/instruments.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, kiteAccountEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const NIFTY = testInstrument('NIFTY_26000_CE');
const SENSEX = testInstrument('SENSEX_85000_CE');

describe('Kite leader → Kite follower: place, modify, cancel mirrored', () => {
  let kite: FakeKite;
  let tg: FakeTelegram;
  let app: App;
  const L = { apiKey: 'leaderkey01', apiSecret: 'leadersecret01', userId: 'AB0001' };
  const F = { apiKey: 'followkey01', apiSecret: 'followsecret01', userId: 'AB0002' };

  beforeAll(async () => {
    kite = await startFakeKite();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const lt = kite.addAccount(L);
    const ft = kite.addAccount(F);
    app = await startTestApp({
      TRADING_MODE: 'live',
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      ...kiteAccountEnv('LEADER_', L, lt),
      FOLLOWERS: 'k1',
      ...kiteAccountEnv('FOLLOWER_K1_', F, ft),
      KITE_API_URL: kite.apiUrl,
      KITE_WS_URL: kite.wsUrl,
    });
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([kite.close(), tg.close()]);
  });

  it('a LIMIT order is copied with a valid tag, its price change is followed, its cancel too', async () => {
    const id = kite.placeAsUser(L.apiKey, { tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: 150, product: 'NRML', price: 120 });
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY 2 lots \\(150\\) .* placed .* leader ${id}`));
    const places = kite.placeRequests(F.apiKey);
    expect(places).toHaveLength(1);
    expect(places[0]!.form).toMatchObject({ tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: '150', product: 'NRML', price: '120' });
    expect(String(places[0]!.form.tag)).toMatch(/^[A-Za-z0-9]{1,20}$/);
    const followerId = places[0]!.orderId!;

    kite.modifyAsUser(L.apiKey, id, { price: 118.5 });
    await until(() => kite.orders(F.apiKey).find((o) => o.order_id === followerId)?.price === 118.5, 'follower price modified');

    kite.cancelAsUser(L.apiKey, id);
    await until(() => kite.orders(F.apiKey).find((o) => o.order_id === followerId)?.status === 'CANCELLED', 'follower cancelled');
    await app.engine.idle();
    expect(kite.placeRequests(F.apiKey)).toHaveLength(1);
    expect(app.store.copies.forLeaderOrder(id)[0]?.state).toBe('cancelled');
  });
});

describe('Dhan leader → Kite follower (across brokers)', () => {
  let kite: FakeKite;
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App;
  const LEADER = '1400000001';
  const F = { apiKey: 'crosskey01', apiSecret: 'crosssecret01', userId: 'AB0003' };

  beforeAll(async () => {
    kite = await startFakeKite();
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const ft = kite.addAccount(F);
    app = await startTestApp({
      TRADING_MODE: 'live',
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      ...dhanAccountEnv('LEADER_', LEADER, dhan.addAccount(LEADER)),
      FOLLOWERS: 'k1',
      ...kiteAccountEnv('FOLLOWER_K1_', F, ft),
      FOLLOWER_K1_RATIO: '0.5',
      ...dhanEndpointsEnv(dhan),
      KITE_API_URL: kite.apiUrl,
      KITE_WS_URL: kite.wsUrl,
    });
    await dhan.waitForLogin(LEADER, { ok: true });
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([kite.close(), dhan.close(), tg.close()]);
  });

  it('maps the Dhan security id to Kite\'s trading symbol and exchange, and rounds to Kite\'s lot', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY.securityId, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 225, orderType: 'LIMIT', productType: 'MARGIN', price: 121 });
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY 1 lot \\(75\\) .* placed .* leader ${o.orderId}`));
    const places = kite.placeRequests(F.apiKey);
    expect(places).toHaveLength(1);
    expect(places[0]!.form).toMatchObject({ tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', quantity: '75', product: 'NRML', transaction_type: 'BUY' });
  });

  it('an instrument that does not map is skipped with the reason in an alert, never guessed', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: SENSEX.securityId, exchangeSegment: 'BSE_FNO', transactionType: 'BUY', quantity: 40, orderType: 'LIMIT', productType: 'MARGIN', price: 300 });
    const alert = await tg.waitForMessage(ADMIN, new RegExp(`k1</b> skipped BUY .*leader ${o.orderId}.*no match in the kite instrument master`));
    expect(alert.text).toContain('825614');
    expect(kite.placeRequests(F.apiKey)).toHaveLength(1);
  });
});
