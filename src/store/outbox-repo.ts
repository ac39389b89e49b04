/** The alert outbox: alerts are written here first and delivered by the notifier. */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { alertOutbox } from './schema.js';
import { ShapeCache } from './shape-cache.js';

export type AlertRow = typeof alertOutbox.$inferSelect;
export type NewAlert = typeof alertOutbox.$inferInsert;

export class OutboxRepo {
  // Prepared once (per shape for enqueue): these run for every alert.
  private readonly enqueueByShape: ShapeCache<ReturnType<OutboxRepo['prepareEnqueue']>>;
  private readonly pendingForStmt;
  private readonly markSentStmt;

  constructor(private readonly db: Db) {
    this.enqueueByShape = new ShapeCache((keys) => this.prepareEnqueue(keys));
    this.pendingForStmt = db
      .select()
      .from(alertOutbox)
      .where(and(isNull(alertOutbox.sentAt), eq(alertOutbox.chatId, sql.placeholder('chatId'))))
      .orderBy(asc(alertOutbox.priority), asc(alertOutbox.id))
      .limit(sql.placeholder('limit'))
      .prepare();
    this.markSentStmt = db
      .update(alertOutbox)
      .set({ sentAt: sql.placeholder('at') as unknown as number })
      .where(eq(alertOutbox.id, sql.placeholder('id')))
      .prepare();
  }

  private prepareEnqueue(keys: string[]) {
    const values = Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)])) as never;
    return this.db.insert(alertOutbox).values(values).returning({ id: alertOutbox.id }).prepare();
  }

  /** Rows enqueued by this process so far: a caller can tell whether its work queued anything. */
  enqueued = 0;

  enqueue(a: NewAlert): number {
    this.enqueued++;
    const p = this.enqueueByShape.get(a);
    if (p) return p.stmt.get(p.values)!.id;
    return this.db.insert(alertOutbox).values(a).returning({ id: alertOutbox.id }).get().id;
  }

  /** Undelivered alerts of one chat, highest priority first, then oldest (each chat is its own queue). */
  pendingFor(chatId: number, limit = 100): AlertRow[] {
    return this.pendingForStmt.all({ chatId, limit });
  }

  /** Chats with undelivered alerts, and how many each. */
  pendingByChat(): Map<number, number> {
    const rows = this.db
      .select({ chatId: alertOutbox.chatId, n: sql<number>`count(*)` })
      .from(alertOutbox)
      .where(isNull(alertOutbox.sentAt))
      .groupBy(alertOutbox.chatId)
      .all();
    return new Map(rows.map((r) => [r.chatId, r.n]));
  }

  markSent(id: number, at: number): void {
    this.markSentStmt.run({ id, at });
  }

  markFailed(id: number, error: string): void {
    this.db
      .update(alertOutbox)
      .set({ attempts: sql`${alertOutbox.attempts} + 1`, lastError: error.slice(0, 500) })
      .where(eq(alertOutbox.id, id))
      .run();
  }

  /** The most recent alerts of one priority to one chat (e.g. errors, for /errors). */
  recent(chatId: number, priority: number, limit: number): AlertRow[] {
    return this.db
      .select()
      .from(alertOutbox)
      .where(and(eq(alertOutbox.chatId, chatId), eq(alertOutbox.priority, priority)))
      .orderBy(sql`${alertOutbox.id} desc`)
      .limit(limit)
      .all();
  }

  depth(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(alertOutbox).where(isNull(alertOutbox.sentAt)).get()?.n ?? 0;
  }
}
