/**
 * The broker port: the only way the engine talks to a broker account. Adapters (dhan/, kite/,
 * paper/, sim/) implement it; errors are thrown as one of the three kinds below, by where the
 * failure happened, so the engine can decide what is safe to do next.
 */
import type { BrokerOrder, Funds, Holding, InstrumentRef, OrderChange, OrderRequest, PlaceResult, Position } from '../domain/order.js';

export type BrokerKind = 'dhan' | 'kite' | 'paper' | 'sim';

/** The broker said no. Nothing was accepted; `message` is the broker's text, verbatim. */
export class BrokerRejected extends Error {
  override readonly name = 'BrokerRejected';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Network error, timeout or 5xx: the outcome is unknown. The order may or may not exist at the
 * broker; look it up by tag before doing anything else. Never re-send blindly.
 */
export class BrokerUnavailable extends Error {
  override readonly name = 'BrokerUnavailable';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** Rate limited (429, Dhan DH-904): nothing was accepted; safe to retry after `retryAfterMs`. */
export class BrokerRateLimited extends Error {
  override readonly name = 'BrokerRateLimited';
  constructor(message: string, readonly retryAfterMs = 1000) {
    super(message);
  }
}

/** The access token is dead. Stop this account, alert, wait for /token or /login. */
export class SessionExpired extends Error {
  override readonly name = 'SessionExpired';
  constructor(readonly accountId: string, message: string) {
    super(message);
  }
}

export interface SessionState {
  valid: boolean;
  /** Epoch ms when the token expires, when known or estimated. */
  expiresAt: number | null;
  /** Broker's account name or client id, for /status. */
  accountName?: string;
  reason?: string;
}

export type StreamState = 'connecting' | 'connected' | 'disconnected' | 'session_expired' | 'stopped';

export interface StreamListener {
  /** A normalised order update from the account's push stream (may repeat or arrive out of order). */
  onUpdate(update: BrokerOrder): void;
  /** The stream's connection state changed. `connected` after a reconnect means: reconcile now. */
  onState?(state: StreamState, detail?: string): void;
}

export interface Broker {
  /** Account id: 'leader' or a follower id. */
  readonly accountId: string;
  readonly kind: BrokerKind;
  placeOrder(o: OrderRequest): Promise<PlaceResult>;
  modifyOrder(orderId: string, change: OrderChange): Promise<void>;
  cancelOrder(orderId: string): Promise<void>;
  /** The order carrying our client tag, or null when the broker has none. */
  findOrderByTag(tag: string): Promise<BrokerOrder | null>;
  /** Today's order book. */
  orders(): Promise<BrokerOrder[]>;
  /**
   * Today's positions, one row per instrument and product. `netQty` is the whole position,
   * `overnightQty` the part carried in from earlier days (today's fills excluded).
   */
  positions(): Promise<Position[]>;
  /**
   * Delivery holdings as of the start of today (settled + T1), with zero-quantity rows left out.
   * Today's sells do NOT reduce them (a same-day sell of held shares appears in `positions()` as a
   * CNC row with a negative `netQty` and `overnightQty` 0). An empty portfolio is `[]`, never an
   * error. Together with each position's `overnightQty` this is the account's opening baseline.
   */
  holdings(): Promise<Holding[]>;
  funds(): Promise<Funds>;
  checkSession(): Promise<SessionState>;
  /**
   * Last traded prices, keyed by `instrumentKey(ref)` (src/domain/order.ts), for instruments in this
   * account's own master. Instruments the broker does not price are left out of the map. Throws
   * BrokerRejected when the account's plan refuses market data (Dhan 806 / DH-902, Kite
   * PermissionException), BrokerUnavailable on network trouble, SessionExpired on a dead token.
   */
  ltp(refs: InstrumentRef[]): Promise<Map<string, number>>;
  /** Subscribe to the account's order stream; returns the unsubscribe function. */
  subscribe(listener: StreamListener): () => void;
  /** Open streams and warm connections. Idempotent. */
  start(): Promise<void>;
  /** Close streams and sockets. Idempotent. */
  stop(): Promise<void>;
}
