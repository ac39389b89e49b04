/**
 * Open the SQLite file (created with mode 0600), set the pragmas, apply the committed migrations.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { startCheckpointer } from './checkpointer.js';

export type Db = BetterSQLite3Database<typeof schema>;

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface OpenedDb {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

export interface OpenOptions {
  /** Run WAL checkpoints on a worker thread instead of inside commits (the app does; see checkpointer.ts). */
  backgroundCheckpoint?: boolean;
  /** Called if the checkpoint worker fails (checkpoints fall back to SQLite's automatic ones). */
  onCheckpointError?: (e: Error) => void;
}

export function openDatabase(path: string, migrationsDir = MIGRATIONS_DIR, opts: OpenOptions = {}): OpenedDb {
  if (path !== ':memory:') {
    const file = resolve(path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL: commits survive a process crash, and no fsync sits on the hot path. What a power cut
  // may lose is covered by the brokers' own record, read at start-up (see engine/claims.ts).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: migrationsDir });
  const checkpointer = opts.backgroundCheckpoint && path !== ':memory:' ? startCheckpointer(sqlite, resolve(path), 1_000, opts.onCheckpointError) : null;
  let closed = false;
  return {
    db,
    sqlite,
    close() {
      if (closed) return;
      closed = true;
      checkpointer?.stop();
      sqlite.close();
    },
  };
}
