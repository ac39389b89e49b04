/**
 * WAL checkpoints on a worker thread: the app's connection never checkpoints inside a commit, the
 * worker moves the WAL's pages into the database file, and close() is clean (the WAL is gone).
 */
import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';
import { until } from '../chaos/world.js';

describe('background WAL checkpoints', () => {
  it('the worker checkpoints what the main connection writes; close leaves no WAL behind', async () => {
    const path = tempDbPath();
    const store = Store.open(path, { backgroundCheckpoint: true });
    const before = statSync(path).size;
    // About 2 MB of audit rows: well past the 1,000-page automatic threshold, which is off.
    store.tx(() => {
      for (let i = 0; i < 2_000; i += 1) store.audit.record({ at: i, role: 'admin', action: 'x'.repeat(1_000), outcome: 'ok' });
    });
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000);
    await until(() => statSync(path).size > before + 1_000_000, 'the worker checkpoint', 10_000);
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});
