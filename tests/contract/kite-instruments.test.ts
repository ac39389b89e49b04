import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKiteInstruments } from '../../src/brokers/kite/kite-instruments.js';
import { BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';
import { createLogger } from '../../src/infra/logger.js';
import { Store } from '../../src/store/index.js';
import { TEST_INSTRUMENTS, testInstrument } from '../fakes/instruments.js';
import { type FakeKite, startFakeKite } from '../fakes/kite.js';

const apiKey = 'kiteinstkey';
const logger = createLogger({ level: 'silent', pretty: false });

describe('Kite instruments into SQLite', () => {
  let fake: FakeKite;
  let dir: string;
  let store: Store;
  let accessToken: string;
  beforeEach(async () => {
    fake = await startFakeKite({ syntheticInstruments: 12_000 });
    accessToken = fake.addAccount({ apiKey, apiSecret: 'kiteinstsecret', userId: 'KI1234' });
    dir = mkdtempSync(join(tmpdir(), 'tandem-kite-inst-'));
    store = Store.open(join(dir, 'test.db'));
  });
  afterEach(async () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  });

  it('streams the CSV and stores every tradable row; a NIFTY option reads back with its lot and token', async () => {
    const progress: number[] = [];
    const n = await loadKiteInstruments({ apiUrl: fake.apiUrl, apiKey, accessToken, store: store.instruments, logger, onProgress: (r) => progress.push(r) });
    const listed = TEST_INSTRUMENTS.filter((i) => i.kite).length;
    expect(n).toBe(listed + 12_000); // the index and BCD rows are skipped
    expect(store.instruments.count('kite')).toBe(n);
    expect(progress).toEqual([10_000, listed + 2 + 12_000]);

    const ce = testInstrument('NIFTY_26000_CE');
    const row = store.instruments.get('kite', 'NSE_FNO', ce.securityId);
    expect(row).toMatchObject({ symbol: 'NIFTY26DEC26000CE', lotSize: 75, securityId: '61345', expiry: '2026-12-29', strike: 26000, optionType: 'CE', name: 'NIFTY' });
    expect(store.instruments.bySymbol('kite', 'NSE_FNO', 'NIFTY26DEC26000CE')?.securityId).toBe(ce.securityId);

    const fut = store.instruments.get('kite', 'NSE_FNO', testInstrument('BANKNIFTY_FUT').securityId);
    expect(fut).toMatchObject({ lotSize: 30, strike: null, optionType: null, tickSize: 0.2 });
    expect(store.instruments.get('kite', 'NSE_EQ', '2885')).toMatchObject({ symbol: 'RELIANCE', expiry: null, strike: null });
    expect(store.instruments.get('kite', 'NSE_CURRENCY', '10093')?.symbol).toBe('USDINR26DECFUT');
    expect(store.instruments.get('kite', 'BSE_FNO', testInstrument('SENSEX_85000_CE').securityId)).toBeUndefined();
  });

  it('replaces the previous master rather than adding to it', async () => {
    await loadKiteInstruments({ apiUrl: fake.apiUrl, apiKey, accessToken, store: store.instruments, logger });
    const again = await loadKiteInstruments({ apiUrl: fake.apiUrl, apiKey, accessToken, store: store.instruments, logger });
    expect(store.instruments.count('kite')).toBe(again);
  });

  it('maps a dead token to SessionExpired and stores nothing', async () => {
    fake.expireToken(apiKey);
    await expect(loadKiteInstruments({ apiUrl: fake.apiUrl, apiKey, accessToken, store: store.instruments, logger })).rejects.toBeInstanceOf(SessionExpired);
    expect(store.instruments.count('kite')).toBe(0);
  });

  it('keeps the stored master when the download has no usable rows', async () => {
    const n = await loadKiteInstruments({ apiUrl: fake.apiUrl, apiKey, accessToken, store: store.instruments, logger });
    const empty = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n');
    });
    await new Promise<void>((r) => empty.listen(0, '127.0.0.1', r));
    try {
      const apiUrl = `http://127.0.0.1:${(empty.address() as AddressInfo).port}`;
      await expect(loadKiteInstruments({ apiUrl, apiKey, accessToken, store: store.instruments, logger })).rejects.toBeInstanceOf(BrokerUnavailable);
    } finally {
      empty.closeAllConnections();
      await new Promise<void>((r) => empty.close(() => r()));
    }
    expect(store.instruments.count('kite')).toBe(n);
  });
});
