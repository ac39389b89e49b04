/**
 * TurnWrites (src/engine/turn-writes.ts) on a real SQLite file: the writes of one turn resolve only
 * once committed (a second connection sees them), one that throws fails alone, and the others land.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnWrites } from '../../src/engine/turn-writes.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

let stores: Store[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  stores = [];
});

function open(): { store: Store; path: string } {
  const path = tempDbPath();
  const store = Store.open(path);
  stores.push(store);
  return { store, path };
}

/** What another connection (another process, a restart) reads: only committed rows. */
function committed(path: string, key: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? JSON.parse(row.value) : undefined;
  } finally {
    db.close();
  }
}

describe('TurnWrites', () => {
  it('writes of one turn resolve once committed, each with its own result', async () => {
    const { store, path } = open();
    const w = new TurnWrites(store);
    const writes = [1, 2, 3].map((i) =>
      w.run(() => {
        store.settings.set(`k${i}`, i * 10, 1, null);
        return i;
      }),
    );
    // Nothing is written before the turn ends.
    expect(committed(path, 'k1')).toBeUndefined();
    expect(await Promise.all(writes)).toEqual([1, 2, 3]);
    expect([committed(path, 'k1'), committed(path, 'k2'), committed(path, 'k3')]).toEqual([10, 20, 30]);
  });

  it('a write that throws fails alone: its own changes are rolled back, the others land', async () => {
    const { store, path } = open();
    const w = new TurnWrites(store);
    const ok1 = w.run(() => store.settings.set('a', 1, 1, null));
    const bad = w.run(() => {
      store.settings.set('b', 2, 1, null);
      throw new Error('boom');
    });
    const ok2 = w.run(() => store.settings.set('c', 3, 1, null));
    await expect(bad).rejects.toThrow('boom');
    await Promise.all([ok1, ok2]);
    expect([committed(path, 'a'), committed(path, 'b'), committed(path, 'c')]).toEqual([1, undefined, 3]);
  });
});
