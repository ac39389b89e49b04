/**
 * TurnWrites (src/engine/turn-writes.ts) on a real SQLite file: the writes of one turn resolve only
 * once committed (a second connection sees them), one that throws fails alone, and the others land.
 */
import { describe, expect, it } from 'vitest';
import { TurnWrites } from '../../src/engine/turn-writes.js';
import { committedSetting, storeFiles } from '../support/store-file.js';

const open = storeFiles();
const committed = committedSetting;

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
