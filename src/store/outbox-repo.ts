/** The alert outbox: alerts are written here first and delivered by the notifier. */
import { and, asc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { alertOutbox } from './schema.js';

export type AlertRow = typeof alertOutbox.$inferSelect;
export type NewAlert = typeof alertOutbox.$inferInsert;

export class OutboxRepo {
  constructor(private readonly db: Db) {}

  enqueue(a: NewAlert): number {
    return this.db.insert(alertOutbox).values(a).returning({ id: alertOutbox.id }).get().id;
  }

  /** Undelivered alerts, highest priority first, then oldest. */
  pending(limit = 100): AlertRow[] {
    return this.db
      .select()
      .from(alertOutbox)
      .where(isNull(alertOutbox.sentAt))
      .orderBy(asc(alertOutbox.priority), asc(alertOutbox.id))
      .limit(limit)
      .all();
  }

  markSent(id: number, at: number): void {
    this.db.update(alertOutbox).set({ sentAt: at }).where(eq(alertOutbox.id, id)).run();
  }

  markFailed(id: number, error: string): void {
    this.db
      .update(alertOutbox)
      .set({ attempts: sql`${alertOutbox.attempts} + 1`, lastError: error.slice(0, 500) })
      .where(eq(alertOutbox.id, id))
      .run();
  }

  depth(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(alertOutbox).where(isNull(alertOutbox.sentAt)).get()?.n ?? 0;
  }

  /** Drop delivered alerts older than `before` (housekeeping). */
  prune(before: number): void {
    this.db.delete(alertOutbox).where(and(lte(alertOutbox.sentAt, before))).run();
  }
}
