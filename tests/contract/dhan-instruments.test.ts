import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dhanInstrumentOfCsv, loadDhanInstruments, tickInRupees } from '../../src/brokers/dhan/dhan-instruments.js';
import { Store } from '../../src/store/index.js';
import { DHAN_FAKE_TRADABLE, startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { DHAN_FAKE_INSTRUMENTS, DHAN_SCRIP_MASTER_HEADER, scripMasterLine } from '../fakes/dhan/instruments.js';
import { silentLogger } from './dhan-harness.js';

describe('loadDhanInstruments into a real SQLite store', () => {
  let dir: string;
  let store: Store;
  let fake: FakeDhan;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-dhan-instr-'));
    store = Store.open(join(dir, 'tandem.db'));
  });
  afterEach(async () => {
    await fake.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the CSV, reports progress, stores every tradable row and reads lot sizes back', async () => {
    fake = await startFakeDhan({ extraScripRows: 25_000 });
    const progress: number[] = [];
    const n = await loadDhanInstruments({ url: fake.instrumentsUrl, store: store.instruments, logger: silentLogger, onProgress: (r) => progress.push(r) });
    expect(n).toBe(DHAN_FAKE_TRADABLE.length + 25_000);
    expect(store.instruments.count('dhan')).toBe(n);
    expect(progress).toEqual([10_000, 20_000, n]);

    expect(store.instruments.get('dhan', 'NSE_FNO', '61345')).toEqual({
      segment: 'NSE_FNO', securityId: '61345', symbol: 'NIFTY-Dec2026-26000-CE', name: 'NIFTY', lotSize: 75, tickSize: 0.05,
      expiry: '2026-12-29', strike: 26000, optionType: 'CE', freezeQty: null,
    });
    expect(store.instruments.get('dhan', 'NSE_FNO', '61350')).toMatchObject({ name: 'BANKNIFTY', lotSize: 30, tickSize: 0.2, strike: null, optionType: null });
    expect(store.instruments.get('dhan', 'NSE_EQ', '1333')).toMatchObject({ symbol: 'HDFCBANK', name: 'HDFCBANK', lotSize: 1, tickSize: 0.05, expiry: null, strike: null });
    expect(store.instruments.get('dhan', 'NSE_EQ', '13')).toBeUndefined(); // the NIFTY index row is skipped
    expect(store.instruments.bySymbol('dhan', 'NSE_FNO', 'NIFTY-Jan2027-20000-PE')?.lotSize).toBe(75);
    for (const want of DHAN_FAKE_TRADABLE) {
      const got = store.instruments.get('dhan', want.segment, want.securityId);
      expect(got, want.symbol).toEqual({
        segment: want.segment, securityId: want.securityId, symbol: want.symbol, name: want.name, lotSize: want.lotSize, tickSize: want.tickSize,
        expiry: want.expiry, strike: want.strike, optionType: want.optionType, freezeQty: null,
      });
    }
  });

  it('a reload replaces the whole master; a failed download keeps it', async () => {
    fake = await startFakeDhan({ extraScripRows: 100 });
    await loadDhanInstruments({ url: fake.instrumentsUrl, store: store.instruments, logger: silentLogger });
    expect(store.instruments.count('dhan')).toBe(DHAN_FAKE_TRADABLE.length + 100);
    const fake2 = await startFakeDhan();
    try {
      await loadDhanInstruments({ url: fake2.instrumentsUrl, store: store.instruments, logger: silentLogger });
      expect(store.instruments.count('dhan')).toBe(DHAN_FAKE_TRADABLE.length);
      await expect(loadDhanInstruments({ url: `${fake2.instrumentsUrl}.missing`, store: store.instruments, logger: silentLogger })).rejects.toThrow(/HTTP 404/);
      expect(store.instruments.count('dhan')).toBe(DHAN_FAKE_TRADABLE.length);
    } finally {
      await fake2.close();
    }
  });
});

/** A one-off server: `respond` writes the body (and may cut the connection). */
async function serveOnce(respond: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => respond(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api-scrip-master.csv`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('a bad download keeps the stored master', () => {
  let dir: string;
  let store: Store;
  const good = `${DHAN_SCRIP_MASTER_HEADER}\n${DHAN_FAKE_INSTRUMENTS.map(scripMasterLine).join('\n')}\n`;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-dhan-bad-'));
    store = Store.open(join(dir, 'tandem.db'));
    const ok = await serveOnce((res) => res.end(good));
    try {
      await loadDhanInstruments({ url: ok.url, store: store.instruments, logger: silentLogger });
    } finally {
      await ok.close();
    }
    expect(store.instruments.count('dhan')).toBe(DHAN_FAKE_TRADABLE.length);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['a header alone', (res: import('node:http').ServerResponse) => res.end(`${DHAN_SCRIP_MASTER_HEADER}\r\n`), /no usable rows/],
    ['an empty body', (res: import('node:http').ServerResponse) => res.end(), /no usable rows/],
    ['a body ending inside a quoted field', (res: import('node:http').ServerResponse) => res.end(`${good}NSE,E,1,EQUITY,,"ABC`), /quote not closed/],
    [
      'a connection cut mid-body',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(good.length * 2) });
        res.write(good, () => res.destroy());
      },
      /aborted|socket|ECONNRESET|terminated/i,
    ],
  ] as const)('%s', async (_what, respond, error) => {
    const bad = await serveOnce(respond);
    try {
      await expect(loadDhanInstruments({ url: bad.url, store: store.instruments, logger: silentLogger })).rejects.toThrow(error);
    } finally {
      await bad.close();
    }
    expect(store.instruments.count('dhan')).toBe(DHAN_FAKE_TRADABLE.length);
    expect(store.instruments.get('dhan', 'NSE_EQ', '1333')?.symbol).toBe('HDFCBANK');
  });
});

describe('compact scrip master columns', () => {
  it.each([
    ['NSE_EQ', '5.0000', 0.05], ['NSE_FNO', '5.0000', 0.05], ['NSE_FNO', '20.0000', 0.2], ['MCX_COMM', '100.0000', 1],
    ['NSE_CURRENCY', '0.2500', 0.0025], ['NSE_EQ', '0.05', 0.05], ['BSE_EQ', '1.0000', 0.01], ['NSE_EQ', '', 0.05], ['NSE_EQ', 'x', 0.05],
  ] as const)('tick %s %s → ₹%s', (segment, raw, want) => {
    expect(tickInRupees(segment, raw)).toBe(want);
  });

  it('reads the documented example row, and skips the index row', () => {
    const header = ['SEM_EXM_EXCH_ID', 'SEM_SEGMENT', 'SEM_SMST_SECURITY_ID', 'SEM_INSTRUMENT_NAME', 'SEM_EXPIRY_CODE', 'SEM_TRADING_SYMBOL', 'SEM_LOT_UNITS', 'SEM_CUSTOM_SYMBOL', 'SEM_EXPIRY_DATE', 'SEM_STRIKE_PRICE', 'SEM_OPTION_TYPE', 'SEM_TICK_SIZE', 'SEM_EXPIRY_FLAG', 'SEM_EXCH_INSTRUMENT_TYPE', 'SEM_SERIES', 'SM_SYMBOL_NAME'];
    const rec = (line: string) => Object.fromEntries(header.map((h, i) => [h, line.split(',')[i]]));
    expect(dhanInstrumentOfCsv(rec('NSE,E,1594,EQUITY,,INFY,1.0,Infosys,,-0.01000,XX,5.0000,NA,ES,EQ,INFOSYS LIMITED'))).toEqual({
      segment: 'NSE_EQ', securityId: '1594', symbol: 'INFY', name: 'INFY', lotSize: 1, tickSize: 0.05, expiry: null, strike: null, optionType: null, freezeQty: null,
    });
    expect(dhanInstrumentOfCsv(rec('NSE,I,13,INDEX,0,NIFTY,1.0,Nifty 50,0001-01-01,,XX,0.05,,INDEX,X,NIFTY'))).toBeNull();
  });
});
