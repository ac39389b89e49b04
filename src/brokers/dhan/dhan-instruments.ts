/**
 * The Dhan compact scrip master (`api-scrip-master.csv`) → `instruments` rows for broker 'dhan'.
 * The body is streamed (axios `responseType: 'stream'` into csv-parse) and never held as one string;
 * only compact row objects are kept, then stored in one `replaceAll` transaction.
 *
 * Column decisions (reference §7.2):
 * - Segment: NSE+E → NSE_EQ, NSE+D → NSE_FNO, BSE+E → BSE_EQ, BSE+D → BSE_FNO, MCX+M → MCX_COMM,
 *   NSE+C → NSE_CURRENCY. Indices (I) and everything else are skipped.
 * - Tick size: the compact file mixes scales (`5.0000` for a ₹0.05 equity tick, `0.05` on index rows).
 *   Rule: NSE_CURRENCY ticks are always paise (0.25 → ₹0.0025); elsewhere a value ≥ 1 is paise
 *   (5.0000 → ₹0.05, MCX 100.0 → ₹1) and a value < 1 is already rupees. No NSE/BSE equity or F&O tick
 *   is ₹1 or more, so the rule cannot misread a real rupee tick in those segments.
 * - name: the underlying symbol, for cross-broker checks: for derivatives SM_SYMBOL_NAME when it looks
 *   like a symbol (one word), otherwise the trading symbol up to its first '-' (NIFTY-Dec2026-… →
 *   NIFTY); for cash instruments the trading symbol itself (SM_SYMBOL_NAME there is the company name).
 * - expiry: YYYY-MM-DD, null for `0001-01-01`/blank. strike: null unless an option (non-options carry
 *   -0.01 or -1). optionType: CE/PE, else null. freezeQty: not in the compact file → null.
 */
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import type { Instrument } from '../../domain/instrument.js';
import type { Segment } from '../../domain/order.js';
import { createHttpClient } from '../../infra/http.js';
import type { Logger } from '../../infra/logger.js';
import { segmentFromShort } from './dhan-codes.js';

export const DHAN_COMPACT_SCRIP_MASTER_URL = 'https://images.dhan.co/api-data/api-scrip-master.csv';

export interface InstrumentSink {
  replaceAll(broker: string, rows: Iterable<Instrument>, at: number): number;
}

export interface LoadDhanInstrumentsOptions {
  url?: string;
  store: InstrumentSink;
  logger: Logger;
  /** Rows kept so far; called every 10,000 rows and once at the end. */
  onProgress?: (rows: number) => void;
  /** Deadline for the whole download. Default 120 s. */
  timeoutMs?: number;
}

/** Download, parse and store the compact master. Returns the number of rows stored. */
export async function loadDhanInstruments(opts: LoadDhanInstrumentsOptions): Promise<number> {
  const url = opts.url ?? DHAN_COMPACT_SCRIP_MASTER_URL;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const http = createHttpClient('', { timeoutMs });
  const started = performance.now();
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await http.get<Readable>(url, { responseType: 'stream', signal: abort.signal });
    if (res.status !== 200) {
      res.data.destroy();
      throw new Error(`Dhan scrip master download failed: HTTP ${res.status}`);
    }
    const rows: Instrument[] = [];
    let seen = 0;
    const parser = res.data.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }));
    res.data.on('error', (err) => parser.destroy(err));
    for await (const rec of parser as AsyncIterable<Record<string, string | undefined>>) {
      seen += 1;
      const i = dhanInstrumentOfCsv(rec);
      if (i) {
        rows.push(i);
        if (rows.length % 10_000 === 0) opts.onProgress?.(rows.length);
      }
    }
    if (rows.length === 0) throw new Error(`Dhan scrip master had no usable rows (${seen} read); the stored master is kept`);
    const stored = opts.store.replaceAll('dhan', rows, Date.now());
    opts.onProgress?.(stored);
    opts.logger.info({ read: seen, stored, ms: Math.round(performance.now() - started) }, 'dhan instruments loaded');
    return stored;
  } finally {
    clearTimeout(deadline);
    // A one-off download: do not leave keep-alive sockets behind.
    (http.defaults.httpAgent as { destroy?: () => void } | undefined)?.destroy?.();
    (http.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

/** One compact-master record → Instrument, or null when it is outside the model (indices, …). */
export function dhanInstrumentOfCsv(r: Record<string, string | undefined>): Instrument | null {
  const segment = segmentFromShort(r.SEM_EXM_EXCH_ID, r.SEM_SEGMENT);
  const securityId = (r.SEM_SMST_SECURITY_ID ?? '').trim();
  const symbol = (r.SEM_TRADING_SYMBOL ?? '').trim();
  if (!segment || !securityId || !symbol) return null;
  if ((r.SEM_INSTRUMENT_NAME ?? '').toUpperCase() === 'INDEX') return null;
  const lotSize = Math.round(Number(r.SEM_LOT_UNITS));
  const optionType = r.SEM_OPTION_TYPE === 'CE' || r.SEM_OPTION_TYPE === 'PE' ? r.SEM_OPTION_TYPE : null;
  const strike = Number(r.SEM_STRIKE_PRICE);
  return {
    segment,
    securityId,
    symbol,
    name: underlying(segment, symbol, r.SM_SYMBOL_NAME),
    lotSize: lotSize > 0 ? lotSize : 1,
    tickSize: tickInRupees(segment, r.SEM_TICK_SIZE),
    expiry: expiryDate(r.SEM_EXPIRY_DATE),
    strike: optionType && Number.isFinite(strike) && strike > 0 ? strike : null,
    optionType,
    freezeQty: null,
  };
}

/** See the module comment for the scale rule. Unparseable → ₹0.05, the common tick. */
export function tickInRupees(segment: Segment, raw: string | undefined): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) return 0.05;
  const rupees = segment === 'NSE_CURRENCY' || v >= 1 ? v / 100 : v;
  return Number(rupees.toFixed(6));
}

function expiryDate(raw: string | undefined): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec((raw ?? '').trim());
  return m && m[1] && !m[1].startsWith('0001') ? m[1] : null;
}

function underlying(segment: Segment, symbol: string, smName: string | undefined): string {
  if (segment === 'NSE_EQ' || segment === 'BSE_EQ') return symbol;
  const sm = (smName ?? '').trim();
  if (sm && !/\s/.test(sm)) return sm;
  return symbol.split('-')[0] ?? symbol;
}
