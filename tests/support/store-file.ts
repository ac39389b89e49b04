/**
 * A Store on a real SQLite file for unit tests, closed after each test, and what another
 * connection (another process, a restart) reads of it: only committed rows.
 */
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

/** Registers the closing; returns a function that opens a store on a fresh file. */
export function storeFiles(): () => { store: Store; path: string } {
  let stores: Store[] = [];
  afterEach(() => {
    for (const s of stores) s.close();
    stores = [];
  });
  return () => {
    const path = tempDbPath();
    const store = Store.open(path);
    stores.push(store);
    return { store, path };
  };
}

/** A setting as committed in the file (JSON-decoded), read through a connection of its own. */
export function committedSetting(path: string, key: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? JSON.parse(row.value) : undefined;
  } finally {
    db.close();
  }
}
