/** Instrument masters per broker, loaded in bulk and looked up from an in-memory cache. */
import { and, eq, sql } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { Instrument, InstrumentLoad, InstrumentSink } from '../domain/instrument.js';
import type { Segment } from '../domain/order.js';
import type { Db } from './db.js';
import { instruments } from './schema.js';

export type InstrumentRow = typeof instruments.$inferSelect;

/** Loads of at least this many rows drop and rebuild the secondary indexes (see beginLoad). */
export const REBUILD_INDEXES_FROM = 20_000;

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

export class InstrumentRepo implements InstrumentSink {
  private readonly getStmt;
  private loads = 0;

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
   * Start replacing `broker`'s master (see InstrumentSink). Rows are staged in a TEMP table (SQLite's
   * temporary file, not this process's memory) as they arrive; `commit` then, in one transaction,
   * deletes the broker's rows and copies the staged ones in with one INSERT … SELECT, so readers never
   * see a half-loaded master. A repeated key keeps its first row.
   *
   * Measured on a 220k-row Dhan master (the write was ~1.7 s of a 6.9 s load, the rows ~40 MB of heap):
   * - staging keeps the rows out of the JS heap (the load's peak RSS ~210 → ~172 MB) at about the same
   *   total time: the final copy runs inside SQLite instead of binding every row from JS;
   * - the copy goes in primary-key order (ORDER BY, with rowid to keep a repeated key's first row
   *   first), so the primary-key index is appended to, not split all over (a shuffled master inserted
   *   a quarter faster in key order);
   * - for a big load, the secondary indexes (instruments_symbol_idx) are dropped inside the
   *   transaction and created again from their own SQL in sqlite_master after the copy: one sorted
   *   build instead of 220k scattered inserts (about a third of the write). Not done when the other
   *   brokers' rows outnumber the new ones two to one, since the rebuild re-indexes them too. The
   *   schema afterwards is the one before;
   * - rows are staged 50 to a statement: inserting 220k rows one per statement cost ~0.3 s more in
   *   per-statement overhead than 10 to 100 per statement (which measured alike).
   */
  beginLoad(broker: string): InstrumentLoad {
    this.loads += 1;
    return new StagedLoad(this.client, `instruments_load_${this.loads}`, (table, count, at) => this.swapIn(broker, table, count, at));
  }

  /** Replace a broker's whole master with `rows` (a load with all rows at once). Returns the number of rows given. */
  replaceAll(broker: string, rows: Iterable<Instrument>, at: number): number {
    const load = this.beginLoad(broker);
    try {
      load.add(rows);
      return load.commit(at);
    } finally {
      load.abort();
    }
  }

  private get client(): BetterSqlite3.Database {
    return (this.db as unknown as { $client: BetterSqlite3.Database }).$client;
  }

  /** The commit of a load staged in temp table `table`. */
  private swapIn(broker: string, table: string, count: number, at: number): void {
    const c = instruments;
    const cols = [c.broker, c.segment, c.securityId, c.symbol, c.name, c.lotSize, c.tickSize, c.expiry, c.strike, c.optionType, c.freezeQty, c.updatedAt];
    // WHERE true: an INSERT … SELECT with an upsert clause needs one (SQLite's parsing ambiguity with a join's ON).
    const copy = this.client.prepare(
      `INSERT INTO "instruments" (${cols.map((col) => `"${col.name}"`).join(', ')}) ` +
        `SELECT ?, ${STAGED_COLUMNS.join(', ')}, ? FROM temp."${table}" WHERE true ORDER BY segment, security_id, rowid ON CONFLICT DO NOTHING`,
    );
    this.tx(() => {
      const rebuild = count >= REBUILD_INDEXES_FROM ? this.rebuildableIndexes(broker, count) : [];
      for (const ix of rebuild) this.client.exec(`DROP INDEX "${ix.name.replaceAll('"', '""')}"`);
      this.db.delete(instruments).where(eq(instruments.broker, broker)).run();
      copy.run(broker, at);
      for (const ix of rebuild) this.client.exec(ix.sql);
    });
  }

  /**
   * The instruments table's CREATE INDEX indexes that are not unique (a unique one must stay for
   * ON CONFLICT to see duplicates), or none when re-indexing the other brokers' rows would cost more
   * than indexing the `rows` new ones as they go in.
   */
  private rebuildableIndexes(broker: string, rows: number): { name: string; sql: string }[] {
    const others = (this.client.prepare('SELECT count(*) AS n FROM instruments WHERE broker <> ?').get(broker) as { n: number }).n;
    if (others > rows * 2) return [];
    const unique = new Set((this.client.pragma('index_list("instruments")') as { name: string; unique: number }[]).filter((i) => i.unique).map((i) => i.name));
    const all = this.client.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'instruments' AND sql IS NOT NULL`).all() as { name: string; sql: string }[];
    return all.filter((i) => !unique.has(i.name));
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

/** Staging columns, in the order `StagedLoad` binds them (the instruments columns less broker and updated_at). */
const STAGED_COLUMNS = ['segment', 'security_id', 'symbol', 'name', 'lot_size', 'tick_size', 'expiry', 'strike', 'option_type', 'freeze_qty'] as const;
/** Rows per staging INSERT. */
const BATCH_ROWS = 50;
/** The temp schema's page cache while loading, KiB (16 MB by default here; staging only appends). */
const TEMP_CACHE_KIB = 2048;

/** One load in progress: rows staged in a TEMP table with the instruments columns' affinities. */
class StagedLoad implements InstrumentLoad {
  private staged = 0;
  private open = true;
  private readonly addAll: (rows: Iterable<Instrument>) => void;

  constructor(
    private readonly client: BetterSqlite3.Database,
    private readonly table: string,
    private readonly swapIn: (table: string, count: number, at: number) => void,
  ) {
    client.pragma(`temp.cache_size = -${TEMP_CACHE_KIB}`);
    client.exec(
      `CREATE TEMP TABLE "${table}" (segment TEXT, security_id TEXT, symbol TEXT, name TEXT, lot_size INTEGER, tick_size REAL, expiry TEXT, strike REAL, option_type TEXT, freeze_qty INTEGER)`,
    );
    const tuple = `(${STAGED_COLUMNS.map(() => '?').join(', ')})`;
    const insert = (rows: number) => client.prepare(`INSERT INTO temp."${table}" (${STAGED_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`);
    const batch = insert(BATCH_ROWS);
    const one = insert(1);
    // One transaction per call, on the temp schema only: the main database is not locked meanwhile.
    this.addAll = client.transaction((rows: Iterable<Instrument>) => {
      const args: unknown[] = [];
      let inArgs = 0;
      for (const i of rows) {
        args.push(i.segment, i.securityId, i.symbol, i.name ?? '', i.lotSize, i.tickSize, i.expiry ?? null, i.strike ?? null, i.optionType ?? null, i.freezeQty ?? null);
        inArgs += 1;
        this.staged += 1;
        if (inArgs === BATCH_ROWS) {
          batch.run(args);
          args.length = 0;
          inArgs = 0;
        }
      }
      for (let k = 0; k < args.length; k += STAGED_COLUMNS.length) one.run(args.slice(k, k + STAGED_COLUMNS.length));
    });
  }

  get count(): number {
    return this.staged;
  }

  add(rows: Iterable<Instrument>): void {
    if (!this.open) throw new Error('instrument load already committed or aborted');
    const before = this.staged;
    try {
      this.addAll(rows);
    } catch (e) {
      this.staged = before; // the transaction rolled these rows back
      throw e;
    }
  }

  commit(at: number): number {
    if (!this.open) throw new Error('instrument load already committed or aborted');
    this.swapIn(this.table, this.staged, at);
    this.abort();
    return this.staged;
  }

  abort(): void {
    if (!this.open) return;
    this.open = false;
    if (this.client.open) this.client.exec(`DROP TABLE IF EXISTS temp."${this.table}"`); // a closed connection took it along
  }
}
