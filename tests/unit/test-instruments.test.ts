/** The fakes share one instrument universe: the Kite fake's list must not drift from the Dhan fake's. */
import { describe, expect, it } from 'vitest';
import { TEST_INSTRUMENTS } from '../fakes/instruments.js';
import { DHAN_FAKE_TRADABLE, DHAN_SCRIP_MASTER_HEADER, scripMasterLine } from '../fakes/dhan/instruments.js';
import { KITE_CSV_HEADER, kiteCsvLine } from '../fakes/kite-wire.js';
import { dhanInstrumentOfCsv } from '../../src/brokers/dhan/dhan-instruments.js';
import { instrumentFromKiteCsv } from '../../src/brokers/kite/kite-instruments.js';
import { isDerivative, mappingMismatch } from '../../src/domain/instrument.js';

/** One CSV line of a fake's master as a record by column name (the fakes quote no field with a comma here). */
function record(header: string, line: string): Record<string, string> {
  const vals = line.split(',');
  return Object.fromEntries(header.split(',').map((c, n) => [c, vals[n] ?? '']));
}

describe('shared test instruments', () => {
  it('lists every Dhan fake contract under the same token, lot, expiry, strike and option type', () => {
    const key = (i: { segment: string; securityId: string }) => `${i.segment}:${i.securityId}`;
    const ours = new Map(TEST_INSTRUMENTS.map((i) => [key(i), i]));
    expect(ours.size).toBe(TEST_INSTRUMENTS.length);
    for (const d of DHAN_FAKE_TRADABLE) {
      const t = ours.get(key(d));
      expect(t, `${key(d)} ${d.symbol}`).toBeDefined();
      expect({ lot: t?.lotSize, expiry: t?.expiry, strike: t?.strike, opt: t?.optionType, dhanSymbol: t?.dhan.tradingSymbol }, d.symbol).toEqual({
        lot: d.lotSize, expiry: d.expiry, strike: d.strike, opt: d.optionType, dhanSymbol: d.symbol,
      });
    }
  });

  it('keeps exactly one contract out of Kite (the unmappable case) and derives Kite tokens from exchange tokens', () => {
    expect(TEST_INSTRUMENTS.filter((i) => i.kite === null).map((i) => i.key)).toEqual(['SENSEX_85000_CE']);
    const segId: Record<string, number> = { NSE: 1, NFO: 2, CDS: 3, BSE: 4, BFO: 5, MCX: 7 };
    for (const i of TEST_INSTRUMENTS) {
      if (!i.kite) continue;
      expect(i.kite.instrumentToken, i.key).toBe(Number(i.securityId) * 256 + (segId[i.kite.exchange] ?? -1));
    }
  });

  it('lists equities in Kite as Kite does (name = company name, not the symbol), and every pair passes the instrument gate', () => {
    for (const t of TEST_INSTRUMENTS) {
      if (!t.kite) continue;
      const d = DHAN_FAKE_TRADABLE.find((x) => x.segment === t.segment && x.securityId === t.securityId);
      expect(d, t.key).toBeDefined();
      const dhan = dhanInstrumentOfCsv(record(DHAN_SCRIP_MASTER_HEADER, scripMasterLine(d!)));
      const kite = instrumentFromKiteCsv(record(KITE_CSV_HEADER, kiteCsvLine(t)!));
      expect(dhan && kite, t.key).toBeTruthy();
      if (!isDerivative(t.segment)) expect(kite!.name, `${t.key}: Kite names an equity by its company`).not.toBe(kite!.symbol);
      expect(mappingMismatch(dhan!, kite!), t.key).toBeNull();
      expect(mappingMismatch(kite!, dhan!), t.key).toBeNull();
    }
  });
});
