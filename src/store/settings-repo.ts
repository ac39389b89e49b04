/** Runtime settings that survive a restart (pause state, ratios set from the chat). */
import { eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { settings } from './schema.js';

export class SettingsRepo {
  /** Prepared once: the notifier reads settings for every alert. */
  private readonly getStmt;

  constructor(private readonly db: Db) {
    this.getStmt = db.select().from(settings).where(eq(settings.key, sql.placeholder('key'))).prepare();
  }

  get<T>(key: string): T | undefined {
    const row = this.getStmt.get({ key });
    return row ? (row.value as T) : undefined;
  }

  set(key: string, value: unknown, at: number, by: number | null): void {
    this.db
      .insert(settings)
      .values({ key, value, updatedAt: at, updatedBy: by })
      .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: at, updatedBy: by } })
      .run();
  }

  all(): { key: string; value: unknown; updatedAt: number; updatedBy: number | null }[] {
    return this.db.select().from(settings).all();
  }
}
