/**
 * Chaos 7: garbage, truncated and unknown-field frames mixed into the leader's stream. No crash,
 * each is logged and skipped, and later orders are still copied exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startFakeKite, type FakeKite } from '../fakes/kite.js';
import { testInstrument } from '../fakes/instruments.js';
import type { App } from '../../src/app.js';
import { kiteAccountEnv, startTestApp } from '../e2e/harness.js';
import { until } from './world.js';

const NIFTY = testInstrument('NIFTY_26000_CE');

describe('chaos: garbage in the leader stream', () => {
  let kite: FakeKite;
  let app: App & { logLines: string[] };
  const L = { apiKey: 'garbagelead', apiSecret: 'garbagesecret1', userId: 'GB0001' };
  const F = { apiKey: 'garbagefoll', apiSecret: 'garbagesecret2', userId: 'GB0002' };

  beforeAll(async () => {
    kite = await startFakeKite();
    const lt = kite.addAccount(L);
    const ft = kite.addAccount(F);
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        ...kiteAccountEnv('LEADER_', L, lt),
        FOLLOWERS: 'k1',
        ...kiteAccountEnv('FOLLOWER_K1_', F, ft),
        KITE_API_URL: kite.apiUrl,
        KITE_WS_URL: kite.wsUrl,
      },
      { consoleOutput: new Writable({ write: (_c, _e, cb) => cb() }) },
    );
    await until(() => kite.socketCount(L.apiKey) > 0, 'leader socket');
  });

  afterAll(async () => {
    await app?.stop();
    await kite.close();
  });

  it('7. survives garbage, truncated and unknown-field frames; later orders are copied once', async () => {
    const good = JSON.stringify({ type: 'order', data: { order_id: 'X1', status: 'OPEN' } });
    const frames: (string | Buffer)[] = [
      'not json at all',
      '{"type":"order","data":{"order_id":"123","status":"COMP',
      good.slice(0, 20),
      '{"type":"order","data":null}',
      '{"type":"order","data":{"order_id":42,"status":["OPEN"],"quantity":"lots"}}',
      '{"type":"mystery","data":{"x":1},"extra":true}',
      '{"type":"error","data":"something broke upstream"}',
      '[]',
      'null',
      '{}{}{',
      Buffer.from([0x00]),
      Buffer.from([0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06]),
    ];
    for (const f of frames) kite.pushRaw(L.apiKey, f);
    const id = kite.placeAsUser(L.apiKey, { tradingsymbol: NIFTY.kite!.tradingsymbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: 75, product: 'NRML', price: 119, tag: undefined });
    for (const f of frames) kite.pushRaw(L.apiKey, f);
    await until(() => kite.placeRequests(F.apiKey).length >= 1, 'the copy', 10_000);
    await app.engine.reconcile();
    await app.engine.idle();
    expect(kite.placeRequests(F.apiKey)).toHaveLength(1);
    expect(app.store.copies.forLeaderOrder(id)).toHaveLength(1);
    expect(app.engine.leaderStream).not.toBe('stopped');
    // Each bad frame was logged (and skipped), not silently dropped.
    expect(app.logLines.filter((l) => l.includes('kite stream frame')).length).toBeGreaterThanOrEqual(frames.length);
  });
});
