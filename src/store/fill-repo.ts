/** Fills booked per account; positions are rebuilt from them after a restart. */
import { and, eq, gte } from 'drizzle-orm';
import type { Db } from './db.js';
import { fills } from './schema.js';

export type FillRow = typeof fills.$inferSelect;
export type NewFill = typeof fills.$inferInsert;

export class FillRepo {
  constructor(private readonly db: Db) {}

  /** Book a fill; false when the same (account, order, cumulative qty) was booked already. */
  record(f: NewFill): boolean {
    return this.db.insert(fills).values(f).onConflictDoNothing().run().changes > 0;
  }

  since(accountId: string, since: number): FillRow[] {
    return this.db.select().from(fills).where(and(eq(fills.accountId, accountId), gte(fills.at, since))).orderBy(fills.at).all();
  }
}
