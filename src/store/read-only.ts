/**
 * Reads of the database by another process (the `--health` check): the file is opened read-only,
 * never created, migrated or written, and closed before returning.
 */
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { settings } from './schema.js';

/** One settings row of the database at `file` (which must exist), or undefined when it has none. Throws what SQLite throws. */
export function readSetting(file: string, key: string, timeoutMs = 2_000): { value: unknown; updatedAt: number } | undefined {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true, timeout: timeoutMs });
  try {
    const row = drizzle(sqlite).select().from(settings).where(eq(settings.key, key)).get();
    return row ? { value: row.value, updatedAt: row.updatedAt } : undefined;
  } finally {
    sqlite.close();
  }
}
