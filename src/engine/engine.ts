/**
 * The replication engine: leader updates in, copies out.
 *
 * Hot path (one leader update): dedupe against memory → plan (pure) → size each follower (pure,
 * cached instruments, funds and positions) → ONE synchronous SQLite transaction (event, leader
 * order, leader fill, copy intents) → hand planned copies to each follower's own queue. No
 * network call happens before the follower's order request.
 */
import { SessionExpired, type Broker, type StreamState } from '../brokers/port.js';
import type { BrokerOrder, OrderChange } from '../domain/order.js';
import { signedQty } from '../domain/order.js';
import { nextSnapshot, isNews, isStaleFirstSight, planLeaderUpdate, type LeaderAction, type LeaderOrderSnapshot } from '../domain/planner.js';
import { istTime } from '../domain/time.js';
import { effectiveRatio, floorLots, sizeEntry, sizeExit, splitEntryExit, type SizeResult } from '../domain/sizing.js';
import { TAG_PATTERN, copyTag } from '../domain/tag.js';
import { freezeQty, legOf, partOf, sliceQty } from '../domain/freeze.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import { snapshotOf } from '../store/leader-repo.js';
import { ApprovalManager, newApprovalId } from './approvals.js';
import { KillSwitch } from './kill-switch.js';
import { CopyExecutor, DEFAULT_EXECUTOR_OPTIONS, type ExecutorOptions } from './copy-executor.js';
import { LIVE_COPY_STATES, copyStateOf, movesForward } from './copy-state.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { PositionBook } from './positions.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface EngineDeps {
  store: Store;
  leader: Broker;
  followers: FollowerRuntime[];
  instruments: InstrumentResolver;
  prices: PriceBoard;
  settings: RuntimeSettings;
  positions: PositionBook;
  clock: Clock;
  logger: Logger;
  events: EngineEvents;
  /** Leader order-book reconciliation period (0 = only on connect and start-up). */
  reconcileEveryMs?: number;
  /** Planned copies older than this at start-up are not placed (stale), ms. */
  staleAfterMs?: number;
  /** Retry period of a follower order-book read that failed at start-up, ms (default 5 s). */
  bookRetryMs?: number;
  /** A leader order first seen already filled, this long after its fill, is not copied, ms. */
  staleFillMs?: number;
  executor?: Partial<ExecutorOptions>;
  /** Entries whose notional exceeds the threshold wait for a tap; null = none wait. */
  approval?: { thresholdInr: number | null; lotsAbove?: number | null; timeoutMs: number };
}

type Source = 'stream' | 'reconcile' | 'sim';

/**
 * The fill an order update books: `qty` more, keyed by the order's cumulative fill, at the price of
 * this increment (derived from the average before and after; the average itself when unknown).
 */
function fillRow(accountId: string, u: BrokerOrder, qty: number, at: number, prevFilled: number, prevAvg: number) {
  const increment = prevFilled > 0 && prevAvg > 0 ? (u.avgPrice * u.filledQty - prevAvg * prevFilled) / qty : u.avgPrice;
  return {
    accountId,
    orderId: u.orderId,
    cumulativeQty: u.filledQty,
    qty,
    price: increment > 0 ? increment : u.avgPrice,
    side: u.side,
    segment: u.instrument.segment,
    securityId: u.instrument.securityId,
    symbol: u.instrument.symbol,
    product: u.product,
    at,
  };
}

export class ReplicationEngine {
  readonly followers: Map<string, FollowerRuntime>;
  readonly executor: CopyExecutor;
  readonly approvals: ApprovalManager;
  readonly killSwitch: KillSwitch;
  leaderStream: StreamState = 'stopped';
  leaderStreamSince = 0;
  lastLeaderEventAt: number | null = null;
  leaderFunds: number | null = null;
  private readonly memo = new Map<string, LeaderOrderSnapshot>();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Follower id → the pending retry of its order-book read (see readBook). */
  private readonly bookRetries = new Map<string, NodeJS.Timeout>();
  private running = false;
  private reconciling: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly d: EngineDeps) {
    this.log = d.logger.child({ module: 'engine' });
    this.followers = new Map(d.followers.map((f) => [f.id, f]));
    this.executor = new CopyExecutor(
      d.store,
      this.followers,
      d.prices,
      d.clock,
      this.log,
      d.events,
      (c) => this.consequence(c),
      { ...DEFAULT_EXECUTOR_OPTIONS, ...d.executor },
    );
    this.approvals = new ApprovalManager(d.store, d.clock, this.executor, d.events, this.log);
    this.killSwitch = new KillSwitch(d.store, d.settings, this.followers, this.executor, this.approvals, d.instruments, () => this.leaderBroker, d.clock, this.log);
  }

  get leaderBroker(): string {
    return this.d.leader.kind;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { leader } = this.d;
    // Followers first: their streams must be up before anything is placed. All at once: a Dhan
    // stream counts as up ~1 s after its login, so one after the other took N seconds.
    for (const f of this.followers.values()) {
      this.unsubscribers.push(
        f.broker.subscribe({
          onUpdate: (u) => this.onFollowerUpdate(f, u),
          onState: (s, detail) => this.onFollowerState(f, s, detail),
        }),
      );
    }
    await Promise.all([...this.followers.values()].map((f) => this.safely(`start follower ${f.id}`, () => f.broker.start())));
    // The brokers' record of what was already placed comes before anything is placed, and before
    // the positions (which already hold those orders' fills) are loaded over it.
    await Promise.all([...[...this.followers.values()].map((f) => this.readFollowerBook(f)), this.refreshFunds()]);
    await this.loadPositions();
    await this.recover();
    // Only now take new leader events.
    this.unsubscribers.push(
      leader.subscribe({
        onUpdate: (u) => this.intake(u, leader.kind === 'sim' ? 'sim' : 'stream'),
        onState: (s, detail) => this.onLeaderState(s, detail),
      }),
    );
    await this.safely('start leader', () => leader.start());
    await this.reconcile();
    const every = this.d.reconcileEveryMs ?? 30_000;
    if (every > 0) this.timers.push(setInterval(() => void this.reconcile(), every));
    this.timers.push(setInterval(() => void this.refreshFunds(), 5 * 60_000));
    for (const t of this.timers) t.unref();
    this.log.info({ followers: [...this.followers.keys()], leader: leader.kind }, 'engine started');
  }

  /** Stop taking events, let in-flight follower calls finish (bounded), close the streams. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribers.splice(0)) u();
    for (const t of this.timers.splice(0)) clearInterval(t);
    for (const t of this.bookRetries.values()) clearTimeout(t);
    this.bookRetries.clear();
    this.approvals.stop();
    const idle = Promise.all([...this.followers.values()].map((f) => f.idle()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    if ((await Promise.race([idle, timedOut])) === 'timeout') this.log.warn('in-flight follower calls did not finish in time');
    clearTimeout(timer);
    for (const f of this.followers.values()) f.bucket.close();
    await Promise.all([this.d.leader, ...[...this.followers.values()].map((f) => f.broker)].map((b) => this.safely(`stop ${b.accountId}`, () => b.stop())));
  }

  /** Resolves when every follower queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.followers.values()].map((f) => f.idle()));
  }

  private async safely(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.log.error({ err: e }, `${what} failed`);
    }
  }

  private snapshot(orderId: string): LeaderOrderSnapshot | null {
    const m = this.memo.get(orderId);
    if (m) return m;
    const row = this.d.store.leader.get(orderId);
    if (!row) return null;
    const s = snapshotOf(row);
    this.memo.set(orderId, s);
    return s;
  }

  /** One leader update, from the stream, a reconciliation, or the simulator. Synchronous. */
  intake(u: BrokerOrder, source: Source): void {
    if (!this.running) return;
    const t0 = performance.now();
    const { store, clock } = this.d;
    const prev = this.snapshot(u.orderId);
    if (!isNews(prev, u)) return;
    const actions = planLeaderUpdate(prev, u);
    const now = clock.now();
    const mirror = actions.some((a) => a.kind === 'mirror');
    const fill = actions.find((a): a is Extract<LeaderAction, { kind: 'fill' }> => a.kind === 'fill');
    const positionBefore = mirror ? this.d.positions.get('leader', u.instrument, u.product) : null;
    let approvalId: string | null = null;
    let planned = mirror ? this.planCopies(u, positionBefore ?? 0, now, () => (approvalId ??= newApprovalId())) : [];
    if (mirror && isStaleFirstSight(prev, u, now, this.d.staleFillMs ?? 120_000)) {
      const at = u.exchangeTime === null ? '?' : istTime(u.exchangeTime);
      planned = planned.map((c) => ({ ...c, state: 'skipped' as const, approvalId: null, reason: `filled at ${at} IST but seen only now: not copied at a later price` }));
    }
    const approval = this.d.approval;
    const needsApproval = approval && planned.some((c) => c.state === 'awaiting_approval');
    const snap = nextSnapshot(prev, u, (prev?.mirrored ?? false) || mirror);
    // A follower that can send at once (queue empty, a rate-limit token free) gets its first copy
    // of this event inserted already claimed (`placing`): this transaction is then the one write
    // before the order call. Copies that wait their turn are claimed when it comes, so a halt or a
    // cancel meanwhile still stops them (CopyExecutor.place).
    const claimedNow = new Set<string>();
    planned = planned.map((c) => {
      if (c.state !== 'planned' || claimedNow.has(c.followerId) || !this.followers.get(c.followerId)?.idleNow) return c;
      claimedNow.add(c.followerId);
      return { ...c, state: 'placing' as const };
    });
    let inserted: CopyRow[] = [];
    store.tx(() => {
      store.leader.recordEvent(u, source, now);
      store.leader.save(u, snap, now, positionBefore);
      if (fill) {
        store.fills.record(fillRow('leader', u, fill.qty, now, prev?.filledQty ?? 0, prev?.avgPrice ?? 0));
      }
      if (needsApproval && approvalId) {
        store.approvals.insert({ id: approvalId, leaderOrderId: u.orderId, state: 'pending', threshold: approval.thresholdInr, expiresAt: now + approval.timeoutMs, createdAt: now });
      }
      inserted = store.copies.insert(planned);
    });
    this.memo.set(u.orderId, snap);
    this.lastLeaderEventAt = now;

    for (const c of inserted) {
      if (c.state === 'placing') void this.executor.placeClaimed(c, t0);
      else if (c.state === 'planned') void this.executor.place(c, t0);
      else if (c.state === 'skipped') this.d.events.emit({ type: 'copy_skipped', copy: c });
    }
    if (needsApproval && approvalId) {
      const row = store.approvals.get(approvalId);
      if (row) this.approvals.opened(row, `${u.side} ${u.quantity} ${u.instrument.symbol} ${u.orderType}${u.price ? ` @ ${u.price}` : ''} (leader ${u.orderId})`);
    }
    if (fill) {
      this.d.positions.add('leader', u.instrument, u.product, signedQty(u.side, fill.qty));
      this.d.prices.publish(u.instrument, u.avgPrice);
    }
    for (const a of actions) {
      if (a.kind === 'modify' && prev) {
        this.approvals.voidFor(u.orderId, 'the leader modified the order');
        this.modifyCopies(u, prev, a);
      } else if (a.kind === 'cancel') {
        this.approvals.voidFor(u.orderId, `the leader order was ${a.why}`);
        this.cancelCopies(u.orderId, `leader order ${a.why}`);
      }
    }
  }

  /** The copies (one per follower and leg) a newly seen leader order calls for. Pure but for caches. */
  private planCopies(u: BrokerOrder, leaderNetBefore: number, now: number, approvalId: () => string): NewCopy[] {
    const { exitQty, entryQty } = splitEntryExit(u.side, u.quantity, leaderNetBefore);
    const legs: { leg: number; kind: 'entry' | 'exit'; qty: number }[] = [];
    if (exitQty > 0) legs.push({ leg: 0, kind: 'exit', qty: exitQty });
    if (entryQty > 0) legs.push({ leg: exitQty > 0 ? 1 : 0, kind: 'entry', qty: entryQty });
    const refPrice = u.price || u.triggerPrice || u.avgPrice || this.d.prices.last(u.instrument) || null;
    const out: NewCopy[] = [];
    for (const f of this.followers.values()) {
      const resolved = this.d.instruments.resolve(this.leaderBroker, f.master(this.leaderBroker), u.instrument);
      for (const { leg, kind, qty } of legs) {
        const inst = resolved.ok ? resolved.instrument : null;
        const base: NewCopy = {
          leaderOrderId: u.orderId,
          followerId: f.id,
          leg,
          kind,
          state: 'planned',
          tag: copyTag(u.orderId, f.id, leg),
          segment: inst?.segment ?? u.instrument.segment,
          securityId: inst?.securityId ?? u.instrument.securityId,
          symbol: inst?.symbol ?? u.instrument.symbol,
          side: u.side,
          orderType: u.orderType,
          product: u.product,
          validity: u.validity,
          amo: u.amo,
          price: u.price,
          triggerPrice: u.triggerPrice,
          lotSize: inst?.lotSize ?? 1,
          plannedQty: 0,
          lots: 0,
          eventAt: now,
          leaderExchangeTime: u.exchangeTime,
          createdAt: now,
          updatedAt: now,
        };
        const skip = (reason: string): NewCopy => ({ ...base, state: 'skipped', reason });
        if (this.d.settings.isHalted()) {
          out.push(skip('halted: nothing is copied, exits included, until /resume all'));
          continue;
        }
        if (!resolved.ok) {
          out.push(skip(resolved.reason));
          continue;
        }
        if (!f.sessionOk) {
          out.push(skip(`${f.id}'s broker session has expired (${f.sessionDetail ?? 'token dead'}); /login ${f.id} to fix`));
          continue;
        }
        if (!f.bookRead) {
          out.push(skip(`${f.id}'s order book has not been read since start-up, so an order sent just before a crash cannot be ruled out; retrying every 5 s`));
          continue;
        }
        if (kind === 'entry' && this.d.settings.isPaused(f.id)) {
          out.push(skip('paused: entries are not copied while paused'));
          continue;
        }
        const lotSize = base.lotSize;
        const policy = f.policy(this.d.settings.ratio(f.id), this.leaderFunds);
        let size: SizeResult;
        if (kind === 'entry') {
          size = sizeEntry({ leaderQty: qty, lotSize, price: refPrice, policy, caps: { maxLots: f.cfg.maxLots, maxOrderValue: f.cfg.maxOrderValue } });
        } else {
          const held = this.d.positions.get(f.id, base, u.product);
          const sameDirection = Math.sign(held) === Math.sign(leaderNetBefore) ? Math.abs(held) : 0;
          size = sizeExit({ leaderQty: qty, leaderPosition: Math.abs(leaderNetBefore), followerPosition: sameDirection, lotSize });
        }
        if (!size.ok) {
          out.push(skip(size.reason));
          continue;
        }
        const notional = size.notional ?? (refPrice ? size.quantity * refPrice : null);
        const threshold = this.d.approval?.thresholdInr ?? null;
        const lotsAbove = this.d.approval?.lotsAbove ?? null;
        // Fail closed: an entry whose value cannot be known waits for approval too. Exits never wait.
        const overValue = threshold !== null && (notional === null || notional > threshold);
        const overLots = lotsAbove !== null && size.lots > lotsAbove;
        const wait = kind === 'entry' && (overValue || overLots);
        const slices = sliceQty(size.quantity, lotSize, inst ? freezeQty(inst) : null);
        slices.forEach((q, i) => {
          const sliceLeg = legOf(leg, i);
          out.push({
            ...base,
            ...(wait ? { state: 'awaiting_approval' as const, approvalId: approvalId() } : {}),
            leg: sliceLeg,
            tag: copyTag(u.orderId, f.id, sliceLeg),
            plannedQty: q,
            lots: q / lotSize,
            notional: notional === null ? null : (notional * q) / size.quantity,
            ratio: effectiveRatio(policy),
            reason:
              [slices.length > 1 ? `slice ${i + 1} of ${slices.length} (freeze limit)` : null, size.note, wait && overLots ? `⚠ ${size.lots} lots, above the ${lotsAbove}-lot approval limit` : null]
                .filter(Boolean)
                .join('; ') || null,
          });
        });
      }
    }
    return out;
  }

  /**
   * Follow a leader modification: price, trigger and type go to every copy; a quantity change is
   * re-sized per follower and part (entries by the ratio, exits in proportion, never below what has
   * filled), then spread over the freeze-limit slices — extra slices placed, surplus ones cancelled.
   */
  private modifyCopies(u: BrokerOrder, prev: LeaderOrderSnapshot, a: Extract<LeaderAction, { kind: 'modify' }>): void {
    const groups = new Map<string, CopyRow[]>();
    for (const c of this.d.store.copies.forLeaderOrder(u.orderId)) {
      const k = `${c.followerId}:${partOf(c.leg)}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    const now = this.d.clock.now();
    for (const slices of groups.values()) {
      const live = slices.filter((c) => LIVE_COPY_STATES.includes(c.state));
      const first = slices[0]!;
      const f = this.followers.get(first.followerId);
      if (!f || live.length === 0) continue;
      const planned = slices.reduce((n, c) => n + (LIVE_COPY_STATES.includes(c.state) || c.state === 'filled' ? c.plannedQty : 0), 0);
      const filled = slices.reduce((n, c) => n + c.filledQty, 0);
      let total = planned;
      if (a.quantity !== prev.quantity) {
        if (first.kind === 'entry' && f.cfg.sizing !== 'fixed_lots' && first.ratio !== null) {
          total = floorLots((a.quantity / first.lotSize) * first.ratio) * first.lotSize;
          if (f.cfg.maxLots != null) total = Math.min(total, f.cfg.maxLots * first.lotSize);
        } else if (first.kind === 'exit' && prev.quantity > 0) {
          total = Math.min(floorLots(((planned / first.lotSize) * a.quantity) / prev.quantity) * first.lotSize, Math.abs(this.d.positions.get(f.id, first, first.product)));
        }
        total = Math.max(total, filled);
      }
      const inst = this.d.instruments.resolve(this.leaderBroker, f.master(this.leaderBroker), u.instrument);
      const targets = sliceQty(total, first.lotSize, inst.ok ? freezeQty(inst.instrument) : null);
      const terms = (quantity: number): OrderChange => ({
        orderType: a.orderType,
        validity: u.validity,
        quantity,
        ...(a.price > 0 ? { price: a.price } : {}),
        ...(a.triggerPrice > 0 ? { triggerPrice: a.triggerPrice } : {}),
      });
      const bySlice = [...slices].sort((x, y) => x.leg - y.leg);
      bySlice.forEach((c, i) => {
        if (!LIVE_COPY_STATES.includes(c.state)) return;
        const q = targets[i];
        if (q === undefined || q <= 0) void this.executor.cancel(c.id, c.followerId, 'the leader reduced the order');
        else void this.executor.modify(c.id, c.followerId, terms(Math.max(q, c.filledQty)));
      });
      // The leader grew the order past the slices we have: place the extra slices.
      const extra: NewCopy[] = targets.slice(bySlice.length).map((q, j) => {
        const leg = legOf(partOf(first.leg), bySlice.length + j);
        const { id: _id, ...rest } = first;
        return {
          ...rest,
          leg,
          tag: copyTag(u.orderId, f.id, leg),
          state: first.state === 'awaiting_approval' ? 'awaiting_approval' : 'planned',
          plannedQty: q,
          lots: q / first.lotSize,
          filledQty: 0,
          avgPrice: 0,
          followerOrderId: null,
          price: a.price,
          triggerPrice: a.triggerPrice,
          orderType: a.orderType,
          reason: 'extra slice after the leader increased the order',
          requestSentAt: null,
          ackedAt: null,
          filledAt: null,
          internalLatencyUs: null,
          brokerLatencyUs: null,
          createdAt: now,
          updatedAt: now,
        };
      });
      if (extra.length) for (const c of this.d.store.copies.insert(extra)) if (c.state === 'planned') void this.executor.place(c, null);
    }
  }

  private cancelCopies(leaderOrderId: string, why: string): void {
    for (const c of this.d.store.copies.forLeaderOrder(leaderOrderId)) {
      if (LIVE_COPY_STATES.includes(c.state)) void this.executor.cancel(c.id, c.followerId, why);
    }
  }

  /** A follower's own order stream: track its orders, fills and the copies they belong to. */
  onFollowerUpdate(f: FollowerRuntime, u: BrokerOrder): void {
    const { store, clock } = this.d;
    const copy = (u.tag ? store.copies.byTag(u.tag) : undefined) ?? store.copies.byFollowerOrder(f.id, u.orderId);
    const prev = store.copies.followerOrder(f.id, u.orderId);
    // A repeat of what is recorded already (a duplicated push, a book read) changes nothing.
    if (prev && prev.status === u.status && prev.filledQty >= u.filledQty && prev.quantity === u.quantity && prev.copyId === (copy?.id ?? null)) return;
    const prevFilled = prev?.filledQty ?? 0;
    const fillQty = u.filledQty > prevFilled ? u.filledQty - prevFilled : 0;
    const now = clock.now();
    const target = copyStateOf(u.status);
    let after: CopyRow | undefined;
    store.tx(() => {
      store.copies.upsertFollowerOrder({
        followerId: f.id,
        orderId: u.orderId,
        copyId: copy?.id ?? null,
        tag: u.tag,
        status: u.status,
        quantity: u.quantity,
        filledQty: Math.max(prevFilled, u.filledQty),
        avgPrice: u.avgPrice,
        reason: u.reason,
        updatedAt: now,
      });
      if (fillQty > 0) {
        store.fills.record(fillRow(f.id, u, fillQty, now, prevFilled, prev?.avgPrice ?? 0));
      }
      if (copy) {
        const patch: Partial<CopyRow> = { updatedAt: now };
        if (!copy.followerOrderId) patch.followerOrderId = u.orderId;
        if (u.filledQty > copy.filledQty) {
          patch.filledQty = u.filledQty;
          patch.avgPrice = u.avgPrice;
        }
        if (movesForward(copy.state, target)) {
          patch.state = target;
          if (target === 'filled') patch.filledAt = now;
          if (target === 'rejected') patch.reason = u.reason ?? 'rejected by the exchange';
        }
        store.copies.update(copy.id, patch);
        after = { ...copy, ...patch };
      }
    });
    if (fillQty > 0) {
      this.d.positions.add(f.id, u.instrument, u.product, signedQty(u.side, fillQty));
      if (f.broker.kind !== 'paper') this.d.prices.publish(u.instrument, u.avgPrice);
    }
    if (!copy || !after || after.state === copy.state) return;
    if (after.state === 'filled') {
      const leader = store.leader.get(copy.leaderOrderId);
      this.d.events.emit({ type: 'copy_filled', copy: after, leaderPrice: leader && leader.avgPrice > 0 ? leader.avgPrice : null });
    } else if (after.state === 'rejected') {
      this.d.events.emit({ type: 'copy_failed', copy: after, consequence: this.consequence(after) });
    } else if (after.state === 'cancelled' && copy.state === 'open') {
      this.d.events.emit({ type: 'copy_cancelled', copy: after });
    }
  }

  private onLeaderState(s: StreamState, detail?: string): void {
    const changed = s !== this.leaderStream;
    this.leaderStream = s;
    if (changed) this.leaderStreamSince = this.d.clock.now();
    if (changed || s === 'connected') this.d.events.emit({ type: 'stream', accountId: 'leader', state: s, detail });
    if (s === 'connected') void this.reconcile();
  }

  private onFollowerState(f: FollowerRuntime, s: StreamState, detail?: string): void {
    if (s === 'session_expired') this.executor.markSessionExpired(f, detail ?? 'order stream refused the token');
    this.d.events.emit({ type: 'stream', accountId: f.id, state: s, detail });
    // Fills pushed while the follower's stream was down are read back from its order book.
    if (s === 'connected' && this.running) void this.reconcileFollower(f);
  }

  /** Compare the leader's REST order book with what we know and replay what the stream missed. */
  reconcile(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = (async () => {
      try {
        const book = await this.d.leader.orders();
        for (const o of book) this.intake(o, 'reconcile');
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'leader reconciliation failed');
      }
      for (const f of this.followers.values()) await this.reconcileFollower(f);
    })().finally(() => {
      this.reconciling = null;
    });
    return this.reconciling;
  }

  /** Read the follower's book for copies still open here: their fills or cancels may have been missed. */
  private async reconcileFollower(f: FollowerRuntime): Promise<void> {
    const stale = this.d.store.copies.inStates(['open']).filter((c) => c.followerId === f.id);
    if (stale.length === 0 || !f.sessionOk) return;
    try {
      const book = await f.broker.orders();
      const tags = new Set(stale.map((c) => c.tag));
      for (const o of book) if (o.tag && tags.has(o.tag)) this.onFollowerUpdate(f, o);
    } catch (e) {
      this.log.warn({ follower: f.id, err: (e as Error).message }, 'follower reconciliation failed');
    }
  }

  /**
   * Record the orders tandem placed (tagged) from a follower's order book, so that a copy whose
   * commit a power cut lost is adopted by its tag instead of being sent again. Until the book has
   * been read, nothing is copied to that follower (skipped, with the reason). Read at start-up and
   * when a dead session comes back (sessions.ts); a read that fails for another reason is retried
   * every 5 s.
   */
  async readFollowerBook(f: FollowerRuntime, attempt = 1): Promise<void> {
    clearTimeout(this.bookRetries.get(f.id));
    this.bookRetries.delete(f.id);
    try {
      const book = await f.broker.orders();
      for (const o of book) {
        if (!o.tag || !TAG_PATTERN.test(o.tag)) continue;
        this.onFollowerUpdate(f, o);
        if (!this.d.store.copies.byTag(o.tag)) f.unclaimed.set(o.tag, o);
      }
      f.bookRead = true;
      if (attempt > 1) this.log.info({ follower: f.id, attempt }, 'follower order book read; copying resumes');
    } catch (e) {
      if (!this.running) return;
      const err = e instanceof Error ? e.message : String(e);
      // A dead token: marked like any other call's (one alert); its revival reads the book again.
      if (e instanceof SessionExpired) {
        this.executor.markSessionExpired(f, err);
        this.log.info({ follower: f.id, err }, 'follower order book not read: the session is dead; read again when it comes back');
        return;
      }
      if (attempt === 1) {
        this.log.warn({ follower: f.id, err }, 'could not read the follower order book at start-up; retrying every 5 s');
        this.d.events.emit({
          type: 'error',
          accountId: f.id,
          message: `Could not read ${f.id}'s order book at start-up: ${err}. Nothing is copied to ${f.id} until it can be read (retrying every 5 s), so that an order placed just before a crash is never sent twice.`,
        });
      }
      const t = setTimeout(() => void this.readFollowerBook(f, attempt + 1), this.d.bookRetryMs ?? 5_000);
      t.unref();
      this.bookRetries.set(f.id, t);
    }
  }

  /** Copies a crash left behind: `placing` is resolved by tag, fresh `planned` is placed, stale fails. */
  private async recover(): Promise<void> {
    const { store, clock } = this.d;
    const staleAfter = this.d.staleAfterMs ?? 60_000;
    this.approvals.voidAllPending('tandem restarted before it was answered');
    const work: Promise<void>[] = [];
    for (const c of store.copies.inStates(['placing', 'planned'])) {
      if (c.state === 'placing') work.push(this.executor.recover(c));
      else if (clock.now() - c.createdAt <= staleAfter) work.push(this.executor.place(c, null));
      else {
        store.copies.update(c.id, { state: 'failed', reason: 'not placed before a restart and now stale; not sent', updatedAt: clock.now() });
        const row = store.copies.get(c.id);
        if (row) this.d.events.emit({ type: 'copy_failed', copy: row, consequence: this.consequence(row) });
      }
    }
    if (work.length) this.log.info({ copies: work.length }, 'resolving copies left from before the restart');
    await Promise.all(work);
  }

  private async loadPositions(): Promise<void> {
    const accounts: Broker[] = [this.d.leader, ...[...this.followers.values()].map((f) => f.broker)];
    await Promise.all(
      accounts.map((b) =>
        this.safely(`load positions of ${b.accountId}`, async () => this.d.positions.load(b.accountId, await b.positions())),
      ),
    );
  }

  /** Funds for capital-proportional sizing, refreshed in the background only. */
  async refreshFunds(): Promise<void> {
    await this.safely('refresh leader funds', async () => {
      this.leaderFunds = (await this.d.leader.funds()).available;
    });
    await Promise.all(
      [...this.followers.values()].map((f) =>
        this.safely(`refresh funds of ${f.id}`, async () => {
          f.funds = (await f.broker.funds()).available;
        }),
      ),
    );
  }

  /** "F1 now differs from the leader in NIFTY…: leader holds 150, F1 holds 0." */
  consequence(c: CopyRow): string {
    const leaderRow = this.d.store.leader.get(c.leaderOrderId);
    const product = c.product;
    const leaderNet = leaderRow ? this.d.positions.get('leader', leaderRow, product) : null;
    const held = this.d.positions.get(c.followerId, c, product);
    const lots = (q: number) => (c.lotSize > 1 ? `${q / c.lotSize} lot(s)` : `${q}`);
    const leaderPart = leaderNet === null ? '' : `leader holds ${lots(leaderNet)}, `;
    return `${c.followerId} now differs from the leader in ${c.symbol}: ${leaderPart}${c.followerId} holds ${lots(held)}.`;
  }
}
