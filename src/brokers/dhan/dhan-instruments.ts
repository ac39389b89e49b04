/**
 * The Dhan compact scrip master (`api-scrip-master.csv`) → `instruments` rows for broker 'dhan'.
 * The body is streamed (axios `responseType: 'stream'` into the shared CSV reader, src/infra/csv.ts) and
 * never held as one string, nor is the master held whole: each chunk's rows are staged in the store
 * (InstrumentSink), which swaps the whole master in at the end in one transaction.
 *
 * Column decisions (reference §7.2):
 * - Segment: NSE+E → NSE_EQ, NSE+D → NSE_FNO, BSE+E → BSE_EQ, BSE+D → BSE_FNO, MCX+M → MCX_COMM,
 *   NSE+C → NSE_CURRENCY. Indices (I) and everything else are skipped.
 * - Tick size: the compact file mixes scales (`5.0000` for a ₹0.05 equity tick, `0.05` on index rows).
 *   Rule: NSE_CURRENCY ticks are always paise (0.25 → ₹0.0025); elsewhere a value ≥ 1 is paise
 *   (5.0000 → ₹0.05, MCX 100.0 → ₹1) and a value < 1 is already rupees. No NSE/BSE equity or F&O tick
 *   is ₹1 or more, so the rule cannot misread a real rupee tick in those segments.
 * - name: the underlying symbol, for cross-broker checks against Kite's `name` (NIFTY, BANKNIFTY,
 *   SENSEX, RELIANCE, BAJAJ-AUTO, CRUDEOIL). For derivatives it is the trading symbol before its expiry:
 *   `NIFTY-Dec2026-26000-CE` → NIFTY, `BAJAJ-AUTO-Oct2026-FUT` → BAJAJ-AUTO, and MCX's day-dated
 *   `CRUDEOIL-19Oct2026-FUT` → CRUDEOIL. SM_SYMBOL_NAME is not used there: on NSE/BSE derivative rows
 *   it is blank, or a contract mnemonic rather than the underlying (BSXOPT for SENSEX options,
 *   BKXFUT for BANKEX, DRRLFUT for DRREDDY: OpenAlgo's broker/dhan master_contract_db.py counts them);
 *   a symbol not in that shape falls back to the part before its first '-'. For cash instruments
 *   `name` is the trading symbol itself (SM_SYMBOL_NAME there is the company name, INFOSYS LIMITED).
 * - expiry: YYYY-MM-DD, null for `0001-01-01`/blank. strike: null unless an option (non-options carry
 *   -0.01 or -1). optionType: CE/PE, else null. freezeQty: not in the compact file → null.
 */
import type { Readable } from 'node:stream';
import type { Instrument, InstrumentSink } from '../../domain/instrument.js';
import type { Segment } from '../../domain/order.js';
import { readCsvTable, type CsvRecord } from '../../infra/csv.js';
import { createHttpClient } from '../../infra/http.js';
import type { Logger } from '../../infra/logger.js';
import { segmentFromShort } from './dhan-codes.js';

export const DHAN_COMPACT_SCRIP_MASTER_URL = 'https://images.dhan.co/api-data/api-scrip-master.csv';

export type { InstrumentSink } from '../../domain/instrument.js';

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
    let seen = 0;
    let kept = 0;
    const toInstrument = dhanRecordReader();
    const load = opts.store.beginLoad('dhan');
    try {
      for await (const batch of readCsvTable(res.data, DHAN_COLUMNS)) {
        const rows: Instrument[] = [];
        for (const rec of batch) {
          seen += 1;
          const i = toInstrument(rec);
          if (i) {
            rows.push(i);
            kept += 1;
            if (kept % 10_000 === 0) opts.onProgress?.(kept);
          }
        }
        load.add(rows);
      }
      if (kept === 0) throw new Error(`Dhan scrip master had no usable rows (${seen} read); the stored master is kept`);
      const stored = load.commit(Date.now());
      opts.onProgress?.(stored);
      opts.logger.info({ read: seen, stored, ms: Math.round(performance.now() - started) }, 'dhan instruments loaded');
      return stored;
    } finally {
      load.abort();
    }
  } finally {
    clearTimeout(deadline);
    // A one-off download: do not leave keep-alive sockets behind.
    (http.defaults.httpAgent as { destroy?: () => void } | undefined)?.destroy?.();
    (http.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

/** The columns the loader reads, in the order of a record handed to `dhanRecordReader`'s function. */
export const DHAN_COLUMNS = [
  'SEM_EXM_EXCH_ID', 'SEM_SEGMENT', 'SEM_SMST_SECURITY_ID', 'SEM_INSTRUMENT_NAME', 'SEM_TRADING_SYMBOL', 'SEM_LOT_UNITS',
  'SEM_EXPIRY_DATE', 'SEM_STRIKE_PRICE', 'SEM_OPTION_TYPE', 'SEM_TICK_SIZE',
] as const;
const EXCH = 0, SEG = 1, ID = 2, INSTRUMENT = 3, SYMBOL = 4, LOT = 5, EXPIRY = 6, STRIKE = 7, OPTION = 8, TICK = 9;

/** One compact-master record (by column name) → Instrument, or null when it is outside the model (indices, …). */
export function dhanInstrumentOfCsv(r: Record<string, string | undefined>): Instrument | null {
  return dhanRecordReader()(DHAN_COLUMNS.map((c) => r[c]));
}

/**
 * A record → Instrument function for one load: the record holds DHAN_COLUMNS in order. Tick sizes and
 * expiries repeat across the file, so their conversions are memoised per load.
 */
export function dhanRecordReader(): (f: CsvRecord) => Instrument | null {
  const ticks = new Map<string, number>();
  const currencyTicks = new Map<string, number>();
  const expiries = new Map<string, string | null>();
  return (f) => {
    const segment = segmentFromShort(f[EXCH], f[SEG]);
    const securityId = (f[ID] ?? '').trim();
    const symbol = (f[SYMBOL] ?? '').trim();
    if (!segment || !securityId || !symbol) return null;
    if ((f[INSTRUMENT] ?? '').toUpperCase() === 'INDEX') return null;
    const lotSize = Math.round(Number(f[LOT]));
    const opt = f[OPTION];
    const optionType = opt === 'CE' || opt === 'PE' ? opt : null;
    const strike = Number(f[STRIKE]);
    const tickRaw = f[TICK] ?? '';
    const tickMemo = segment === 'NSE_CURRENCY' ? currencyTicks : ticks;
    let tickSize = tickMemo.get(tickRaw);
    if (tickSize === undefined) {
      tickSize = tickInRupees(segment, f[TICK]);
      tickMemo.set(tickRaw, tickSize);
    }
    const expiryRaw = f[EXPIRY] ?? '';
    let expiry = expiries.get(expiryRaw);
    if (expiry === undefined) {
      expiry = expiryDate(expiryRaw);
      expiries.set(expiryRaw, expiry);
    }
    return {
      segment,
      securityId,
      symbol,
      name: underlying(segment, symbol),
      lotSize: lotSize > 0 ? lotSize : 1,
      tickSize,
      expiry,
      strike: optionType && Number.isFinite(strike) && strike > 0 ? strike : null,
      optionType,
      freezeQty: null,
    };
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

/** A derivative's trading symbol: underlying, `-`, optional day, month, year, `-`, … (see the module comment). */
const DERIVATIVE_SYMBOL = /^(.+?)-(?:\d{1,2})?[A-Za-z]{3}\d{4}-/;

/** The underlying of a contract, for cross-broker checks (see the module comment). */
function underlying(segment: Segment, symbol: string): string {
  if (segment === 'NSE_EQ' || segment === 'BSE_EQ') return symbol;
  const m = DERIVATIVE_SYMBOL.exec(symbol);
  if (m?.[1]) return m[1];
  return symbol.split('-')[0] || symbol;
}
