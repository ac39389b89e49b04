/**
 * The instrument universe shared by the fake brokers, so a leader on one broker maps onto a follower
 * on the other by exchange token, as in production. `securityId` is the exchange token: Dhan's
 * SEM_SMST_SECURITY_ID and Kite's exchange_token; Kite's instrument_token = exchange_token * 256 +
 * Kite's segment id (1 NSE, 2 NFO, 3 CDS, 4 BSE, 5 BFO, 7 MCX).
 *
 * The contracts, tokens, lots and ticks are the fake Dhan's (tests/fakes/dhan/instruments.ts,
 * DHAN_FAKE_TRADABLE), copied rather than imported so each fake stands alone;
 * tests/unit/test-instruments.test.ts fails if the two lists drift apart. One contract, the SENSEX
 * option, is deliberately missing from Kite's master: the "unmappable instrument" case.
 *
 * Kite's `name` is what its master really holds: the company name for an equity (real rows:
 * `408065,1594,INFY,INFOSYS,…`, `738561,2885,RELIANCE,RELIANCE INDUSTRIES,…`), the underlying for a
 * derivative (NIFTY, BANKNIFTY, CRUDEOIL, USDINR). So a cross-broker check that compared an equity's
 * `name` with Dhan's symbol would refuse INFY here as it did in production (issue 15).
 * RELIANCE (2885, BSE 500325), HDFCBANK (1333) and INFY (1594) are the real exchange tokens.
 *
 * GUESSES (marked): derivative tokens are made up (real ones change every series); HDFCBANK's Kite
 * `name` (HDFC BANK) follows the same company-name rule.
 *
 * Known differences from the real masters, kept because the fake Dhan (tests/fakes/dhan/instruments.ts)
 * must list the same symbols: Dhan dates an MCX contract to the day (`CRUDEOIL-18Dec2026-FUT`, not
 * `CRUDEOIL-Dec2026-FUT`), and leaves SM_SYMBOL_NAME blank (or a mnemonic such as BSXOPT) on NSE/BSE
 * derivative rows; the loader takes the underlying from the trading symbol either way
 * (tests/unit/instrument-mapping.test.ts has the real shapes).
 */
import type { Instrument } from '../../src/domain/instrument.js';
import type { Segment } from '../../src/domain/order.js';

export interface TestInstrument {
  /** Short handle for tests: 'NIFTY_26000_CE', 'RELIANCE', … */
  key: string;
  segment: Segment;
  /** Exchange token = Dhan security id = Kite exchange_token. */
  securityId: string;
  /** Kite's `name`: the company name for an equity (INFOSYS for INFY), the underlying for a derivative. */
  name: string;
  lotSize: number;
  tickSize: number;
  /** YYYY-MM-DD, null for cash. */
  expiry: string | null;
  strike: number | null;
  optionType: 'CE' | 'PE' | null;
  /** A sensible price for tests (limit prices, fills). */
  price: number;
  dhan: {
    /** SEM_EXM_EXCH_ID */
    exchange: 'NSE' | 'BSE' | 'MCX';
    /** SEM_SEGMENT: E equity, D derivatives, C currency, M commodity. */
    segmentCode: 'E' | 'D' | 'C' | 'M';
    /** SEM_INSTRUMENT_NAME */
    instrumentName: 'EQUITY' | 'OPTIDX' | 'FUTIDX' | 'OPTSTK' | 'FUTSTK' | 'FUTCOM' | 'FUTCUR';
    /** SEM_TRADING_SYMBOL */
    tradingSymbol: string;
    /** SEM_CUSTOM_SYMBOL */
    customSymbol: string;
  };
  /** null: the instrument is missing from Kite's master (the "unmappable instrument" case). */
  kite: {
    exchange: 'NSE' | 'NFO' | 'BSE' | 'BFO' | 'MCX' | 'CDS';
    tradingsymbol: string;
    instrumentToken: number;
    /** Kite CSV `segment` column. */
    segment: 'NSE' | 'BSE' | 'NFO-OPT' | 'NFO-FUT' | 'MCX-FUT' | 'CDS-FUT';
    instrumentType: 'EQ' | 'FUT' | 'CE' | 'PE';
  } | null;
}

const kiteToken = (exchangeToken: number, kiteSegmentId: number): number => exchangeToken * 256 + kiteSegmentId;

export const TEST_INSTRUMENTS: readonly TestInstrument[] = [
  {
    key: 'NIFTY_26000_CE',
    segment: 'NSE_FNO',
    securityId: '61345',
    name: 'NIFTY',
    lotSize: 75,
    tickSize: 0.05,
    expiry: '2026-12-29',
    strike: 26000,
    optionType: 'CE',
    price: 120,
    dhan: { exchange: 'NSE', segmentCode: 'D', instrumentName: 'OPTIDX', tradingSymbol: 'NIFTY-Dec2026-26000-CE', customSymbol: 'NIFTY 29 DEC 26000 CALL' },
    kite: { exchange: 'NFO', tradingsymbol: 'NIFTY26DEC26000CE', instrumentToken: kiteToken(61345, 2), segment: 'NFO-OPT', instrumentType: 'CE' },
  },
  {
    key: 'NIFTY_26000_PE',
    segment: 'NSE_FNO',
    securityId: '61346',
    name: 'NIFTY',
    lotSize: 75,
    tickSize: 0.05,
    expiry: '2026-12-29',
    strike: 26000,
    optionType: 'PE',
    price: 95.5,
    dhan: { exchange: 'NSE', segmentCode: 'D', instrumentName: 'OPTIDX', tradingSymbol: 'NIFTY-Dec2026-26000-PE', customSymbol: 'NIFTY 29 DEC 26000 PUT' },
    kite: { exchange: 'NFO', tradingsymbol: 'NIFTY26DEC26000PE', instrumentToken: kiteToken(61346, 2), segment: 'NFO-OPT', instrumentType: 'PE' },
  },
  {
    key: 'NIFTY_26100_CE',
    segment: 'NSE_FNO',
    securityId: '61347',
    name: 'NIFTY',
    lotSize: 75,
    tickSize: 0.05,
    expiry: '2026-12-29',
    strike: 26100,
    optionType: 'CE',
    price: 80,
    dhan: { exchange: 'NSE', segmentCode: 'D', instrumentName: 'OPTIDX', tradingSymbol: 'NIFTY-Dec2026-26100-CE', customSymbol: 'NIFTY 29 DEC 26100 CALL' },
    kite: { exchange: 'NFO', tradingsymbol: 'NIFTY26DEC26100CE', instrumentToken: kiteToken(61347, 2), segment: 'NFO-OPT', instrumentType: 'CE' },
  },
  {
    key: 'NIFTY_26100_PE',
    segment: 'NSE_FNO',
    securityId: '61348',
    name: 'NIFTY',
    lotSize: 75,
    tickSize: 0.05,
    expiry: '2026-12-29',
    strike: 26100,
    optionType: 'PE',
    price: 140,
    dhan: { exchange: 'NSE', segmentCode: 'D', instrumentName: 'OPTIDX', tradingSymbol: 'NIFTY-Dec2026-26100-PE', customSymbol: 'NIFTY 29 DEC 26100 PUT' },
    kite: { exchange: 'NFO', tradingsymbol: 'NIFTY26DEC26100PE', instrumentToken: kiteToken(61348, 2), segment: 'NFO-OPT', instrumentType: 'PE' },
  },
  {
    key: 'BANKNIFTY_FUT',
    segment: 'NSE_FNO',
    securityId: '61350',
    name: 'BANKNIFTY',
    lotSize: 30,
    tickSize: 0.2,
    expiry: '2026-12-29',
    strike: null,
    optionType: null,
    price: 58000,
    dhan: { exchange: 'NSE', segmentCode: 'D', instrumentName: 'FUTIDX', tradingSymbol: 'BANKNIFTY-Dec2026-FUT', customSymbol: 'BANKNIFTY DEC FUT' },
    kite: { exchange: 'NFO', tradingsymbol: 'BANKNIFTY26DECFUT', instrumentToken: kiteToken(61350, 2), segment: 'NFO-FUT', instrumentType: 'FUT' },
  },
  {
    key: 'RELIANCE',
    segment: 'NSE_EQ',
    securityId: '2885',
    name: 'RELIANCE INDUSTRIES',
    lotSize: 1,
    tickSize: 0.1,
    expiry: null,
    strike: null,
    optionType: null,
    price: 1400,
    dhan: { exchange: 'NSE', segmentCode: 'E', instrumentName: 'EQUITY', tradingSymbol: 'RELIANCE', customSymbol: 'Reliance Industries' },
    kite: { exchange: 'NSE', tradingsymbol: 'RELIANCE', instrumentToken: kiteToken(2885, 1), segment: 'NSE', instrumentType: 'EQ' },
  },
  {
    key: 'HDFCBANK',
    segment: 'NSE_EQ',
    securityId: '1333',
    name: 'HDFC BANK',
    lotSize: 1,
    tickSize: 0.05,
    expiry: null,
    strike: null,
    optionType: null,
    price: 1650,
    dhan: { exchange: 'NSE', segmentCode: 'E', instrumentName: 'EQUITY', tradingSymbol: 'HDFCBANK', customSymbol: 'HDFC Bank' },
    kite: { exchange: 'NSE', tradingsymbol: 'HDFCBANK', instrumentToken: kiteToken(1333, 1), segment: 'NSE', instrumentType: 'EQ' },
  },
  {
    key: 'INFY',
    segment: 'NSE_EQ',
    securityId: '1594',
    name: 'INFOSYS',
    lotSize: 1,
    tickSize: 0.05,
    expiry: null,
    strike: null,
    optionType: null,
    price: 1550,
    dhan: { exchange: 'NSE', segmentCode: 'E', instrumentName: 'EQUITY', tradingSymbol: 'INFY', customSymbol: 'Infosys' },
    kite: { exchange: 'NSE', tradingsymbol: 'INFY', instrumentToken: kiteToken(1594, 1), segment: 'NSE', instrumentType: 'EQ' },
  },
  {
    key: 'RELIANCE_BSE',
    segment: 'BSE_EQ',
    securityId: '500325',
    name: 'RELIANCE INDUSTRIES',
    lotSize: 1,
    tickSize: 0.05,
    expiry: null,
    strike: null,
    optionType: null,
    price: 1400,
    dhan: { exchange: 'BSE', segmentCode: 'E', instrumentName: 'EQUITY', tradingSymbol: 'RELIANCE', customSymbol: 'Reliance Industries' },
    kite: { exchange: 'BSE', tradingsymbol: 'RELIANCE', instrumentToken: kiteToken(500325, 4), segment: 'BSE', instrumentType: 'EQ' },
  },
  {
    key: 'CRUDEOIL_FUT',
    segment: 'MCX_COMM',
    securityId: '472789',
    name: 'CRUDEOIL',
    lotSize: 100,
    tickSize: 1,
    expiry: '2026-12-18',
    strike: null,
    optionType: null,
    price: 5600,
    dhan: { exchange: 'MCX', segmentCode: 'M', instrumentName: 'FUTCOM', tradingSymbol: 'CRUDEOIL-Dec2026-FUT', customSymbol: 'CRUDEOIL DEC FUT' },
    kite: { exchange: 'MCX', tradingsymbol: 'CRUDEOIL26DECFUT', instrumentToken: kiteToken(472789, 7), segment: 'MCX-FUT', instrumentType: 'FUT' },
  },
  {
    key: 'USDINR_FUT',
    segment: 'NSE_CURRENCY',
    securityId: '10093',
    name: 'USDINR',
    lotSize: 1000,
    tickSize: 0.0025,
    expiry: '2026-12-29',
    strike: null,
    optionType: null,
    price: 88.5,
    dhan: { exchange: 'NSE', segmentCode: 'C', instrumentName: 'FUTCUR', tradingSymbol: 'USDINR-Dec2026-FUT', customSymbol: 'USDINR DEC FUT' },
    kite: { exchange: 'CDS', tradingsymbol: 'USDINR26DECFUT', instrumentToken: kiteToken(10093, 3), segment: 'CDS-FUT', instrumentType: 'FUT' },
  },
  // Only in Dhan's master: a leader order on it cannot be mapped to a Kite follower.
  {
    key: 'SENSEX_85000_CE',
    segment: 'BSE_FNO',
    securityId: '825614',
    name: 'SENSEX',
    lotSize: 20,
    tickSize: 0.05,
    expiry: '2026-12-24',
    strike: 85000,
    optionType: 'CE',
    price: 300,
    dhan: { exchange: 'BSE', segmentCode: 'D', instrumentName: 'OPTIDX', tradingSymbol: 'SENSEX-Dec2026-85000-CE', customSymbol: 'SENSEX 24 DEC 85000 CALL' },
    kite: null,
  },
];

export function testInstrument(key: string): TestInstrument {
  const i = TEST_INSTRUMENTS.find((x) => x.key === key);
  if (!i) throw new Error(`no test instrument ${key}`);
  return i;
}

/** The canonical Instrument as a broker's master lists it (`symbol` in that broker's spelling). */
export function canonicalInstrument(i: TestInstrument, broker: 'dhan' | 'kite'): Instrument {
  const symbol = broker === 'kite' ? i.kite?.tradingsymbol : i.dhan.tradingSymbol;
  if (!symbol) throw new Error(`${i.key} is not listed by ${broker}`);
  return {
    segment: i.segment,
    securityId: i.securityId,
    symbol,
    name: i.name,
    lotSize: i.lotSize,
    tickSize: i.tickSize,
    expiry: i.expiry,
    strike: i.strike,
    optionType: i.optionType,
    freezeQty: null,
  };
}
