/**
 * Kite's instrument master: GET /instruments (CSV, gzip on the wire, about 100k rows) streamed
 * through csv-parse into canonical Instrument rows and stored in one `replaceAll('kite', …)`.
 * Columns: instrument_token, exchange_token, tradingsymbol, name, last_price, expiry, strike,
 * tick_size, lot_size, instrument_type, segment, exchange.
 * Rows of exchanges we do not trade (BCD, NSEIX, …) and index rows (segment INDICES) are skipped.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import type { Instrument } from '../../domain/instrument.js';
import { createHttpClient } from '../../infra/http.js';
import type { Logger } from '../../infra/logger.js';
import { scrubber } from '../../infra/logger.js';
import { segmentFromKite } from './kite-codes.js';
import { errorFromResponse, errorFromThrown } from './kite-errors.js';

export interface InstrumentSink {
  replaceAll(broker: string, rows: Iterable<Instrument>, at: number): number;
}

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

/** One CSV record → an Instrument, or null for rows we skip. */
export function instrumentFromKiteCsv(r: Record<string, string>): Instrument | null {
  const segment = segmentFromKite(r.exchange);
  if (!segment || (r.segment ?? '').toUpperCase() === 'INDICES') return null;
  const securityId = (r.exchange_token ?? '').trim();
  const symbol = (r.tradingsymbol ?? '').trim();
  if (!/^\d+$/.test(securityId) || !symbol) return null;
  const type = (r.instrument_type ?? '').toUpperCase();
  const optionType = type === 'CE' || type === 'PE' ? type : null;
  const strike = Number(r.strike);
  const lot = Number(r.lot_size);
  const tick = Number(r.tick_size);
  const expiry = (r.expiry ?? '').trim();
  return {
    segment,
    securityId,
    symbol,
    name: (r.name ?? '').trim(),
    lotSize: Number.isInteger(lot) && lot > 0 ? lot : 1,
    tickSize: Number.isFinite(tick) && tick > 0 ? tick : 0.05,
    expiry: /^\d{4}-\d{2}-\d{2}$/.test(expiry) ? expiry : null,
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

  const rows: Instrument[] = [];
  let read = 0;
  let skipped = 0;
  const parser = parse({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: true, bom: true });
  const piping = pipeline(res.data, parser);
  try {
    for await (const rec of parser as AsyncIterable<Record<string, string>>) {
      read += 1;
      const i = instrumentFromKiteCsv(rec);
      if (i) rows.push(i);
      else skipped += 1;
      if (read % 10_000 === 0) o.onProgress?.(read);
    }
    await piping;
  } catch (e) {
    piping.catch(() => {});
    throw errorFromThrown('instruments', 'instruments', e);
  }
  o.onProgress?.(read);
  const stored = o.store.replaceAll('kite', rows, Date.now());
  o.logger.info({ read, skipped, stored, ms: Date.now() - started }, 'kite instruments loaded');
  return stored;
}
