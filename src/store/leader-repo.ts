/** Leader orders and their events: the planner's memory and the dedupe of the stream. */
import { asc, eq, sql } from 'drizzle-orm';
import type { BrokerOrder } from '../domain/order.js';
import type { LeaderOrderSnapshot } from '../domain/planner.js';
import type { Db } from './db.js';
import { leaderEvents, leaderOrders } from './schema.js';
import { ShapeCache } from './shape-cache.js';

export type LeaderOrderRow = typeof leaderOrders.$inferSelect;

export function snapshotOf(row: LeaderOrderRow): LeaderOrderSnapshot {
  return {
    status: row.status,
    quantity: row.quantity,
    filledQty: row.filledQty,
    price: row.price,
    triggerPrice: row.triggerPrice,
    orderType: row.orderType,
    mirrored: row.mirrored,
    avgPrice: row.avgPrice,
  };
}

export function orderOfRow(row: LeaderOrderRow): BrokerOrder {
  return {
    orderId: row.orderId,
    tag: null,
    status: row.status,
    instrument: { segment: row.segment, securityId: row.securityId, symbol: row.symbol },
    side: row.side,
    orderType: row.orderType,
    product: row.product,
    validity: row.validity,
    amo: row.amo,
    quantity: row.quantity,
    filledQty: row.filledQty,
    avgPrice: row.avgPrice,
    price: row.price,
    triggerPrice: row.triggerPrice,
    reason: null,
    exchangeTime: null,
  };
}

export class LeaderRepo {
  private readonly getStmt;
  private readonly insertEventStmt;
  /** `save` prepared once per shape; the two caches differ in whether positionBefore is updated. */
  private readonly saveByShape: ShapeCache<ReturnType<LeaderRepo['prepareSave']>>;
  private readonly saveWithPositionByShape: ShapeCache<ReturnType<LeaderRepo['prepareSave']>>;

  constructor(private readonly db: Db) {
    this.getStmt = db.select().from(leaderOrders).where(eq(leaderOrders.orderId, sql.placeholder('id'))).prepare();
    this.insertEventStmt = db
      .insert(leaderEvents)
      .values({
        orderId: sql.placeholder('orderId'),
        status: sql.placeholder('status'),
        filledQty: sql.placeholder('filledQty'),
        quantity: sql.placeholder('quantity'),
        price: sql.placeholder('price'),
        triggerPrice: sql.placeholder('triggerPrice'),
        source: sql.placeholder('source'),
        exchangeTime: sql.placeholder('exchangeTime'),
        receivedAt: sql.placeholder('receivedAt'),
      })
      .onConflictDoNothing()
      .prepare();
    this.saveByShape = new ShapeCache((keys) => this.prepareSave(keys, false));
    this.saveWithPositionByShape = new ShapeCache((keys) => this.prepareSave(keys, true));
  }

  /** The upsert of `save`: insert every key, on conflict update all but the id, first-seen time and (unless asked) positionBefore. */
  private prepareSave(keys: string[], setPosition: boolean) {
    const ph = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, sql.placeholder(k)]));
    const set = ph(keys.filter((k) => k !== 'orderId' && k !== 'firstSeenAt' && (setPosition || k !== 'positionBefore')));
    return this.db
      .insert(leaderOrders)
      .values(ph(keys) as never)
      .onConflictDoUpdate({ target: leaderOrders.orderId, set })
      .prepare();
  }

  get(orderId: string): LeaderOrderRow | undefined {
    return this.getStmt.get({ id: orderId });
  }

  /** The recorded updates of one leader order, oldest first (the event log). */
  events(orderId: string): (typeof leaderEvents.$inferSelect)[] {
    return this.db.select().from(leaderEvents).where(eq(leaderEvents.orderId, orderId)).orderBy(asc(leaderEvents.id)).all();
  }

  /** Record an update; false when the same (order, status, fills, terms) was seen before. */
  recordEvent(u: BrokerOrder, source: 'stream' | 'reconcile' | 'sim', receivedAt: number): boolean {
    const r = this.insertEventStmt.run({
      orderId: u.orderId,
      status: u.status,
      filledQty: u.filledQty,
      quantity: u.quantity,
      price: u.price,
      triggerPrice: u.triggerPrice,
      source,
      exchangeTime: u.exchangeTime,
      receivedAt,
    });
    return r.changes > 0;
  }

  save(u: BrokerOrder, snap: LeaderOrderSnapshot, at: number, positionBefore: number | null): void {
    const values = {
      orderId: u.orderId,
      segment: u.instrument.segment,
      securityId: u.instrument.securityId,
      symbol: u.instrument.symbol,
      side: u.side,
      orderType: snap.orderType,
      product: u.product,
      validity: u.validity,
      amo: u.amo,
      status: snap.status,
      quantity: snap.quantity,
      filledQty: snap.filledQty,
      avgPrice: u.avgPrice,
      price: snap.price,
      triggerPrice: snap.triggerPrice,
      mirrored: snap.mirrored,
      positionBefore,
      firstSeenAt: at,
      updatedAt: at,
    };
    const prepared = (positionBefore === null ? this.saveByShape : this.saveWithPositionByShape).get(values);
    if (prepared) {
      prepared.stmt.run(prepared.values);
      return;
    }
    const { orderId: _id, firstSeenAt: _f, positionBefore: pb, ...update } = values;
    this.db
      .insert(leaderOrders)
      .values(values)
      .onConflictDoUpdate({ target: leaderOrders.orderId, set: pb === null ? update : { ...update, positionBefore: pb } })
      .run();
  }

}
