/** Copies (intent rows) and the follower orders that carry them out. */
import { and, desc, eq, gte, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { copies, followerOrders, type CopyState } from './schema.js';
import { ShapeCache } from './shape-cache.js';

export type CopyRow = typeof copies.$inferSelect;
export type NewCopy = typeof copies.$inferInsert;
export type FollowerOrderRow = typeof followerOrders.$inferSelect;
/** What a follower order update needs of its copy to decide what moves (the whole row is read only when its state does). */
export type CopyProgress = Pick<CopyRow, 'id' | 'state' | 'followerOrderId' | 'filledQty'>;

const PROGRESS = { id: copies.id, state: copies.state, followerOrderId: copies.followerOrderId, filledQty: copies.filledQty };

export class CopyRepo {
  private readonly claimStmt;
  private readonly byIdStmt;
  private readonly byTagStmt;
  private readonly followerOrderStmt;
  private readonly progressByTagStmt;
  private readonly progressByFollowerOrderStmt;
  // Hot-path statements prepared once per shape (see shape-cache.ts): same SQL as the builders.
  private readonly insertByShape: ShapeCache<ReturnType<CopyRepo['prepareInsert']>>;
  private readonly updateByShape: ShapeCache<ReturnType<CopyRepo['prepareUpdate']>>;
  private readonly upsertFollowerOrderByShape: ShapeCache<ReturnType<CopyRepo['prepareUpsertFollowerOrder']>>;

  constructor(private readonly db: Db) {
    this.claimStmt = db
      .update(copies)
      .set({ state: sql`${sql.placeholder('to')}`, updatedAt: sql`${sql.placeholder('at')}` })
      .where(and(eq(copies.id, sql.placeholder('id')), eq(copies.state, sql.placeholder('from'))))
      .returning()
      .prepare();
    this.byIdStmt = db.select().from(copies).where(eq(copies.id, sql.placeholder('id'))).prepare();
    this.byTagStmt = db.select().from(copies).where(eq(copies.tag, sql.placeholder('tag'))).prepare();
    this.followerOrderStmt = db
      .select()
      .from(followerOrders)
      .where(and(eq(followerOrders.followerId, sql.placeholder('followerId')), eq(followerOrders.orderId, sql.placeholder('orderId'))))
      .prepare();
    this.progressByTagStmt = db.select(PROGRESS).from(copies).where(eq(copies.tag, sql.placeholder('tag'))).prepare();
    this.progressByFollowerOrderStmt = db
      .select(PROGRESS)
      .from(copies)
      .where(and(eq(copies.followerId, sql.placeholder('followerId')), eq(copies.followerOrderId, sql.placeholder('orderId'))))
      .prepare();
    this.insertByShape = new ShapeCache((keys) => this.prepareInsert(keys));
    this.updateByShape = new ShapeCache((keys) => this.prepareUpdate(keys));
    this.upsertFollowerOrderByShape = new ShapeCache((keys) => this.prepareUpsertFollowerOrder(keys));
  }

  private prepareInsert(keys: string[]) {
    return this.db.insert(copies).values(placeholders(keys) as never).onConflictDoNothing().returning().prepare();
  }

  private prepareUpdate(keys: string[]) {
    return this.db
      .update(copies)
      .set(placeholders(keys) as never)
      .where(eq(copies.id, sql.placeholder('__id')))
      .prepare();
  }

  private prepareUpsertFollowerOrder(keys: string[]) {
    const set = placeholders(keys.filter((k) => k !== 'followerId' && k !== 'orderId'));
    return this.db
      .insert(followerOrders)
      .values(placeholders(keys) as never)
      .onConflictDoUpdate({ target: [followerOrders.followerId, followerOrders.orderId], set })
      .prepare();
  }

  /** Insert intents; a row whose (leader order, follower, leg) exists already is left alone. */
  insert(rows: NewCopy[]): CopyRow[] {
    const out: CopyRow[] = [];
    for (const r of rows) {
      const p = this.insertByShape.get(r);
      const inserted = p ? p.stmt.get(p.values) : this.db.insert(copies).values(r).onConflictDoNothing().returning().get();
      if (inserted) out.push(inserted);
    }
    return out;
  }

  /**
   * The guarded transition: moves the copy from `from` to `to` only if it is still in `from`.
   * True for exactly one caller, however many race.
   */
  transition(id: number, from: CopyState, to: CopyState, at: number): boolean {
    return this.claim(id, from, to, at) !== undefined;
  }

  /** `transition`, answering with the row as it now is (undefined for every caller but the winner). */
  claim(id: number, from: CopyState, to: CopyState, at: number): CopyRow | undefined {
    return this.claimStmt.get({ id, from, to, at });
  }

  update(id: number, patch: Partial<NewCopy>): void {
    const p = this.updateByShape.get(patch);
    if (p && Object.keys(p.values).length > 0) p.stmt.run({ ...p.values, __id: id });
    else this.db.update(copies).set(patch).where(eq(copies.id, id)).run();
  }

  get(id: number): CopyRow | undefined {
    return this.byIdStmt.get({ id });
  }

  byTag(tag: string): CopyRow | undefined {
    return this.byTagStmt.get({ tag });
  }

  forLeaderOrder(leaderOrderId: string): CopyRow[] {
    return this.db.select().from(copies).where(eq(copies.leaderOrderId, leaderOrderId)).orderBy(copies.id).all();
  }

  forApproval(approvalId: string): CopyRow[] {
    return this.db.select().from(copies).where(eq(copies.approvalId, approvalId)).orderBy(copies.id).all();
  }

  inStates(states: CopyState[]): CopyRow[] {
    return this.db.select().from(copies).where(inArray(copies.state, states)).orderBy(copies.id).all();
  }

  since(followerId: string | null, since: number): CopyRow[] {
    const cond = followerId ? and(eq(copies.followerId, followerId), gte(copies.createdAt, since)) : gte(copies.createdAt, since);
    return this.db.select().from(copies).where(cond).orderBy(copies.id).all();
  }

  /** The most recent copy of a follower that failed, was rejected or is in doubt (`unknown`), for /status. */
  lastProblem(followerId: string): CopyRow | undefined {
    return this.db
      .select()
      .from(copies)
      .where(and(eq(copies.followerId, followerId), inArray(copies.state, ['failed', 'rejected', 'unknown']), isNotNull(copies.reason)))
      .orderBy(desc(copies.updatedAt))
      .limit(1)
      .get();
  }

  upsertFollowerOrder(row: FollowerOrderRow): void {
    const p = this.upsertFollowerOrderByShape.get(row);
    if (p) {
      p.stmt.run(p.values);
      return;
    }
    const { followerId: _f, orderId: _o, ...set } = row;
    this.db
      .insert(followerOrders)
      .values(row)
      .onConflictDoUpdate({ target: [followerOrders.followerId, followerOrders.orderId], set })
      .run();
  }

  /** Attach a follower order recorded without its copy (read from the broker's book) to the copy. */
  linkFollowerOrder(followerId: string, orderId: string, copyId: number): void {
    this.db
      .update(followerOrders)
      .set({ copyId })
      .where(and(eq(followerOrders.followerId, followerId), eq(followerOrders.orderId, orderId)))
      .run();
  }

  followerOrder(followerId: string, orderId: string): FollowerOrderRow | undefined {
    return this.followerOrderStmt.get({ followerId, orderId });
  }

  /** The copy of a follower order, by its tag, else by the follower order id it was linked to, reading only what a follower order update decides on (some 40 reads per leader order with 20 followers). */
  progressOf(tag: string | null, followerId: string, orderId: string): CopyProgress | undefined {
    return (tag ? this.progressByTagStmt.get({ tag }) : undefined) ?? this.progressByFollowerOrderStmt.get({ followerId, orderId });
  }
}

/** `{ key: sql.placeholder(key) }` for each key. */
function placeholders(keys: string[]): Record<string, ReturnType<typeof sql.placeholder>> {
  return Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)]));
}
