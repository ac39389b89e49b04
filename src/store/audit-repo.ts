/** The audit log: every chat command and button press, with its actor. */
import { desc } from 'drizzle-orm';
import type { Db } from './db.js';
import { auditLog } from './schema.js';

export type AuditEntry = typeof auditLog.$inferInsert;
export type AuditRow = typeof auditLog.$inferSelect;

export class AuditRepo {
  constructor(private readonly db: Db) {}

  record(e: AuditEntry): void {
    this.db.insert(auditLog).values(e).run();
  }

  recent(n: number): AuditRow[] {
    return this.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(n).all();
  }
}
