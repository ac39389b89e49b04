/**
 * The database schema (drizzle). Times are epoch milliseconds (integers); money is rupees as REAL
 * (broker APIs quote rupees with paise decimals; nothing here sums money across many rows).
 * Migrations are generated from this file with `npm run db:generate` and committed.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { ORDER_STATUSES, ORDER_TYPES, PRODUCTS, SEGMENTS } from '../domain/order.js';

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;

/** Broker accounts: the leader and each follower, as configured at the last start. */
export const accounts = sqliteTable('accounts', {
  id: text('id').primaryKey(),
  role: text('role', { enum: ['leader', 'follower'] }).notNull(),
  broker: text('broker').notNull(),
  createdAt: integer('created_at').notNull().default(now),
  updatedAt: integer('updated_at').notNull().default(now),
});

/** The last known state of every leader order (the planner's memory). */
export const leaderOrders = sqliteTable('leader_orders', {
  orderId: text('order_id').primaryKey(),
  segment: text('segment', { enum: SEGMENTS }).notNull(),
  securityId: text('security_id').notNull(),
  symbol: text('symbol').notNull(),
  side: text('side', { enum: ['BUY', 'SELL'] }).notNull(),
  orderType: text('order_type', { enum: ORDER_TYPES }).notNull(),
  product: text('product', { enum: PRODUCTS }).notNull(),
  validity: text('validity', { enum: ['DAY', 'IOC'] }).notNull(),
  amo: integer('amo', { mode: 'boolean' }).notNull().default(false),
  status: text('status', { enum: ORDER_STATUSES }).notNull(),
  quantity: integer('quantity').notNull(),
  filledQty: integer('filled_qty').notNull().default(0),
  avgPrice: real('avg_price').notNull().default(0),
  price: real('price').notNull().default(0),
  triggerPrice: real('trigger_price').notNull().default(0),
  mirrored: integer('mirrored', { mode: 'boolean' }).notNull().default(false),
  /** Leader's signed net position in the instrument just before this order (entry/exit split). */
  positionBefore: integer('position_before'),
  firstSeenAt: integer('first_seen_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Every distinct leader update received (stream or reconciliation), deduplicated. */
export const leaderEvents = sqliteTable(
  'leader_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    orderId: text('order_id').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    filledQty: integer('filled_qty').notNull(),
    quantity: integer('quantity').notNull(),
    price: real('price').notNull(),
    triggerPrice: real('trigger_price').notNull(),
    source: text('source', { enum: ['stream', 'reconcile', 'sim'] }).notNull(),
    exchangeTime: integer('exchange_time'),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('leader_events_dedupe_uq').on(t.orderId, t.status, t.filledQty, t.quantity, t.price, t.triggerPrice),
  ],
);

export const COPY_STATES = [
  'planned',
  'awaiting_approval',
  'placing',
  'open',
  'filled',
  'cancelled',
  'rejected',
  'skipped',
  'expired',
  'failed',
  /** The placement's outcome could not be learnt (every look-up failed until the give-up time): the owner decides. */
  'unknown',
] as const;
export type CopyState = (typeof COPY_STATES)[number];

/** One row per leader order × follower × leg: the intent, written before any broker call. */
export const copies = sqliteTable(
  'copies',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    leaderOrderId: text('leader_order_id').notNull(),
    followerId: text('follower_id').notNull(),
    /** 0 = the order's main leg; 1 = the entry remainder of an order that reversed the position. */
    leg: integer('leg').notNull().default(0),
    kind: text('kind', { enum: ['entry', 'exit'] }).notNull(),
    state: text('state', { enum: COPY_STATES }).notNull(),
    tag: text('tag').notNull(),
    segment: text('segment', { enum: SEGMENTS }).notNull(),
    securityId: text('security_id').notNull(),
    symbol: text('symbol').notNull(),
    side: text('side', { enum: ['BUY', 'SELL'] }).notNull(),
    orderType: text('order_type', { enum: ORDER_TYPES }).notNull(),
    product: text('product', { enum: PRODUCTS }).notNull(),
    validity: text('validity', { enum: ['DAY', 'IOC'] }).notNull(),
    amo: integer('amo', { mode: 'boolean' }).notNull().default(false),
    price: real('price').notNull().default(0),
    triggerPrice: real('trigger_price').notNull().default(0),
    lotSize: integer('lot_size').notNull(),
    plannedQty: integer('planned_qty').notNull(),
    lots: real('lots').notNull(),
    notional: real('notional'),
    ratio: real('ratio'),
    followerOrderId: text('follower_order_id'),
    filledQty: integer('filled_qty').notNull().default(0),
    avgPrice: real('avg_price').notNull().default(0),
    reason: text('reason'),
    approvalId: text('approval_id'),
    /** When the leader event arrived (perf-clock based latency is in the *_us fields). */
    eventAt: integer('event_at').notNull(),
    leaderExchangeTime: integer('leader_exchange_time'),
    requestSentAt: integer('request_sent_at'),
    ackedAt: integer('acked_at'),
    filledAt: integer('filled_at'),
    /** Microseconds from leader event received to the follower request leaving. */
    internalLatencyUs: integer('internal_latency_us'),
    /** Microseconds the broker took to acknowledge the request. */
    brokerLatencyUs: integer('broker_latency_us'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('copies_natural_uq').on(t.leaderOrderId, t.followerId, t.leg),
    uniqueIndex('copies_tag_uq').on(t.tag),
    index('copies_state_idx').on(t.state),
    index('copies_follower_idx').on(t.followerId, t.createdAt),
  ],
);

/** Orders at follower brokers (a copy has one, or several when sliced), as last reported. */
export const followerOrders = sqliteTable(
  'follower_orders',
  {
    followerId: text('follower_id').notNull(),
    orderId: text('order_id').notNull(),
    copyId: integer('copy_id'),
    tag: text('tag'),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    quantity: integer('quantity').notNull(),
    filledQty: integer('filled_qty').notNull().default(0),
    avgPrice: real('avg_price').notNull().default(0),
    reason: text('reason'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.followerId, t.orderId] }), index('follower_orders_copy_idx').on(t.copyId)],
);

/** Fills booked per account (leader and followers), from fill-quantity increases. */
export const fills = sqliteTable(
  'fills',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    accountId: text('account_id').notNull(),
    orderId: text('order_id').notNull(),
    /** Cumulative filled quantity of the order after this fill: the dedupe key with the order id. */
    cumulativeQty: integer('cumulative_qty').notNull(),
    qty: integer('qty').notNull(),
    price: real('price').notNull(),
    side: text('side', { enum: ['BUY', 'SELL'] }).notNull(),
    segment: text('segment', { enum: SEGMENTS }).notNull(),
    securityId: text('security_id').notNull(),
    symbol: text('symbol').notNull(),
    product: text('product', { enum: PRODUCTS }).notNull(),
    at: integer('at').notNull(),
  },
  (t) => [uniqueIndex('fills_dedupe_uq').on(t.accountId, t.orderId, t.cumulativeQty), index('fills_account_idx').on(t.accountId, t.at)],
);

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired', 'void'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** A request to approve the copies of one large leader order, and how it was decided. */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    leaderOrderId: text('leader_order_id').notNull(),
    state: text('state', { enum: APPROVAL_STATES }).notNull(),
    /** The rupee threshold that was crossed (null when the notional could not be known). */
    threshold: real('threshold'),
    expiresAt: integer('expires_at').notNull(),
    /** JSON: every chat message that shows the request, [{ chatId, messageId }], to edit later. */
    messages: text('messages', { mode: 'json' }).$type<{ chatId: number; messageId: number }[]>().notNull().default([]),
    /** The request text as first sent (kept to edit the decision under it). */
    text: text('text').notNull().default(''),
    decidedBy: integer('decided_by'),
    decidedAt: integer('decided_at'),
    reason: text('reason'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('approvals_state_idx').on(t.state), index('approvals_leader_idx').on(t.leaderOrderId)],
);

/** Runtime settings that survive a restart: pause state, ratios changed from the chat. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
  updatedBy: integer('updated_by'),
});

/** Every chat command and button press, with its actor and outcome. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    actorId: integer('actor_id'),
    role: text('role').notNull(),
    chatId: integer('chat_id'),
    action: text('action').notNull(),
    args: text('args'),
    outcome: text('outcome').notNull(),
  },
  (t) => [index('audit_at_idx').on(t.at)],
);

/** Instrument master rows from each broker. */
export const instruments = sqliteTable(
  'instruments',
  {
    broker: text('broker').notNull(),
    segment: text('segment', { enum: SEGMENTS }).notNull(),
    securityId: text('security_id').notNull(),
    symbol: text('symbol').notNull(),
    name: text('name').notNull().default(''),
    lotSize: integer('lot_size').notNull(),
    tickSize: real('tick_size').notNull(),
    expiry: text('expiry'),
    strike: real('strike'),
    optionType: text('option_type'),
    freezeQty: integer('freeze_qty'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broker, t.segment, t.securityId] }), index('instruments_symbol_idx').on(t.broker, t.symbol)],
);

/** Broker access tokens, encrypted at rest (AES-256-GCM). */
export const tokens = sqliteTable('tokens', {
  accountId: text('account_id').primaryKey(),
  ciphertext: text('ciphertext').notNull(),
  obtainedAt: integer('obtained_at').notNull(),
  expiresAt: integer('expires_at'),
  lastCheckedAt: integer('last_checked_at'),
  /** Where the token came from: env (seeded from .env), chat (/token), renewal (Dhan RenewToken). */
  source: text('source', { enum: ['env', 'chat', 'renewal'] }),
  /** Keyed fingerprint of the .env token that last seeded this row: a different one in .env wins. */
  seedDigest: text('seed_digest'),
});

/** Alerts waiting to be delivered to a chat; a restart loses none. */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    chatId: integer('chat_id').notNull(),
    /** 0 = approvals, 1 = errors, 2 = fills, 3 = everything else. Lower goes first. */
    priority: integer('priority').notNull(),
    kind: text('kind').notNull(),
    text: text('text').notNull(),
    /** JSON reply_markup, when the alert carries buttons. */
    markup: text('markup'),
    /** The approval this message presents, so its message id can be recorded for later edits. */
    approvalId: text('approval_id'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('alert_outbox_pending_idx').on(t.sentAt, t.priority, t.id)],
);

/**
 * One chat message per leader order: the copies' lines (JSON, each line's state only moves
 * forward), kept so a restart goes on editing the same message.
 */
export const alertGroups = sqliteTable(
  'alert_groups',
  {
    leaderOrderId: text('leader_order_id').primaryKey(),
    /** JSON: [{ copyId, followerId, state, text, filledQty }] in copy order. */
    lines: text('lines', { mode: 'json' }).$type<unknown[]>().notNull().default([]),
    /** The instrument's lot size (the leader line shows lots). */
    lotSize: integer('lot_size').notNull().default(1),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('alert_groups_updated_idx').on(t.updatedAt)],
);

/** The group message in each chat: its outbox row until delivered, then its message id, for edits. */
export const alertGroupMessages = sqliteTable(
  'alert_group_messages',
  {
    leaderOrderId: text('leader_order_id').notNull(),
    chatId: integer('chat_id').notNull(),
    /** The outbox row that sends it, until it is delivered. */
    alertId: integer('alert_id'),
    messageId: integer('message_id'),
    sentAt: integer('sent_at'),
    /** What this chat should see now (HTML). */
    text: text('text').notNull(),
    /** What Telegram shows (the last text sent or edited in); differs from `text` while an edit waits. */
    shownText: text('shown_text'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.leaderOrderId, t.chatId] }), index('alert_group_messages_alert_idx').on(t.alertId)],
);
