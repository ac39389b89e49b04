/**
 * The fake Dhan's instrument list and its compact scrip master CSV (reference §7.2 header, exact
 * order). Exported so other fakes (Kite) can list the same contracts under the same exchange tokens:
 * a Dhan security id IS the exchange token (reference §15; HDFCBANK = 1333 on both).
 *
 * Equity ids are the real NSE/BSE tokens. Derivative ids, expiries and SM_SYMBOL_NAME values on
 * derivative rows are plausible GUESSES (real F&O tokens change every series).
 */
import type { Instrument } from '../../../src/domain/instrument.js';

export interface FakeDhanInstrument extends Instrument {
  exchange: 'NSE' | 'BSE' | 'MCX';
  /** SEM_SEGMENT: E equity, D derivatives, C currency, M commodity, I index. */
  segmentCode: 'E' | 'D' | 'C' | 'M' | 'I';
  instrumentName: string;
  customSymbol: string;
  /** SEM_TICK_SIZE exactly as the file writes it (paise on tradable rows, see the scale quirk). */
  tickRaw: string;
  expiryFlag: string;
  exchInstrumentType: string;
  series: string;
  /** SM_SYMBOL_NAME. */
  symbolName: string;
}

type Row = Omit<FakeDhanInstrument, 'freezeQty'> & { freezeQty?: number | null };
const fno = (r: Row): FakeDhanInstrument => ({ freezeQty: null, ...r });

/** Tradable contracts (and one index row, which loaders must skip). */
export const DHAN_FAKE_INSTRUMENTS: readonly FakeDhanInstrument[] = [
  // The NIFTY index: segment I, tick written in rupees (0.05) unlike tradable rows. Not tradable.
  fno({ exchange: 'NSE', segmentCode: 'I', segment: 'NSE_EQ', securityId: '13', instrumentName: 'INDEX', symbol: 'NIFTY', customSymbol: 'Nifty 50', name: 'NIFTY', lotSize: 1, tickSize: 0.05, tickRaw: '0.05', expiry: null, strike: null, optionType: null, expiryFlag: '', exchInstrumentType: 'INDEX', series: 'X', symbolName: 'NIFTY' }),
  fno({ exchange: 'NSE', segmentCode: 'E', segment: 'NSE_EQ', securityId: '2885', instrumentName: 'EQUITY', symbol: 'RELIANCE', customSymbol: 'Reliance Industries', name: 'RELIANCE', lotSize: 1, tickSize: 0.1, tickRaw: '10.0000', expiry: null, strike: null, optionType: null, expiryFlag: 'NA', exchInstrumentType: 'ES', series: 'EQ', symbolName: 'RELIANCE INDUSTRIES LTD' }),
  fno({ exchange: 'NSE', segmentCode: 'E', segment: 'NSE_EQ', securityId: '1333', instrumentName: 'EQUITY', symbol: 'HDFCBANK', customSymbol: 'HDFC Bank', name: 'HDFCBANK', lotSize: 1, tickSize: 0.05, tickRaw: '5.0000', expiry: null, strike: null, optionType: null, expiryFlag: 'NA', exchInstrumentType: 'ES', series: 'EQ', symbolName: 'HDFC BANK LTD' }),
  fno({ exchange: 'NSE', segmentCode: 'E', segment: 'NSE_EQ', securityId: '1594', instrumentName: 'EQUITY', symbol: 'INFY', customSymbol: 'Infosys', name: 'INFY', lotSize: 1, tickSize: 0.05, tickRaw: '5.0000', expiry: null, strike: null, optionType: null, expiryFlag: 'NA', exchInstrumentType: 'ES', series: 'EQ', symbolName: 'INFOSYS LIMITED' }),
  fno({ exchange: 'BSE', segmentCode: 'E', segment: 'BSE_EQ', securityId: '500325', instrumentName: 'EQUITY', symbol: 'RELIANCE', customSymbol: 'Reliance Industries', name: 'RELIANCE', lotSize: 1, tickSize: 0.05, tickRaw: '5.0000', expiry: null, strike: null, optionType: null, expiryFlag: 'NA', exchInstrumentType: 'ES', series: 'A', symbolName: 'RELIANCE INDUSTRIES LTD' }),
  fno({ exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: '61345', instrumentName: 'OPTIDX', symbol: 'NIFTY-Dec2026-26000-CE', customSymbol: 'NIFTY 29 DEC 26000 CALL', name: 'NIFTY', lotSize: 75, tickSize: 0.05, tickRaw: '5.0000', expiry: '2026-12-29', strike: 26000, optionType: 'CE', expiryFlag: 'M', exchInstrumentType: 'OP', series: 'NA', symbolName: 'NIFTY' }),
  fno({ exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: '61346', instrumentName: 'OPTIDX', symbol: 'NIFTY-Dec2026-26000-PE', customSymbol: 'NIFTY 29 DEC 26000 PUT', name: 'NIFTY', lotSize: 75, tickSize: 0.05, tickRaw: '5.0000', expiry: '2026-12-29', strike: 26000, optionType: 'PE', expiryFlag: 'M', exchInstrumentType: 'OP', series: 'NA', symbolName: 'NIFTY' }),
  fno({ exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: '61347', instrumentName: 'OPTIDX', symbol: 'NIFTY-Dec2026-26100-CE', customSymbol: 'NIFTY 29 DEC 26100 CALL', name: 'NIFTY', lotSize: 75, tickSize: 0.05, tickRaw: '5.0000', expiry: '2026-12-29', strike: 26100, optionType: 'CE', expiryFlag: 'M', exchInstrumentType: 'OP', series: 'NA', symbolName: 'NIFTY' }),
  fno({ exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: '61348', instrumentName: 'OPTIDX', symbol: 'NIFTY-Dec2026-26100-PE', customSymbol: 'NIFTY 29 DEC 26100 PUT', name: 'NIFTY', lotSize: 75, tickSize: 0.05, tickRaw: '5.0000', expiry: '2026-12-29', strike: 26100, optionType: 'PE', expiryFlag: 'M', exchInstrumentType: 'OP', series: 'NA', symbolName: 'NIFTY' }),
  // SM_SYMBOL_NAME left blank here on purpose: loaders must derive the underlying from the symbol.
  fno({ exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: '61350', instrumentName: 'FUTIDX', symbol: 'BANKNIFTY-Dec2026-FUT', customSymbol: 'BANKNIFTY DEC FUT', name: 'BANKNIFTY', lotSize: 30, tickSize: 0.2, tickRaw: '20.0000', expiry: '2026-12-29', strike: null, optionType: null, expiryFlag: 'M', exchInstrumentType: 'FUT', series: 'NA', symbolName: '' }),
  fno({ exchange: 'BSE', segmentCode: 'D', segment: 'BSE_FNO', securityId: '825614', instrumentName: 'OPTIDX', symbol: 'SENSEX-Dec2026-85000-CE', customSymbol: 'SENSEX 24 DEC 85000 CALL', name: 'SENSEX', lotSize: 20, tickSize: 0.05, tickRaw: '5.0000', expiry: '2026-12-24', strike: 85000, optionType: 'CE', expiryFlag: 'W', exchInstrumentType: 'OP', series: 'NA', symbolName: 'SENSEX' }),
  fno({ exchange: 'MCX', segmentCode: 'M', segment: 'MCX_COMM', securityId: '472789', instrumentName: 'FUTCOM', symbol: 'CRUDEOIL-Dec2026-FUT', customSymbol: 'CRUDEOIL DEC FUT', name: 'CRUDEOIL', lotSize: 100, tickSize: 1, tickRaw: '100.0000', expiry: '2026-12-18', strike: null, optionType: null, expiryFlag: 'M', exchInstrumentType: 'FUT', series: 'NA', symbolName: 'CRUDEOIL' }),
  fno({ exchange: 'NSE', segmentCode: 'C', segment: 'NSE_CURRENCY', securityId: '10093', instrumentName: 'FUTCUR', symbol: 'USDINR-Dec2026-FUT', customSymbol: 'USDINR DEC FUT', name: 'USDINR', lotSize: 1000, tickSize: 0.0025, tickRaw: '0.2500', expiry: '2026-12-29', strike: null, optionType: null, expiryFlag: 'M', exchInstrumentType: 'FUT', series: 'NA', symbolName: 'USDINR' }),
];

/** The tradable contracts (the index row excluded), as a loader should store them. */
export const DHAN_FAKE_TRADABLE: readonly FakeDhanInstrument[] = DHAN_FAKE_INSTRUMENTS.filter((i) => i.segmentCode !== 'I');

export function fakeDhanInstrument(securityId: string, segment?: string): FakeDhanInstrument | undefined {
  return DHAN_FAKE_TRADABLE.find((i) => i.securityId === securityId && (!segment || i.segment === segment));
}

export const DHAN_SCRIP_MASTER_HEADER =
  'SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_EXPIRY_CODE,SEM_TRADING_SYMBOL,SEM_LOT_UNITS,SEM_CUSTOM_SYMBOL,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,SEM_TICK_SIZE,SEM_EXPIRY_FLAG,SEM_EXCH_INSTRUMENT_TYPE,SEM_SERIES,SM_SYMBOL_NAME';

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** One CSV line in the compact file's style (see the example rows in reference §7.2). */
export function scripMasterLine(i: FakeDhanInstrument): string {
  const isIndex = i.segmentCode === 'I';
  const isDerivative = i.expiry !== null;
  return [
    i.exchange,
    i.segmentCode,
    i.securityId,
    i.instrumentName,
    isIndex || isDerivative ? '0' : '',
    i.symbol,
    i.lotSize.toFixed(1),
    i.customSymbol,
    isIndex ? '0001-01-01' : i.expiry ? `${i.expiry} 14:30:00` : '',
    i.strike !== null ? i.strike.toFixed(5) : isIndex ? '' : '-0.01000',
    i.optionType ?? 'XX',
    i.tickRaw,
    i.expiryFlag,
    i.exchInstrumentType,
    i.series,
    i.symbolName,
  ].map(csvField).join(',');
}

/** `extra` synthetic NIFTY option rows (ids from 900000), to exercise streaming and progress. */
export function* syntheticOptionLines(extra: number): Generator<string> {
  for (let n = 0; n < extra; n += 1) {
    const strike = 20000 + 50 * Math.floor(n / 2);
    const type = n % 2 === 0 ? 'CE' : 'PE';
    yield scripMasterLine({
      exchange: 'NSE', segmentCode: 'D', segment: 'NSE_FNO', securityId: String(900000 + n), instrumentName: 'OPTIDX',
      symbol: `NIFTY-Jan2027-${strike}-${type}`, customSymbol: `NIFTY 26 JAN ${strike} ${type === 'CE' ? 'CALL' : 'PUT'}`,
      name: 'NIFTY', lotSize: 75, tickSize: 0.05, tickRaw: '5.0000', expiry: '2027-01-26', strike, optionType: type,
      expiryFlag: 'M', exchInstrumentType: 'OP', series: 'NA', symbolName: 'NIFTY', freezeQty: null,
    });
  }
}
