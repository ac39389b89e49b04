/**
 * StreamUpdateBatch (follower stream updates of one event-loop turn in one transaction) on a real
 * SQLite file: when SQLite itself rolls the shared transaction back in the middle (disk full, an I/O
 * error), the batch must not go on with the rest in autocommit — those would commit alone, and the
 * replay would find them recorded and skip their effects (the position book falling behind the
 * fills). Every update is applied alone instead, effects included, each counted once.
 */
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/brokers/port.js';
import type { FollowerConfig } from '../../src/config.js';
import type { BrokerOrder } from '../../src/domain/order.js';
import { FollowerRuntime } from '../../src/engine/follower.js';
import { StreamUpdateBatch, type FollowerUpdateDeps } from '../../src/engine/follower-updates.js';
import { PositionBook } from '../../src/engine/positions.js';
import { ManualClock } from '../../src/infra/clock.js';
import { PriceBoard } from '../../src/infra/price-board.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

const INST = { segment: 'NSE_FNO', securityId: '35001', symbol: 'NIFTY 24500 CE' } as BrokerOrder['instrument'];
const filled = (orderId: string): BrokerOrder => ({
  orderId, tag: null, status: 'filled', instrument: INST, side: 'BUY', orderType: 'LIMIT', product: 'INTRADAY', validity: 'DAY', amo: false,
  quantity: 75, filledQty: 75, avgPrice: 100, price: 100, triggerPrice: 0, reason: null, exchangeTime: null,
});

let stores: Store[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  stores = [];
});

function world() {
  const store = Store.open(tempDbPath());
  stores.push(store);
  const positions = new PositionBook();
  const d: FollowerUpdateDeps = { store, clock: new ManualClock(Date.UTC(2026, 11, 4, 5, 0)), positions, prices: new PriceBoard(), events: { emit: () => {} }, consequence: () => '' };
  const f = new FollowerRuntime({ id: 'mom', ordersPerSecond: 10 } as FollowerConfig, { kind: 'paper' } as Broker);
  const errors: string[] = [];
  const batch = new StreamUpdateBatch(d, (err) => errors.push((err as Error).message));
  const sqlite = (store as unknown as { opened: { sqlite: Database.Database } }).opened.sqlite;
  return { store, positions, f, batch, errors, sqlite };
}

describe('StreamUpdateBatch', () => {
  it('flushed right before a leader event, no later write rides in its commit; flushed otherwise, they do', () => {
    const { store, positions, f, batch, sqlite } = world();
    const setting = (k: string) => sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(k);
    store.later(() => store.settings.set('rider', 1, 1, null), (e) => {
      throw e;
    });
    for (const id of ['O1', 'O2']) batch.push(f, filled(id));
    batch.flush(true);
    expect(positions.get('mom', INST, 'INTRADAY')).toBe(150);
    expect(setting('rider')).toBeUndefined();
    batch.push(f, filled('O3'));
    batch.flush();
    expect(positions.get('mom', INST, 'INTRADAY')).toBe(225);
    expect(setting('rider')).toBeDefined();
  });

  it('three fills in one turn: one transaction, each counted once', () => {
    const { store, positions, f, batch } = world();
    for (const id of ['O1', 'O2', 'O3']) batch.push(f, filled(id));
    batch.flush();
    expect(positions.get('mom', INST, 'INTRADAY')).toBe(225);
    expect(store.fills.since('mom', 0)).toHaveLength(3);
  });

  it('SQLite rolls the shared transaction back at the second update: all three are applied alone, each counted once, none lost', () => {
    const { store, positions, f, batch, errors, sqlite } = world();
    const upsert = store.copies.upsertFollowerOrder.bind(store.copies);
    let sabotaged = false;
    store.copies.upsertFollowerOrder = (row) => {
      if (row.orderId === 'O2' && !sabotaged) {
        sabotaged = true;
        // What SQLITE_FULL or SQLITE_IOERR do: the whole transaction is gone, then the statement fails.
        sqlite.exec('ROLLBACK');
        throw new Error('database or disk is full');
      }
      upsert(row);
    };
    for (const id of ['O1', 'O2', 'O3']) batch.push(f, filled(id));
    batch.flush();
    expect(errors[0]).toBe('database or disk is full');
    expect(store.fills.since('mom', 0).map((x) => x.orderId).sort()).toEqual(['O1', 'O2', 'O3']);
    // The position book agrees with the fills table: every fill moved it once.
    expect(positions.get('mom', INST, 'INTRADAY')).toBe(225);
    expect(sqlite.inTransaction).toBe(false);
  });
});
