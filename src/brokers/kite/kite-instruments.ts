/**
 * Kite's instrument master: GET /instruments (CSV, gzip on the wire, about 100k rows) streamed
 * through the shared CSV reader (src/infra/csv.ts) into canonical Instrument rows, staged in the store
 * chunk by chunk and swapped in whole at the end (InstrumentSink); a download with no usable rows keeps
 * the stored master.
 * Columns: instrument_token, exchange_token, tradingsymbol, name, last_price, expiry, strike,
 * tick_size, lot_size, instrument_type, segment, exchange.
 * Rows of exchanges we do not trade (BCD, NSEIX, …) and index rows (segment INDICES) are skipped.
 * `name` is kept as Kite writes it: the underlying for derivatives (NIFTY, SENSEX, RELIANCE, CRUDEOIL),
 * the company name for equities (`408065,1594,INFY,INFOSYS,…`), which is why the cross-broker check
 * compares equities by token and trading symbol instead (mappingMismatch). An NSE equity outside the
 * EQ series carries it in the trading symbol (`20MICRONS-BE`).
 */
import type { Readable } from 'node:stream';
import type { Instrument, InstrumentSink } from '../../domain/instrument.js';
import { readCsvTable, type CsvRecord } from '../../infra/csv.js';
import { createHttpClient } from '../../infra/http.js';
import type { Logger } from '../../infra/logger.js';
import { scrubber } from '../../infra/logger.js';
import { segmentFromKite } from './kite-codes.js';
import { BrokerUnavailable } from '../port.js';
import { errorFromResponse, errorFromThrown } from './kite-errors.js';

export type { InstrumentSink } from '../../domain/instrument.js';

export interface LoadKiteInstrumentsOptions {
  apiUrl: string;
  apiKey: string;
  accessToken: string;
  store: InstrumentSink;
  logger: Logger;
  /** Called every 10,000 rows read, and once at the end, with the running count. */
  onProgress?: (rows: number) => void;
  timeoutMs?: number;
}

/** The columns the loader reads, in the order of a record handed to `instrumentFromKiteRecord`. */
export const KITE_COLUMNS = ['exchange_token', 'tradingsymbol', 'name', 'expiry', 'strike', 'tick_size', 'lot_size', 'instrument_type', 'segment', 'exchange'] as const;
const TOKEN = 0, SYMBOL = 1, NAME = 2, EXPIRY = 3, STRIKE = 4, TICK = 5, LOT = 6, TYPE = 7, SEGMENT = 8, EXCHANGE = 9;

/** One CSV record (by column name) → an Instrument, or null for rows we skip. */
export function instrumentFromKiteCsv(r: Record<string, string>): Instrument | null {
  return instrumentFromKiteRecord(KITE_COLUMNS.map((c) => r[c]));
}

const DIGITS = /^\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One CSV record holding KITE_COLUMNS in order → an Instrument, or null for rows we skip. */
export function instrumentFromKiteRecord(f: CsvRecord): Instrument | null {
  const segment = segmentFromKite(f[EXCHANGE]);
  if (!segment || (f[SEGMENT] ?? '').toUpperCase() === 'INDICES') return null;
  const securityId = (f[TOKEN] ?? '').trim();
  const symbol = (f[SYMBOL] ?? '').trim();
  if (!DIGITS.test(securityId) || !symbol) return null;
  const type = (f[TYPE] ?? '').toUpperCase();
  const optionType = type === 'CE' || type === 'PE' ? type : null;
  const strike = Number(f[STRIKE]);
  const lot = Number(f[LOT]);
  const tick = Number(f[TICK]);
  const expiry = (f[EXPIRY] ?? '').trim();
  return {
    segment,
    securityId,
    symbol,
    name: (f[NAME] ?? '').trim(),
    lotSize: Number.isInteger(lot) && lot > 0 ? lot : 1,
    tickSize: Number.isFinite(tick) && tick > 0 ? tick : 0.05,
    expiry: ISO_DATE.test(expiry) ? expiry : null,
    strike: Number.isFinite(strike) && (optionType !== null || strike !== 0) ? strike : null,
    optionType,
    freezeQty: null,
  };
}

async function readText(s: Readable, max = 4096): Promise<string> {
  let out = '';
  for await (const chunk of s) {
    out += String(chunk);
    if (out.length >= max) break;
  }
  s.destroy();
  return out;
}

/** Download, parse and store Kite's master. Resolves with the number of rows stored. */
export async function loadKiteInstruments(o: LoadKiteInstrumentsOptions): Promise<number> {
  scrubber.add(o.accessToken);
  const http = createHttpClient(o.apiUrl, { timeoutMs: o.timeoutMs ?? 120_000, headers: { 'X-Kite-Version': '3' } });
  const started = Date.now();
  let res;
  try {
    res = await http.get<Readable>('/instruments', {
      responseType: 'stream',
      headers: { Authorization: `token ${o.apiKey}:${o.accessToken}`, 'Accept-Encoding': 'gzip' },
    });
  } catch (e) {
    throw errorFromThrown('instruments', 'instruments', e);
  }
  if (res.status !== 200) {
    const text = await readText(res.data);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: mapped by status */
    }
    throw errorFromResponse('instruments', 'instruments', res.status, body, res.headers);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (!type.includes('text/csv')) o.logger.warn({ contentType: type }, 'kite instruments: unexpected content type');

  let read = 0;
  let skipped = 0;
  const load = o.store.beginLoad('kite');
  try {
    try {
      for await (const batch of readCsvTable(res.data, KITE_COLUMNS)) {
        const rows: Instrument[] = [];
        for (const rec of batch) {
          read += 1;
          const i = instrumentFromKiteRecord(rec);
          if (i) rows.push(i);
          else skipped += 1;
          if (read % 10_000 === 0) o.onProgress?.(read);
        }
        load.add(rows);
      }
    } catch (e) {
      throw errorFromThrown('instruments', 'instruments', e);
    }
    o.onProgress?.(read);
    if (load.count === 0) throw new BrokerUnavailable(`Kite instruments: the master had no usable rows (${read} read); the stored master is kept`);
    const stored = load.commit(Date.now());
    o.logger.info({ read, skipped, stored, ms: Date.now() - started }, 'kite instruments loaded');
    return stored;
  } finally {
    load.abort();
  }
}
