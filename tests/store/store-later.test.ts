/**
 * Store.later (src/store/index.ts) on a real SQLite file: a write that needs no commit of its own
 * rides in the next transaction, or is committed by a timer, or at close; one that throws fails
 * alone; one rolled back with its host waits for the next commit. What another connection (another
 * process, a restart) reads is what is asserted: only committed rows.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATER_MS } from '../../src/store/index.js';
import { committedSetting, storeFiles } from '../support/store-file.js';

const open = storeFiles();
const committed = committedSetting;

const fail = (err: unknown) => {
  throw err;
};

describe('Store.later', () => {
  it('rides in the next transaction, before its own writes, and makes no commit of its own', () => {
    const { store, path } = open();
    store.later(() => store.settings.set('a', 1, 1, null), fail);
    store.later(() => store.settings.set('b', 1, 1, null), fail);
    expect(committed(path, 'a')).toBeUndefined();
    const written: unknown[] = [];
    store.tx(() => {
      // The riders ran first: the host sees them, and its own write of the same key wins.
      written.push(store.settings.get('a'), store.settings.get('b'));
      store.settings.set('b', 2, 1, null);
    });
    expect(written).toEqual([1, 1]);
    expect([committed(path, 'a'), committed(path, 'b')]).toEqual([1, 2]);
  });

  it('is committed within LATER_MS when no transaction comes', async () => {
    const { store, path } = open();
    store.later(() => store.settings.set('t', 7, 1, null), fail);
    const t0 = performance.now();
    while (committed(path, 't') === undefined) {
      expect(performance.now() - t0).toBeLessThan(LATER_MS + 2000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(committed(path, 't')).toBe(7);
  });

  it('is committed at close', () => {
    const { store, path } = open();
    store.later(() => store.settings.set('c', 3, 1, null), fail);
    store.close();
    expect(committed(path, 'c')).toBe(3);
  });

  it('one that throws is undone alone and told to its owner; the others and the host land', () => {
    const { store, path } = open();
    const errors: string[] = [];
    store.later(() => store.settings.set('x', 1, 1, null), fail);
    store.later(
      () => {
        store.settings.set('y', 1, 1, null);
        throw new Error('boom');
      },
      (e) => errors.push((e as Error).message),
    );
    store.later(() => store.settings.set('z', 1, 1, null), fail);
    store.tx(() => store.settings.set('h', 1, 1, null));
    expect(errors).toEqual(['boom']);
    expect([committed(path, 'x'), committed(path, 'y'), committed(path, 'z'), committed(path, 'h')]).toEqual([1, undefined, 1, 1]);
  });

  it('rolled back with a host that throws, it waits for the next transaction', () => {
    const { store, path } = open();
    store.later(() => store.settings.set('r', 1, 1, null), fail);
    expect(() =>
      store.tx(() => {
        throw new Error('host fails');
      }),
    ).toThrow('host fails');
    expect(committed(path, 'r')).toBeUndefined();
    store.tx(() => store.settings.set('next', 1, 1, null));
    expect(committed(path, 'r')).toBe(1);
  });

  it('inside a transaction already, a later write waits for the next top-level one', () => {
    const { store, path } = open();
    store.tx(() => {
      store.later(() => store.settings.set('inner', 1, 1, null), fail);
      store.tx(() => store.settings.set('nested', 1, 1, null));
    });
    expect(committed(path, 'nested')).toBe(1);
    expect(committed(path, 'inner')).toBeUndefined();
    store.flushLater();
    expect(committed(path, 'inner')).toBe(1);
  });
});

describe('Store.later, when SQLite rolls the whole transaction back under a rider (disk full, I/O error)', () => {
  it('that rider is dropped and its owner told; the others wait again, and the host commits alone, once', () => {
    const { store, path } = open();
    const sqlite = (store as unknown as { opened: { sqlite: Database.Database } }).opened.sqlite;
    const errors: string[] = [];
    store.later(() => store.settings.set('before', 1, 1, null), fail);
    store.later(
      () => {
        // What SQLITE_FULL or SQLITE_IOERR do: the whole transaction is gone, then the statement fails.
        sqlite.exec('ROLLBACK');
        throw new Error('database or disk is full');
      },
      (e) => errors.push((e as Error).message),
    );
    store.later(() => store.settings.set('after', 1, 1, null), fail);
    let hostRuns = 0;
    store.tx(() => {
      hostRuns += 1;
      store.settings.set('host', 1, 1, null);
    });
    expect(errors).toEqual(['database or disk is full']);
    expect(hostRuns).toBe(1);
    expect(committed(path, 'host')).toBe(1);
    // Rolled back with the failed attempt, they wait for the next transaction: no later write poisons the ones after it.
    expect([committed(path, 'before'), committed(path, 'after')]).toEqual([undefined, undefined]);
    store.tx(() => store.settings.set('next', 1, 1, null));
    expect([committed(path, 'before'), committed(path, 'after'), committed(path, 'next')]).toEqual([1, 1, 1]);
    expect(errors).toHaveLength(1);
  });
});

describe('Store.txNow', () => {
  it('commits its own writes only: the later writes waiting stay for the next transaction', () => {
    const { store, path } = open();
    store.later(() => store.settings.set('rider', 1, 1, null), fail);
    store.txNow(() => store.settings.set('hot', 1, 1, null));
    expect(committed(path, 'hot')).toBe(1);
    expect(committed(path, 'rider')).toBeUndefined();
    store.tx(() => store.settings.set('next', 1, 1, null));
    expect(committed(path, 'rider')).toBe(1);
  });
});
