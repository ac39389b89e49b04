/** Fills booked per account; positions are rebuilt from them after a restart. */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { fills } from './schema.js';

export type FillRow = typeof fills.$inferSelect;
export type NewFill = typeof fills.$inferInsert;

export interface NetPosition {
  segment: string;
  securityId: string;
  symbol: string;
  product: string;
  netQty: number;
  /** Sum of signed qty × price, for average price and P&L. */
  buyQty: number;
  buyValue: number;
  sellQty: number;
  sellValue: number;
}

export class FillRepo {
  constructor(private readonly db: Db) {}

  /** Book a fill; false when the same (account, order, cumulative qty) was booked already. */
  record(f: NewFill): boolean {
    return this.db.insert(fills).values(f).onConflictDoNothing().run().changes > 0;
  }

  since(accountId: string, since: number): FillRow[] {
    return this.db.select().from(fills).where(and(eq(fills.accountId, accountId), gte(fills.at, since))).orderBy(fills.at).all();
  }

  /** Net positions per instrument and product from every fill booked for the account since `since`. */
  positions(accountId: string, since = 0): NetPosition[] {
    return this.db
      .select({
        segment: fills.segment,
        securityId: fills.securityId,
        symbol: sql<string>`max(${fills.symbol})`,
        product: fills.product,
        netQty: sql<number>`sum(case when ${fills.side} = 'BUY' then ${fills.qty} else -${fills.qty} end)`,
        buyQty: sql<number>`sum(case when ${fills.side} = 'BUY' then ${fills.qty} else 0 end)`,
        buyValue: sql<number>`sum(case when ${fills.side} = 'BUY' then ${fills.qty} * ${fills.price} else 0 end)`,
        sellQty: sql<number>`sum(case when ${fills.side} = 'SELL' then ${fills.qty} else 0 end)`,
        sellValue: sql<number>`sum(case when ${fills.side} = 'SELL' then ${fills.qty} * ${fills.price} else 0 end)`,
      })
      .from(fills)
      .where(and(eq(fills.accountId, accountId), gte(fills.at, since)))
      .groupBy(fills.segment, fills.securityId, fills.product)
      .all();
  }
}
