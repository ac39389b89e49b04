/**
 * Dhan leader → Kite follower, equities, through the real composition (issue 15): Kite's master
 * names an equity by its company (`408065,1594,INFY,INFOSYS,…`), so the gate compares equities by
 * exchange token and trading symbol, never by `name`. INFY and RELIANCE (NSE) and RELIANCE (BSE)
 * orders are copied under Kite's symbol and exchange; an equity whose Kite listing carries another
 * trading symbol under the same token (a stale master row) is skipped with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKite, type FakeKite } from '../fakes/kite.js';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { instrumentsCsv } from '../fakes/kite-wire.js';
import { testInstrument } from '../fakes/instruments.js';
import { instrumentFromKiteCsv } from '../../src/brokers/kite/kite-instruments.js';
import type { Instrument } from '../../src/domain/instrument.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, kiteAccountEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const INFY = testInstrument('INFY');
const RELIANCE = testInstrument('RELIANCE');
const RELIANCE_BSE = testInstrument('RELIANCE_BSE');
const HDFCBANK = testInstrument('HDFCBANK');

/** The fake Kite's /instruments, read by the real parser. */
function fakeKiteMaster(): Instrument[] {
  const [header, ...lines] = [...instrumentsCsv()].join('').trim().split('\n');
  const cols = header!.split(',');
  return lines.map((l) => instrumentFromKiteCsv(Object.fromEntries(l.split(',').map((v, n) => [cols[n]!, v])))).filter((i): i is Instrument => i !== null);
}

describe('Dhan leader → Kite follower: equities', () => {
  let kite: FakeKite;
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  const LEADER = '1400000009';
  const F = { apiKey: 'eqcrosskey01', apiSecret: 'eqcrosssecret01', userId: 'AB0009' };

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

  it('both masters are loaded, and Kite names these equities by company, not by symbol', () => {
    expect(app.store.instruments.get('kite', 'NSE_EQ', INFY.securityId)).toMatchObject({ symbol: 'INFY', name: 'INFOSYS' });
    expect(app.store.instruments.get('kite', 'NSE_EQ', RELIANCE.securityId)).toMatchObject({ symbol: 'RELIANCE', name: 'RELIANCE INDUSTRIES' });
    expect(app.store.instruments.get('dhan', 'NSE_EQ', INFY.securityId)).toMatchObject({ symbol: 'INFY', name: 'INFY' });
  });

  it('copies an INFY delivery order as Kite NSE INFY, same quantity, CNC', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: INFY.securityId, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', productType: 'CNC', price: 1550 });
    await until(() => kite.placeRequests(F.apiKey).length === 1, 'INFY placed at Kite');
    expect(kite.placeRequests(F.apiKey)[0]!.form).toMatchObject({ tradingsymbol: 'INFY', exchange: 'NSE', transaction_type: 'BUY', quantity: '10', order_type: 'LIMIT', price: '1550', product: 'CNC' });
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY .*INFY.* placed .*leader ${o.orderId}`));
    expect(app.logLines.join('')).not.toContain('does not map');
  });

  it('copies a RELIANCE intraday order as Kite NSE RELIANCE, MIS', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: RELIANCE.securityId, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 7, orderType: 'LIMIT', productType: 'INTRADAY', price: 1400 });
    await until(() => kite.placeRequests(F.apiKey).length === 2, 'RELIANCE placed at Kite');
    expect(kite.placeRequests(F.apiKey)[1]!.form).toMatchObject({ tradingsymbol: 'RELIANCE', exchange: 'NSE', transaction_type: 'BUY', quantity: '7', product: 'MIS' });
    await tg.waitForMessage(ADMIN, new RegExp(`k1</b> BUY .*RELIANCE.* placed .*leader ${o.orderId}`));
  });

  it('copies a BSE RELIANCE order to Kite exchange BSE under the BSE token', async () => {
    dhan.placeAsUser(LEADER, { securityId: RELIANCE_BSE.securityId, exchangeSegment: 'BSE_EQ', transactionType: 'SELL', quantity: 3, orderType: 'LIMIT', productType: 'INTRADAY', price: 1401 });
    await until(() => kite.placeRequests(F.apiKey).length === 3, 'BSE RELIANCE placed at Kite');
    expect(kite.placeRequests(F.apiKey)[2]!.form).toMatchObject({ tradingsymbol: 'RELIANCE', exchange: 'BSE', transaction_type: 'SELL', quantity: '3', product: 'MIS' });
  });

  it('skips, with the reason, an equity whose Kite listing has another trading symbol under the same token', async () => {
    // Kite's stored master as if it still listed NSE token 1333 under another symbol (a stale row).
    const stale = fakeKiteMaster().map((i) => (i.segment === 'NSE_EQ' && i.securityId === HDFCBANK.securityId ? { ...i, symbol: 'HDFC', name: 'HDFC' } : i));
    app.store.instruments.replaceAll('kite', stale, Date.now());
    expect(app.store.instruments.get('kite', 'NSE_EQ', HDFCBANK.securityId)?.symbol).toBe('HDFC');

    const o = dhan.placeAsUser(LEADER, { securityId: HDFCBANK.securityId, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 4, orderType: 'LIMIT', productType: 'CNC', price: 1650 });
    const alert = await tg.waitForMessage(ADMIN, new RegExp(`k1</b> skipped BUY .*leader ${o.orderId}`));
    expect(alert.text).toContain('HDFCBANK does not map to kite HDFC: trading symbol differs (HDFCBANK vs HDFC)');
    await app.engine.idle();
    expect(kite.placeRequests(F.apiKey)).toHaveLength(3);
    const copy = app.store.copies.forLeaderOrder(o.orderId)[0];
    expect(copy?.state).toBe('skipped');
    expect(copy?.reason).toContain('trading symbol differs (HDFCBANK vs HDFC)');
  });
});
