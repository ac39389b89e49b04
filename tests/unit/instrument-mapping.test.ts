/**
 * The Dhan↔Kite instrument gate, segment by segment, on real-shaped rows of both masters read by the
 * real loaders' parsers (the streaming CSV reader + dhanRecordReader / instrumentFromKiteRecord), then
 * mapped by InstrumentResolver.resolve as the engine does.
 *
 * Row shapes: Dhan compact master header and INFY row from reference dhan-api.md §7.2; derivative rows
 * as public copies of the file show them (SEM_EXCH_INSTRUMENT_TYPE FUT/OP, SEM_SERIES blank,
 * SM_SYMBOL_NAME blank or a contract mnemonic such as BSXOPT/BRITOPT, MCX symbols dated to the day:
 * CRUDEOIL-18Dec2026-FUT). Kite header from kite-api.md §2.12; equity rows as Kite lists them (`name`
 * the company name, a non-EQ series after the symbol: 20MICRONS-BE); instrument_token = exchange
 * token × 256 + Kite's segment id. Equity tokens are the real exchange tokens; derivative tokens,
 * expiries and the BSE INFY/20MICRONS tick values are GUESSES in the real shape.
 */
import { describe, expect, it } from 'vitest';
import { DHAN_COLUMNS, dhanInstrumentOfCsv, dhanRecordReader } from '../../src/brokers/dhan/dhan-instruments.js';
import { KITE_COLUMNS, instrumentFromKiteCsv, instrumentFromKiteRecord } from '../../src/brokers/kite/kite-instruments.js';
import { mappingMismatch, sameEquitySymbol, type Instrument } from '../../src/domain/instrument.js';
import { InstrumentResolver } from '../../src/engine/instruments.js';
import { readCsvTable } from '../../src/infra/csv.js';

const DHAN_HEADER =
  'SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_EXPIRY_CODE,SEM_TRADING_SYMBOL,SEM_LOT_UNITS,SEM_CUSTOM_SYMBOL,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,SEM_TICK_SIZE,SEM_EXPIRY_FLAG,SEM_EXCH_INSTRUMENT_TYPE,SEM_SERIES,SM_SYMBOL_NAME';
const KITE_HEADER = 'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

/** A body as the loaders get it: a stream of chunks (here cut at odd places, across rows and fields). */
async function* chunks(text: string): AsyncGenerator<string> {
  for (let at = 0; at < text.length; at += 97) yield text.slice(at, at + 97);
}

/** Read a master the way its loader does: the streaming CSV reader, then the broker's record reader. */
async function dhanMaster(rows: readonly string[]): Promise<Instrument[]> {
  const out: Instrument[] = [];
  const read = dhanRecordReader();
  for await (const batch of readCsvTable(chunks(`${DHAN_HEADER}\n${rows.join('\n')}\n`), DHAN_COLUMNS)) {
    for (const rec of batch) {
      const i = read(rec);
      if (i) out.push(i);
    }
  }
  return out;
}

async function kiteMaster(rows: readonly string[]): Promise<Instrument[]> {
  const out: Instrument[] = [];
  for await (const batch of readCsvTable(chunks(`${KITE_HEADER}\n${rows.join('\n')}\n`), KITE_COLUMNS)) {
    for (const rec of batch) {
      const i = instrumentFromKiteRecord(rec);
      if (i) out.push(i);
    }
  }
  return out;
}

/** One row by column name, for the one-record parsers. */
function record(header: string, line: string): Record<string, string> {
  const cols = header.split(',');
  const vals = line.split(',');
  return Object.fromEntries(cols.map((c, n) => [c, vals[n] ?? '']));
}

interface Pair {
  name: string;
  dhan: string;
  kite: string;
}

/** Listings of one contract in both masters, under one exchange token. */
const MAPS: (Pair & { kiteSymbol: string; underlying?: string })[] = [
  // Equities: Kite's `name` is the company name, Dhan's SM_SYMBOL_NAME too (and not the same one).
  { name: 'NSE equity INFY', dhan: 'NSE,E,1594,EQUITY,,INFY,1.0,Infosys,,-0.01000,XX,5.0000,NA,ES,EQ,INFOSYS LIMITED', kite: '408065,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE', kiteSymbol: 'INFY' },
  { name: 'NSE equity RELIANCE', dhan: 'NSE,E,2885,EQUITY,,RELIANCE,1.0,Reliance Industries,,-0.01000,XX,5.0000,NA,ES,EQ,RELIANCE INDUSTRIES LTD', kite: '738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE', kiteSymbol: 'RELIANCE' },
  { name: 'NSE equity, BE series (Kite suffixes the series)', dhan: 'NSE,E,16921,EQUITY,,20MICRONS,1.0,20 Microns,,-0.01000,XX,1.0000,NA,ES,BE,20 MICRONS LIMITED', kite: '4331777,16921,20MICRONS-BE,20 MICRONS,0,,0,0.01,1,EQ,NSE,NSE', kiteSymbol: '20MICRONS-BE' },
  { name: 'BSE equity RELIANCE', dhan: 'BSE,E,500325,EQUITY,,RELIANCE,1.0,Reliance Industries,,-0.01000,XX,5.0000,NA,ES,A,RELIANCE INDUSTRIES LTD.', kite: '128083204,500325,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,BSE,BSE', kiteSymbol: 'RELIANCE' },
  { name: 'BSE equity INFY', dhan: 'BSE,E,500209,EQUITY,,INFY,1.0,Infosys,,-0.01000,XX,5.0000,NA,ES,A,INFOSYS LIMITED', kite: '128053508,500209,INFY,INFOSYS,0,,0,0.05,1,EQ,BSE,BSE', kiteSymbol: 'INFY' },
  // NFO: index futures and options (monthly and weekly), stock futures and options.
  { name: 'NFO NIFTY future', dhan: 'NSE,D,48704,FUTIDX,0,NIFTY-Dec2026-FUT,75.0,NIFTY DEC FUT,2026-12-29 14:30:00,-0.01000,XX,10.0000,M,FUT,,', kite: '12468226,48704,NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO', kiteSymbol: 'NIFTY26DECFUT', underlying: 'NIFTY' },
  { name: 'NFO NIFTY monthly call', dhan: 'NSE,D,61345,OPTIDX,0,NIFTY-Dec2026-26000-CE,75.0,NIFTY 29 DEC 26000 CALL,2026-12-29 14:30:00,26000.00000,CE,5.0000,M,OP,,', kite: '15704322,61345,NIFTY26DEC26000CE,NIFTY,0,2026-12-29,26000,0.05,75,CE,NFO-OPT,NFO', kiteSymbol: 'NIFTY26DEC26000CE', underlying: 'NIFTY' },
  { name: 'NFO NIFTY weekly put', dhan: 'NSE,D,44431,OPTIDX,0,NIFTY-Dec2026-26000-PE,75.0,NIFTY 22 DEC 26000 PUT,2026-12-22 14:30:00,26000.00000,PE,5.0000,W,OP,,', kite: '11374338,44431,NIFTY26D2226000PE,NIFTY,0,2026-12-22,26000,0.05,75,PE,NFO-OPT,NFO', kiteSymbol: 'NIFTY26D2226000PE', underlying: 'NIFTY' },
  { name: 'NFO BANKNIFTY future', dhan: 'NSE,D,48699,FUTIDX,0,BANKNIFTY-Dec2026-FUT,30.0,BANKNIFTY DEC FUT,2026-12-29 14:30:00,-0.01000,XX,20.0000,M,FUT,,', kite: '12466946,48699,BANKNIFTY26DECFUT,BANKNIFTY,0,2026-12-29,0,0.2,30,FUT,NFO-FUT,NFO', kiteSymbol: 'BANKNIFTY26DECFUT', underlying: 'BANKNIFTY' },
  { name: 'NFO BANKNIFTY option', dhan: 'NSE,D,35000,OPTIDX,0,BANKNIFTY-Dec2026-60000-CE,30.0,BANKNIFTY 29 DEC 60000 CALL,2026-12-29 14:30:00,60000.00000,CE,5.0000,M,OP,,', kite: '8960002,35000,BANKNIFTY26DEC60000CE,BANKNIFTY,0,2026-12-29,60000,0.05,30,CE,NFO-OPT,NFO', kiteSymbol: 'BANKNIFTY26DEC60000CE', underlying: 'BANKNIFTY' },
  { name: 'NFO stock future RELIANCE', dhan: 'NSE,D,61284,FUTSTK,0,RELIANCE-Dec2026-FUT,500.0,RELIANCE DEC FUT,2026-12-29 14:30:00,-0.01000,XX,10.0000,M,FUT,,', kite: '15688706,61284,RELIANCE26DECFUT,RELIANCE,0,2026-12-29,0,0.1,500,FUT,NFO-FUT,NFO', kiteSymbol: 'RELIANCE26DECFUT', underlying: 'RELIANCE' },
  { name: 'NFO stock future with a hyphen in its underlying (BAJAJ-AUTO)', dhan: 'NSE,D,50001,FUTSTK,0,BAJAJ-AUTO-Dec2026-FUT,75.0,BAJAJ-AUTO DEC FUT,2026-12-29 14:30:00,-0.01000,XX,10.0000,M,FUT,,', kite: '12800258,50001,BAJAJ-AUTO26DECFUT,BAJAJ-AUTO,0,2026-12-29,0,0.5,75,FUT,NFO-FUT,NFO', kiteSymbol: 'BAJAJ-AUTO26DECFUT', underlying: 'BAJAJ-AUTO' },
  { name: 'NFO stock option whose SM_SYMBOL_NAME is a mnemonic (BRITOPT)', dhan: 'NSE,D,62639,OPTSTK,0,BRITANNIA-Dec2026-6000-CE,125.0,BRITANNIA 29 DEC 6000 CALL,2026-12-29 14:30:00,6000.00000,CE,5.0000,M,OP,,BRITOPT', kite: '16035586,62639,BRITANNIA26DEC6000CE,BRITANNIA,0,2026-12-29,6000,0.05,125,CE,NFO-OPT,NFO', kiteSymbol: 'BRITANNIA26DEC6000CE', underlying: 'BRITANNIA' },
  // BFO: SENSEX, whose Dhan rows may name the underlying BSXOPT.
  { name: 'BFO SENSEX option (SM_SYMBOL_NAME BSXOPT)', dhan: 'BSE,D,825614,OPTIDX,0,SENSEX-Dec2026-85000-CE,20.0,SENSEX 24 DEC 85000 CALL,2026-12-24 14:30:00,85000.00000,CE,5.0000,W,OP,,BSXOPT', kite: '211357189,825614,SENSEX26D2485000CE,SENSEX,0,2026-12-24,85000,0.05,20,CE,BFO-OPT,BFO', kiteSymbol: 'SENSEX26D2485000CE', underlying: 'SENSEX' },
  { name: 'BFO SENSEX future', dhan: 'BSE,D,1100470,FUTIDX,0,SENSEX-Dec2026-FUT,20.0,SENSEX DEC FUT,2026-12-24 14:30:00,-0.01000,XX,5.0000,M,FUT,,', kite: '281720325,1100470,SENSEX26DECFUT,SENSEX,0,2026-12-24,0,0.05,20,FUT,BFO-FUT,BFO', kiteSymbol: 'SENSEX26DECFUT', underlying: 'SENSEX' },
  // MCX: Dhan dates commodity contracts to the day.
  { name: 'MCX CRUDEOIL future', dhan: 'MCX,M,472789,FUTCOM,0,CRUDEOIL-18Dec2026-FUT,100.0,CRUDEOIL DEC FUT,2026-12-18 23:30:00,-0.01000,XX,100.0000,M,FUTCOM,,CRUDEOIL', kite: '121033991,472789,CRUDEOIL26DECFUT,CRUDEOIL,0,2026-12-18,0,1,100,FUT,MCX-FUT,MCX', kiteSymbol: 'CRUDEOIL26DECFUT', underlying: 'CRUDEOIL' },
  { name: 'MCX CRUDEOIL option', dhan: 'MCX,M,472801,OPTFUT,0,CRUDEOIL-16Dec2026-5600-CE,100.0,CRUDEOIL 16 DEC 5600 CALL,2026-12-16 23:30:00,5600.00000,CE,10.0000,M,OPTFUT,,CRUDEOIL', kite: '121037063,472801,CRUDEOIL26DEC5600CE,CRUDEOIL,0,2026-12-16,5600,0.1,100,CE,MCX-OPT,MCX', kiteSymbol: 'CRUDEOIL26DEC5600CE', underlying: 'CRUDEOIL' },
  // CDS.
  { name: 'CDS USDINR future', dhan: 'NSE,C,10093,FUTCUR,0,USDINR-Dec2026-FUT,1000.0,USDINR DEC FUT,2026-12-29 12:00:00,-0.01000,XX,0.2500,M,FUTCUR,,USDINR', kite: '2583811,10093,USDINR26DECFUT,USDINR,0,2026-12-29,0,0.0025,1,FUT,CDS-FUT,CDS', kiteSymbol: 'USDINR26DECFUT', underlying: 'USDINR' },
];

/** Two listings under one exchange token that are not the same contract: refused, with the reason. */
const REFUSED: (Pair & { reason: RegExp })[] = [
  // A symbol change one master has and the other not yet (ZOMATO → ETERNAL kept NSE token 5097).
  { name: 'NSE equity, different symbol', dhan: 'NSE,E,5097,EQUITY,,ZOMATO,1.0,Zomato,,-0.01000,XX,1.0000,NA,ES,EQ,ZOMATO LIMITED', kite: '1304833,5097,ETERNAL,ETERNAL,0,,0,0.01,1,EQ,NSE,NSE', reason: /^ZOMATO does not map to kite ETERNAL: trading symbol differs \(ZOMATO vs ETERNAL\)$/ },
  { name: 'NSE equity, a series suffix on another symbol', dhan: 'NSE,E,16921,EQUITY,,20MICRONS,1.0,20 Microns,,-0.01000,XX,1.0000,NA,ES,BE,20 MICRONS LIMITED', kite: '4331777,16921,21STCENMGM-BE,21ST CENTURY MGMT,0,,0,0.01,1,EQ,NSE,NSE', reason: /trading symbol differs \(20MICRONS vs 21STCENMGM-BE\)$/ },
  { name: 'BSE equity, different symbol', dhan: 'BSE,E,500209,EQUITY,,INFY,1.0,Infosys,,-0.01000,XX,5.0000,NA,ES,A,INFOSYS LIMITED', kite: '128053508,500209,INFOSYSLTD,INFOSYS,0,,0,0.05,1,EQ,BSE,BSE', reason: /trading symbol differs \(INFY vs INFOSYSLTD\)$/ },
  { name: 'NFO option, different strike', dhan: 'NSE,D,61345,OPTIDX,0,NIFTY-Dec2026-26000-CE,75.0,NIFTY 29 DEC 26000 CALL,2026-12-29 14:30:00,26000.00000,CE,5.0000,M,OP,,', kite: '15704322,61345,NIFTY26DEC26100CE,NIFTY,0,2026-12-29,26100,0.05,75,CE,NFO-OPT,NFO', reason: /strike differs \(26000 vs 26100\)$/ },
  { name: 'NFO option, different expiry', dhan: 'NSE,D,61345,OPTIDX,0,NIFTY-Dec2026-26000-CE,75.0,NIFTY 29 DEC 26000 CALL,2026-12-29 14:30:00,26000.00000,CE,5.0000,M,OP,,', kite: '15704322,61345,NIFTY26D2226000CE,NIFTY,0,2026-12-22,26000,0.05,75,CE,NFO-OPT,NFO', reason: /expiry differs \(2026-12-29 vs 2026-12-22\)$/ },
  { name: 'NFO option, different option type', dhan: 'NSE,D,61345,OPTIDX,0,NIFTY-Dec2026-26000-CE,75.0,NIFTY 29 DEC 26000 CALL,2026-12-29 14:30:00,26000.00000,CE,5.0000,M,OP,,', kite: '15704322,61345,NIFTY26DEC26000PE,NIFTY,0,2026-12-29,26000,0.05,75,PE,NFO-OPT,NFO', reason: /option type differs \(CE vs PE\)$/ },
  { name: 'NFO option vs future', dhan: 'NSE,D,61345,OPTIDX,0,NIFTY-Dec2026-26000-CE,75.0,NIFTY 29 DEC 26000 CALL,2026-12-29 14:30:00,26000.00000,CE,5.0000,M,OP,,', kite: '15704322,61345,NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO', reason: /option type differs \(CE vs none\)$/ },
  { name: 'NFO future, different underlying', dhan: 'NSE,D,48704,FUTIDX,0,NIFTY-Dec2026-FUT,75.0,NIFTY DEC FUT,2026-12-29 14:30:00,-0.01000,XX,10.0000,M,FUT,,', kite: '12468226,48704,FINNIFTY26DECFUT,FINNIFTY,0,2026-12-29,0,0.1,65,FUT,NFO-FUT,NFO', reason: /underlying differs \(NIFTY vs FINNIFTY\)$/ },
  { name: 'BFO option, different strike', dhan: 'BSE,D,825614,OPTIDX,0,SENSEX-Dec2026-85000-CE,20.0,SENSEX 24 DEC 85000 CALL,2026-12-24 14:30:00,85000.00000,CE,5.0000,W,OP,,BSXOPT', kite: '211357189,825614,SENSEX26D2485100CE,SENSEX,0,2026-12-24,85100,0.05,20,CE,BFO-OPT,BFO', reason: /strike differs \(85000 vs 85100\)$/ },
  { name: 'MCX future, different expiry', dhan: 'MCX,M,472789,FUTCOM,0,CRUDEOIL-18Dec2026-FUT,100.0,CRUDEOIL DEC FUT,2026-12-18 23:30:00,-0.01000,XX,100.0000,M,FUTCOM,,CRUDEOIL', kite: '121033991,472789,CRUDEOIL27JANFUT,CRUDEOIL,0,2027-01-19,0,1,100,FUT,MCX-FUT,MCX', reason: /expiry differs \(2026-12-18 vs 2027-01-19\)$/ },
];

async function resolverOf(dhanRows: readonly string[], kiteRows: readonly string[]): Promise<{ r: InstrumentResolver; dhan: Instrument[]; kite: Instrument[] }> {
  const dhan = await dhanMaster(dhanRows);
  const kite = await kiteMaster(kiteRows);
  const r = new InstrumentResolver(null);
  r.register('dhan', dhan);
  r.register('kite', kite);
  return { r, dhan, kite };
}

const alnum = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

describe('Dhan ↔ Kite instrument gate, by segment, on real-shaped master rows', () => {
  it.each(MAPS)('maps: $name', async ({ dhan: dRow, kite: kRow, kiteSymbol, underlying }) => {
    const { r, dhan, kite } = await resolverOf([dRow], [kRow]);
    expect(dhan).toHaveLength(1);
    expect(kite).toHaveLength(1);
    const d = dhan[0]!;
    const k = kite[0]!;
    expect(d.securityId).toBe(k.securityId);
    expect(d.segment).toBe(k.segment);

    // Dhan leader → Kite follower: the follower trades Kite's listing.
    const res = r.resolve('dhan', 'kite', { segment: d.segment, securityId: d.securityId, symbol: d.symbol });
    expect(res).toEqual({ ok: true, instrument: k });
    expect(k.symbol).toBe(kiteSymbol);
    // Kite leader → Dhan follower maps the same pair.
    expect(r.resolve('kite', 'dhan', { segment: k.segment, securityId: k.securityId, symbol: k.symbol })).toEqual({ ok: true, instrument: d });

    // Derivatives: the underlyings agree exactly, not by the check's prefix tolerance.
    if (underlying) {
      expect(d.name).toBe(underlying);
      expect(alnum(d.name)).toBe(alnum(k.name));
    }
  });

  it.each(REFUSED)('refuses: $name', async ({ dhan: dRow, kite: kRow, reason }) => {
    const { r, dhan, kite } = await resolverOf([dRow], [kRow]);
    const d = dhan[0]!;
    const res = r.resolve('dhan', 'kite', { segment: d.segment, securityId: d.securityId, symbol: d.symbol });
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.reason).toMatch(reason);
    // And the other way round.
    const k = kite[0]!;
    expect(r.resolve('kite', 'dhan', { segment: k.segment, securityId: k.securityId, symbol: k.symbol }).ok).toBe(false);
  });

  it('whole masters: every Dhan listing resolves to its Kite partner, none to another', async () => {
    const { r, dhan } = await resolverOf(MAPS.map((m) => m.dhan), MAPS.map((m) => m.kite));
    expect(dhan).toHaveLength(MAPS.length);
    const got = dhan.map((d) => {
      const res = r.resolve('dhan', 'kite', { segment: d.segment, securityId: d.securityId, symbol: d.symbol });
      return res.ok ? res.instrument.symbol : res.reason;
    });
    expect(got).toEqual(MAPS.map((m) => m.kiteSymbol));
  });

  it('the one-record parsers read the same rows as the streaming path (INFY on both masters)', () => {
    const d = dhanInstrumentOfCsv(record(DHAN_HEADER, MAPS[0]!.dhan));
    const k = instrumentFromKiteCsv(record(KITE_HEADER, MAPS[0]!.kite));
    expect(d).toMatchObject({ segment: 'NSE_EQ', securityId: '1594', symbol: 'INFY', name: 'INFY' });
    expect(k).toMatchObject({ segment: 'NSE_EQ', securityId: '1594', symbol: 'INFY', name: 'INFOSYS' });
    expect(mappingMismatch(d!, k!)).toBeNull();
  });

  it('an equity is not compared by name: INFY vs INFOSYS was the refusal of issue 15', () => {
    const d = dhanInstrumentOfCsv(record(DHAN_HEADER, MAPS[0]!.dhan))!;
    const k = instrumentFromKiteCsv(record(KITE_HEADER, MAPS[0]!.kite))!;
    expect(d.name).not.toBe(k.name);
    expect(mappingMismatch(d, { ...k, name: 'SOMETHING ELSE ENTIRELY' })).toBeNull();
    expect(mappingMismatch(d, { ...k, securityId: '1595' })).toBe('exchange token differs (1594 vs 1595)');
  });
});

describe('an equity the leader master does not list', () => {
  it("is checked against the leader order's own symbol: a token listed under another symbol is refused", async () => {
    const { r, kite } = await resolverOf([], [MAPS[0]!.kite]);
    const k = kite[0]!;
    expect(r.resolve('dhan', 'kite', { segment: 'NSE_EQ', securityId: k.securityId, symbol: 'INFY' })).toEqual({ ok: true, instrument: k });
    const refused = r.resolve('dhan', 'kite', { segment: 'NSE_EQ', securityId: k.securityId, symbol: 'TCS' });
    expect(refused).toEqual({ ok: false, reason: 'TCS does not map to kite INFY: trading symbol differs (TCS vs INFY)' });
  });
});

describe('sameEquitySymbol', () => {
  it.each<{ a: string; b: string; same: boolean }>([
    { a: 'INFY', b: 'INFY', same: true },
    { a: 'infy', b: 'INFY', same: true },
    { a: 'M&M', b: 'M&M', same: true },
    { a: 'BAJAJ-AUTO', b: 'BAJAJ-AUTO', same: true },
    { a: 'MCDOWELL-N', b: 'MCDOWELL-N', same: true },
    // Kite's series suffix, the other side bare (Dhan keeps the series in SEM_SERIES).
    { a: 'KEC', b: 'KEC-BE', same: true },
    { a: 'IDEA-BZ', b: 'IDEA', same: true },
    { a: 'GOLDSTAR', b: 'GOLDSTAR-SM', same: true },
    { a: 'SHREEOSFM', b: 'SHREEOSFM-ST', same: true },
    // Not the same symbol.
    { a: 'INFY', b: 'INFOSYS', same: false },
    { a: 'KEC', b: 'KECL-BE', same: false },
    { a: 'KEC-BE', b: 'KEC-BZ', same: false },
    { a: 'BAJAJ-AUTO', b: 'BAJAJ', same: false },
    { a: 'MCDOWELL-N', b: 'MCDOWELL', same: false },
  ])('$a vs $b → $same', ({ a, b, same }) => {
    expect(sameEquitySymbol(a, b)).toBe(same);
    expect(sameEquitySymbol(b, a)).toBe(same);
  });
});
