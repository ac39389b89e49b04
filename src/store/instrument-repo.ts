/** Instrument masters per broker, loaded in bulk and looked up from an in-memory cache. */
import { and, eq, getTableColumns, sql, type Param, type Placeholder } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { Instrument } from '../domain/instrument.js';
import type { Segment } from '../domain/order.js';
import type { Db } from './db.js';
import { instruments } from './schema.js';

export type InstrumentRow = typeof instruments.$inferSelect;

export function instrumentOfRow(r: InstrumentRow): Instrument {
  return {
    segment: r.segment as Segment,
    securityId: r.securityId,
    symbol: r.symbol,
    name: r.name,
    lotSize: r.lotSize,
    tickSize: r.tickSize,
    expiry: r.expiry,
    strike: r.strike,
    optionType: r.optionType === 'CE' || r.optionType === 'PE' ? r.optionType : null,
    freezeQty: r.freezeQty,
  };
}

export class InstrumentRepo {
  private readonly getStmt;

  constructor(
    private readonly db: Db,
    private readonly tx: <T>(fn: () => T) => T,
  ) {
    this.getStmt = db
      .select()
      .from(instruments)
      .where(and(eq(instruments.broker, sql.placeholder('broker')), eq(instruments.segment, sql.placeholder('segment')), eq(instruments.securityId, sql.placeholder('securityId'))))
      .prepare();
  }

  /**
   * Replace a broker's whole master with `rows`, in batches inside one transaction, so readers
   * never see a half-loaded master. Returns the number of rows stored.
   */
  replaceAll(broker: string, rows: Iterable<Instrument>, at: number): number {
    const insert = this.rowInserter();
    let n = 0;
    this.tx(() => {
      this.db.delete(instruments).where(eq(instruments.broker, broker)).run();
      for (const i of rows) {
        insert({ broker, ...i, updatedAt: at });
        n += 1;
      }
    });
    return n;
  }

  /**
   * One-row `INSERT … ON CONFLICT DO NOTHING` for bulk loads: the SQL and each parameter's column
   * encoder come from drizzle once; each row is then bound straight onto the better-sqlite3
   * statement. (Building a 500-row drizzle query per batch cost ~45 µs a row, two thirds of a
   * 220k-row scrip-master load; drizzle's own prepared `run` still adds ~5 µs a row filling
   * placeholders.) A value left undefined gets the column's default, or null, as in drizzle.
   */
  private rowInserter(): (row: typeof instruments.$inferInsert) => void {
    const columns = getTableColumns(instruments);
    const keys = Object.keys(columns) as (keyof typeof columns)[];
    const query = this.db
      .insert(instruments)
      .values(Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)])) as never)
      .onConflictDoNothing()
      .toSQL();
    const params = (query.params as Param[]).map((p) => {
      const key = (p.value as Placeholder).name as keyof typeof columns;
      const fallback: unknown = columns[key].default ?? null;
      const encoder = p.encoder as { mapToDriverValue(v: unknown): unknown } | undefined;
      return { key, encode: (v: unknown) => (v === undefined ? fallback : encoder ? encoder.mapToDriverValue(v) : v) };
    });
    const stmt = (this.db as unknown as { $client: BetterSqlite3.Database }).$client.prepare(query.sql);
    return (row) => {
      stmt.run(params.map((p) => p.encode(row[p.key])));
    };
  }

  /** One contract by its key (a prepared point look-up on the primary key). */
  get(broker: string, segment: Segment, securityId: string): Instrument | undefined {
    const r = this.getStmt.get({ broker, segment, securityId });
    return r ? instrumentOfRow(r) : undefined;
  }

  bySymbol(broker: string, segment: Segment, symbol: string): Instrument | undefined {
    const r = this.db
      .select()
      .from(instruments)
      .where(and(eq(instruments.broker, broker), eq(instruments.segment, segment), eq(instruments.symbol, symbol)))
      .get();
    return r ? instrumentOfRow(r) : undefined;
  }

  count(broker: string): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(instruments).where(eq(instruments.broker, broker)).get()?.n ?? 0;
  }

  lastUpdated(broker: string): number | null {
    return this.db.select({ at: sql<number | null>`max(${instruments.updatedAt})` }).from(instruments).where(eq(instruments.broker, broker)).get()?.at ?? null;
  }
}
