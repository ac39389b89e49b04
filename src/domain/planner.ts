/**
 * The planner reads one leader order update against what was known of that order before and says
 * what it means for the copies: a new order to mirror, a modification, a cancel, fills to book, or
 * nothing (a duplicate, a stale or out-of-order update). Pure: no I/O, no clock.
 */
import type { BrokerOrder, OrderStatus, OrderType } from './order.js';
import { isTerminal } from './order.js';

/** What the engine remembers of a leader order (a row of `leader_orders`). */
export interface LeaderOrderSnapshot {
  status: OrderStatus;
  quantity: number;
  filledQty: number;
  price: number;
  triggerPrice: number;
  orderType: OrderType;
  /** Whether the order was mirrored (copies were planned for it). */
  mirrored: boolean;
  /** Average fill price so far (0 or absent before any fill). */
  avgPrice?: number;
  /** Exchange (or broker) time of the newest state seen, when known: older snapshots are stale. */
  exchangeTime?: number | null;
}

export type LeaderAction =
  /** A working order appeared: plan copies. */
  | { kind: 'mirror' }
  /** Price, trigger, type or quantity changed on a mirrored working order. */
  | { kind: 'modify'; quantity: number; price: number; triggerPrice: number; orderType: OrderType }
  /** The leader order ended without (full) fill: cancel open copies. `why` explains. */
  | { kind: 'cancel'; why: 'cancelled' | 'rejected' | 'expired' }
  /** More of the leader order filled: book `qty` at `avgPrice` into the leader's position. */
  | { kind: 'fill'; qty: number };

const RANK: Record<OrderStatus, number> = { transit: 0, open: 1, filled: 2, cancelled: 2, rejected: 2, expired: 2 };

/** True when `next` says something `prev` did not (the dedupe rule: order id + status + fills + terms). */
export function isNews(prev: LeaderOrderSnapshot | null, next: BrokerOrder): boolean {
  if (!prev) return true;
  if (isOlder(prev, next)) return false;
  return (
    prev.status !== next.status ||
    prev.filledQty !== next.filledQty ||
    prev.quantity !== next.quantity ||
    prev.price !== next.price ||
    prev.triggerPrice !== next.triggerPrice ||
    prev.orderType !== next.orderType
  );
}

/**
 * A snapshot stamped earlier than the newest one seen (a poll or a book read taken before a
 * modification the stream already delivered) says nothing new and must never move a copy back.
 */
export function isOlder(prev: LeaderOrderSnapshot, next: BrokerOrder): boolean {
  return prev.exchangeTime != null && next.exchangeTime !== null && next.exchangeTime < prev.exchangeTime;
}

export function planLeaderUpdate(prev: LeaderOrderSnapshot | null, next: BrokerOrder): LeaderAction[] {
  const actions: LeaderAction[] = [];
  if (prev && isOlder(prev, next)) return actions;
  const prevStatus = prev?.status ?? null;
  // Never move an order backwards: a late OPEN after CANCELLED, or TRANSIT after OPEN, is stale.
  const backwards = prevStatus !== null && (isTerminal(prevStatus) || RANK[next.status] < RANK[prevStatus]);
  const mirrored = prev?.mirrored ?? false;

  if (!backwards && !mirrored) {
    // First sight of a live order (working, or already filled in part or whole): mirror it.
    const live = next.status === 'open' || (next.status === 'filled' && next.filledQty > 0);
    const cancelledAfterFill = isTerminal(next.status) && next.status !== 'filled' && next.filledQty > 0;
    if (live || cancelledAfterFill) actions.push({ kind: 'mirror' });
  } else if (!backwards && mirrored && next.status === 'open' && prev) {
    if (
      prev.quantity !== next.quantity ||
      prev.price !== next.price ||
      prev.triggerPrice !== next.triggerPrice ||
      prev.orderType !== next.orderType
    ) {
      actions.push({ kind: 'modify', quantity: next.quantity, price: next.price, triggerPrice: next.triggerPrice, orderType: next.orderType });
    }
  }

  if (!backwards && mirrored && (next.status === 'cancelled' || next.status === 'rejected' || next.status === 'expired')) {
    actions.push({ kind: 'cancel', why: next.status });
  }

  // Fills only ever grow; a lower filled quantity is an out-of-order echo.
  const prevFilled = prev?.filledQty ?? 0;
  if (next.filledQty > prevFilled) actions.push({ kind: 'fill', qty: next.filledQty - prevFilled });
  return actions;
}

/**
 * A leader order seen for the first time already filled, long after it filled (the process was
 * down, or started late in the day): copying it now would buy at today's price what the leader
 * bought at another. Working orders are never stale: they are still at the exchange.
 */
export function isStaleFirstSight(prev: LeaderOrderSnapshot | null, next: BrokerOrder, now: number, maxAgeMs: number): boolean {
  // An order seen before but never mirrored (seen in transit, or a market entry held for its price)
  // is judged like a first sight: what matters is how long ago it filled.
  if (prev?.mirrored || next.status === 'open' || next.filledQty === 0) return false;
  return next.exchangeTime !== null && now - next.exchangeTime > maxAgeMs;
}

/** The snapshot to remember after an update, never moving status backwards or fills down. */
export function nextSnapshot(prev: LeaderOrderSnapshot | null, next: BrokerOrder, mirrored: boolean): LeaderOrderSnapshot {
  const keepPrev = prev !== null && (isTerminal(prev.status) || RANK[next.status] < RANK[prev.status]);
  const base = keepPrev && prev ? prev : next;
  return {
    status: base.status,
    quantity: base.quantity,
    price: base.price,
    triggerPrice: base.triggerPrice,
    orderType: base.orderType,
    filledQty: Math.max(prev?.filledQty ?? 0, next.filledQty),
    avgPrice: next.filledQty >= (prev?.filledQty ?? 0) && next.avgPrice > 0 ? next.avgPrice : (prev?.avgPrice ?? 0),
    exchangeTime: Math.max(prev?.exchangeTime ?? 0, next.exchangeTime ?? 0) || null,
    mirrored,
  };
}
