import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Instrument } from '../../src/domain/instrument.js';
import type { Segment } from '../../src/domain/order.js';
import { REBUILD_INDEXES_FROM } from '../../src/store/instrument-repo.js';
import { Store } from '../../src/store/index.js';

const option = (n: number, segment: Segment = 'NSE_FNO'): Instrument => ({
  segment,
  securityId: String(900_000 + n),
  symbol: `NIFTY-Jan2027-${20_000 + 50 * Math.floor(n / 2)}-${n % 2 ? 'PE' : 'CE'}`,
  name: 'NIFTY',
  lotSize: 75,
  tickSize: 0.05,
  expiry: '2027-01-26',
  strike: 20_000 + 50 * Math.floor(n / 2),
  optionType: n % 2 ? 'PE' : 'CE',
  freezeQty: null,
});

/** A deterministic shuffle, so the rows reach the store out of key order. */
function shuffled<T>(xs: T[]): T[] {
  const out = xs.slice();
  let s = 42;
  for (let i = out.length - 1; i > 0; i -= 1) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('InstrumentRepo.replaceAll', () => {
  let dir: string;
  let path: string;
  let store: Store;
  const schemaOf = () => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'instruments' ORDER BY name`).all();
    } finally {
      db.close();
    }
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-instr-repo-'));
    path = join(dir, 'tandem.db');
    store = Store.open(path);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a big master exactly, out-of-order input included, and leaves the schema and other brokers as they were', () => {
    const schema = schemaOf();
    store.instruments.replaceAll('kite', [option(1), option(2)], 1);
    const n = REBUILD_INDEXES_FROM + 123; // past the index rebuild threshold, and not a whole number of INSERT batches
    const rows = shuffled(Array.from({ length: n }, (_, i) => option(i)));
    expect(store.instruments.replaceAll('dhan', rows, 2)).toBe(n);

    expect(schemaOf()).toEqual(schema);
    expect(store.instruments.count('dhan')).toBe(n);
    expect(store.instruments.count('kite')).toBe(2);
    for (const i of [0, 1, 777, n - 1]) {
      expect(store.instruments.get('dhan', 'NSE_FNO', option(i).securityId)).toEqual(option(i));
      expect(store.instruments.bySymbol('dhan', 'NSE_FNO', option(i).symbol)).toEqual(option(i));
    }
    expect(store.instruments.bySymbol('kite', 'NSE_FNO', option(2).symbol)).toEqual(option(2));
    expect(store.instruments.lastUpdated('dhan')).toBe(2);
  });

  it('replaces, never adds to, the master; a repeated key keeps its first row', () => {
    store.instruments.replaceAll('dhan', Array.from({ length: 300 }, (_, i) => option(i)), 1);
    const first = { ...option(5), lotSize: 50 };
    const again = [first, option(6), { ...option(5), lotSize: 25 }, { ...option(7), name: 'X', freezeQty: 1800 }];
    expect(store.instruments.replaceAll('dhan', again, 3)).toBe(4);
    expect(store.instruments.count('dhan')).toBe(3);
    expect(store.instruments.get('dhan', 'NSE_FNO', option(5).securityId)?.lotSize).toBe(50);
    expect(store.instruments.get('dhan', 'NSE_FNO', option(7).securityId)).toEqual({ ...option(7), name: 'X', freezeQty: 1800 });
    expect(store.instruments.get('dhan', 'NSE_FNO', option(8).securityId)).toBeUndefined();
  });

  it('accepts any iterable', () => {
    function* rows() {
      for (let i = 0; i < 120; i += 1) yield option(i);
    }
    expect(store.instruments.replaceAll('dhan', rows(), 1)).toBe(120);
    expect(store.instruments.count('dhan')).toBe(120);
  });

  const tempTables = () => (store as unknown as { opened: { sqlite: Database.Database } }).opened.sqlite.prepare(`SELECT name FROM sqlite_temp_master WHERE type = 'table'`).all();

  it('stages a load out of sight: readers keep the old master until commit, and an abort keeps it for good', () => {
    store.instruments.replaceAll('dhan', [option(1), option(2)], 1);
    const aborted = store.instruments.beginLoad('dhan');
    aborted.add([option(3)]);
    aborted.add([option(4), option(5)]);
    expect(aborted.count).toBe(3);
    expect(store.instruments.count('dhan')).toBe(2);
    aborted.abort();
    expect(store.instruments.count('dhan')).toBe(2);
    expect(tempTables()).toEqual([]);
    expect(() => aborted.add([option(6)])).toThrow(/already committed or aborted/);

    const load = store.instruments.beginLoad('dhan');
    const other = store.instruments.beginLoad('kite'); // two loads at once stay apart
    load.add(Array.from({ length: 130 }, (_, i) => option(i + 10)));
    other.add([option(99)]);
    expect(store.instruments.get('dhan', 'NSE_FNO', option(10).securityId)).toBeUndefined();
    expect(load.commit(7)).toBe(130);
    load.abort(); // a no-op after commit
    expect(store.instruments.count('dhan')).toBe(130);
    expect(store.instruments.get('dhan', 'NSE_FNO', option(1).securityId)).toBeUndefined();
    expect(store.instruments.get('dhan', 'NSE_FNO', option(139).securityId)).toEqual(option(139));
    expect(store.instruments.count('kite')).toBe(0);
    expect(other.commit(8)).toBe(1);
    expect(store.instruments.count('kite')).toBe(1);
    expect(tempTables()).toEqual([]);
  });

  it('a load whose commit fails leaves the stored master as it was', () => {
    store.instruments.replaceAll('dhan', [option(1)], 1);
    const load = store.instruments.beginLoad('dhan');
    load.add([option(2), { ...option(3), symbol: null as unknown as string }]); // NOT NULL: the copy fails
    expect(() => load.commit(2)).toThrow(/NOT NULL/);
    load.abort();
    expect(store.instruments.count('dhan')).toBe(1);
    expect(store.instruments.get('dhan', 'NSE_FNO', option(1).securityId)).toEqual(option(1));
  });
});
