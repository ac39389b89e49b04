/**
 * The replication engine: leader updates in, copies out.
 *
 * Hot path (one leader update): dedupe against memory → plan (pure) → size each follower (pure,
 * cached instruments, funds and positions) → ONE synchronous SQLite transaction (event, leader
 * order, leader fill, copy intents) → hand planned copies to each follower's own queue. No
 * network call happens before the follower's order request.
 */
import type { StreamState } from '../brokers/port.js';
import type { BrokerOrder } from '../domain/order.js';
import { isTerminal, signedQty } from '../domain/order.js';
import { nextSnapshot, isNews, isStaleFirstSight, planLeaderUpdate, type LeaderAction, type LeaderOrderSnapshot } from '../domain/planner.js';
import { istTime } from '../domain/time.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow } from '../store/index.js';
import { snapshotOf } from '../store/leader-repo.js';
import { ApprovalManager, newApprovalId } from './approvals.js';
import { KillSwitch } from './kill-switch.js';
import { CopyExecutor, DEFAULT_EXECUTOR_OPTIONS } from './copy-executor.js';
import { CopyPlanner, type Valuation } from './copy-planner.js';
import { approvalNoLongerHolds } from './approval-recheck.js';
import { MarketEntryHold, MarketValuer, quoteAccountsOf } from './market-value.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import { consequenceOf } from './consequence.js';
import type { EngineDeps } from './engine-deps.js';
import { ExitLifecycle } from './exit-lifecycle.js';
import type { FollowerRuntime } from './follower.js';
import { applyFollowerUpdate, StreamUpdateBatch, type FollowerUpdateDeps } from './follower-updates.js';
import { recordLeaderUpdate } from './leader-record.js';
import { CopyModifier } from './modify-copies.js';
import { PositionLoader } from './position-loader.js';
import { Reconciler } from './reconcile.js';
import { recoverCopies } from './recovery.js';
import { FollowerRulesBook } from './follower-rules.js';
import type { LossGuard } from './loss-guard.js';

export type { EngineDeps } from './engine-deps.js';

type Source = 'stream' | 'reconcile' | 'sim';


export class ReplicationEngine {
  readonly followers: Map<string, FollowerRuntime>;
  readonly executor: CopyExecutor;
  readonly approvals: ApprovalManager;
  readonly killSwitch: KillSwitch;
  readonly loader: PositionLoader;
  /** Each follower's effective rules (issue 17). */
  readonly rules: FollowerRulesBook;
  /** Stops entries of a follower past its daily loss limit; null: none. */
  lossGuard: LossGuard | null;
  leaderStream: StreamState = 'stopped';
  leaderStreamSince = 0;
  lastLeaderEventAt: number | null = null;
  leaderFunds: number | null = null;
  private readonly memo = new Map<string, LeaderOrderSnapshot>();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private running = false;
  /** The start-up recovery ran: a follower whose book is read later is recovered on its own. */
  private recovered = false;
  private readonly planner: CopyPlanner;
  private readonly modifier: CopyModifier;
  private readonly exits: ExitLifecycle;
  private readonly reconciler: Reconciler;
  private readonly log: Logger;
  private readonly updateDeps: FollowerUpdateDeps;
  private readonly streamUpdates: StreamUpdateBatch;
  private readonly hold: MarketEntryHold;

  constructor(private readonly d: EngineDeps) {
    this.log = d.logger.child({ module: 'engine' });
    this.updateDeps = { store: d.store, clock: d.clock, positions: d.positions, prices: d.prices, events: d.events, consequence: (c) => this.consequence(c), onFill: (id) => this.lossGuard?.onFill(id) };
    this.streamUpdates = new StreamUpdateBatch(this.updateDeps, (err, f, u) =>
      this.log.error({ err, follower: f.id, orderId: u.orderId, status: u.status }, 'a follower order update could not be applied'),
    );
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
    this.loader = new PositionLoader(d.positions, d.store, d.clock, d.events, this.log);
    const leaderBroker = () => this.leaderBroker;
    this.rules = d.rules ?? new FollowerRulesBook(d.followers.map((f) => f.cfg), d.settings);
    this.lossGuard = d.lossGuard ?? null;
    this.planner = new CopyPlanner({
      store: d.store,
      followers: this.followers,
      instruments: d.instruments,
      prices: d.prices,
      settings: d.settings,
      positions: d.positions,
      log: this.log,
      leaderBroker,
      leaderFunds: () => this.leaderFunds,
      leaderStatus: (id) => this.snapshot(id)?.status ?? null,
      approval: d.approval,
      rules: { rules: this.rules, entryWindow: d.entryWindow ?? { from: null, until: null }, clock: d.clock, lossGuard: () => this.lossGuard },
    });
    this.hold = new MarketEntryHold(
      {
        approval: d.approval,
        followers: () => this.followers.values(),
        quoteAccounts: quoteAccountsOf(d.leader, () => this.followers.values(), d.instruments),
        mirror: (u, valuation) => {
          // Meanwhile an update may have mirrored it (its fill came) or ended it: then nothing to do.
          const prev = this.snapshot(u.orderId);
          if (this.running && prev && !prev.mirrored && prev.status === 'open') this.apply(u, null, prev, [{ kind: 'mirror' }], performance.now(), valuation);
        },
        waitMs: d.marketValueWaitMs ?? 300,
      },
      new MarketValuer(d.prices, d.clock, this.log),
    );
    const recheck = { store: d.store, positions: d.positions, prices: d.prices, snapshot: (id: string) => this.snapshot(id) };
    this.approvals.recheck = (a, copies) => approvalNoLongerHolds(recheck, a.leaderOrderId, copies);
    // The follower's own state and rules are asked again at the tap: a pause, a loss stop, the entry window.
    this.approvals.blockedAtTap = (c) => {
      const f = this.followers.get(c.followerId);
      return f ? this.planner.blocked(f, 'entry', null, d.instruments.lookup(f.master(this.leaderBroker), c) ?? null) : `${c.followerId} is no longer configured`;
    };
    this.modifier = new CopyModifier({
      store: d.store,
      followers: this.followers,
      executor: this.executor,
      instruments: d.instruments,
      positions: d.positions,
      prices: d.prices,
      settings: d.settings,
      clock: d.clock,
      log: this.log,
      leaderBroker,
      leaderFunds: () => this.leaderFunds,
      approval: d.approval,
      blocked: (f, inst) => this.planner.blocked(f, 'entry', null, inst),
      newApprovalId,
      requestApproval: (leaderOrderId, copies, describe) => {
        if (d.approval) this.approvals.request(leaderOrderId, copies, d.approval, describe);
      },
    });
    const followerUpdate = (f: FollowerRuntime, u: BrokerOrder) => this.onFollowerUpdate(f, u);
    // Orders read back while an unknown outcome is settled book their fills like a stream update.
    this.executor.onOrderSeen = followerUpdate;
    this.executor.onSettle = () => this.streamUpdates.flush();
    this.exits = new ExitLifecycle({ store: d.store, executor: this.executor, positions: d.positions, instruments: d.instruments, clock: d.clock, log: this.log, events: d.events, leaderBroker, followerUpdate });
    this.reconciler = new Reconciler({
      store: d.store,
      leader: d.leader,
      followers: this.followers,
      executor: this.executor,
      loader: this.loader,
      events: d.events,
      log: this.log,
      intake: (u) => this.intake(u, 'reconcile'),
      followerUpdate,
      running: () => this.running,
      bookRetryMs: d.bookRetryMs ?? 5_000,
      onBookRead: (f) => {
        if (this.recovered) void this.recover(f);
      },
    });
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
          onUpdate: (u) => this.streamUpdates.push(f, u),
          onState: (s, detail) => this.onFollowerState(f, s, detail),
        }),
      );
    }
    await Promise.all([...this.followers.values()].map((f) => this.safely(`start follower ${f.id}`, () => f.broker.start())));
    // Each account's position book: what it carried into today, plus today's fills already counted.
    // Then the follower books (their fills count once more only if new), then what a crash left.
    await Promise.all([leader, ...[...this.followers.values()].map((f) => f.broker)].map((b) => this.loader.load(b.accountId, b)));
    await Promise.all([...[...this.followers.values()].map((f) => this.reconciler.readFollowerBook(f)), this.refreshFunds()]);
    await this.recover();
    this.recovered = true;
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
    this.streamUpdates.flush();
    this.planner.logDecisions();
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.reconciler.stop();
    this.approvals.stop();
    this.hold.stop();
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
    this.streamUpdates.flush();
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
    // Follower updates that arrived before this leader event are in the store before it is planned.
    this.streamUpdates.flush(true);
    if (!this.running) return;
    const t0 = performance.now();
    const prev = this.snapshot(u.orderId);
    // A working order never mirrored and not waiting for its price lost its wait to a restart: news.
    const orphaned = prev !== null && !prev.mirrored && prev.status === 'open' && u.status === 'open' && !this.hold.isHeld(u.orderId);
    if (!isNews(prev, u) && !orphaned) return;
    this.apply(u, source, prev, planLeaderUpdate(prev, u), t0, null);
  }

  /**
   * One leader update's consequences: its event and order recorded, the copies planned, inserted and
   * handed to the queues, fills booked, modifications and cancels followed. `valuation` is given
   * when a held MARKET entry is mirrored after its wait (its event was recorded when it came).
   */
  private apply(u: BrokerOrder, source: Source | null, prev: LeaderOrderSnapshot | null, actions: LeaderAction[], t0: number, valuation: Valuation | null): void {
    const { store, clock } = this.d;
    const now = clock.now();
    const heldSince = this.hold.release(u.orderId);
    let mirror = actions.some((a) => a.kind === 'mirror');
    const fill = actions.find((a): a is Extract<LeaderAction, { kind: 'fill' }> => a.kind === 'fill');
    const positionBefore = mirror ? this.d.positions.get('leader', u.instrument, u.product) : null;
    // A MARKET entry has no price until it fills (within milliseconds): when a value gate needs one,
    // wait for that fill a bounded moment rather than ask for approval of an unknown value.
    const since = heldSince ?? now;
    const hold = mirror && valuation === null && this.hold.shouldHold(u, positionBefore ?? 0, since, now);
    if (hold) mirror = false;
    let approvalId: string | null = null;
    const plan = mirror ? this.planner.plan(u, positionBefore ?? 0, now, () => (approvalId ??= newApprovalId()), valuation ?? undefined) : { copies: [], deferred: [] };
    let planned = plan.copies;
    if (mirror && isStaleFirstSight(prev, u, now, this.d.staleFillMs ?? 120_000)) {
      const at = u.exchangeTime === null ? '?' : istTime(u.exchangeTime);
      planned = planned.map((c) => ({ ...c, state: 'skipped' as const, approvalId: null, reason: `filled at ${at} IST but seen only now: not copied at a later price` }));
    }
    const deferred = new Map(plan.deferred.map((x) => [x.tag, x]));
    const approval = this.d.approval;
    const needsApproval = approval && planned.some((c) => c.state === 'awaiting_approval');
    const snap = nextSnapshot(prev, u, (prev?.mirrored ?? false) || mirror);
    // A follower that can send at once (queue empty, a rate-limit token free) gets its first copy
    // of this event inserted already claimed (`placing`): this transaction is then the one write
    // before the order call. Copies that wait their turn (or for cancels) are claimed when it comes,
    // so a halt or a cancel meanwhile still stops them (CopyExecutor.place).
    const claimedNow = new Set<string>();
    planned = planned.map((c) => {
      if (c.state !== 'planned' || deferred.has(c.tag) || claimedNow.has(c.followerId) || !this.followers.get(c.followerId)?.idleNow) return c;
      claimedNow.add(c.followerId);
      return { ...c, state: 'placing' as const };
    });
    // Nothing follows from it (a working order's TRANSIT → PENDING): it needs no commit of its own.
    // An order's end is recorded at once whatever follows (the unfilled-entry watch reads it).
    const quiet = actions.length === 0 && planned.length === 0 && !needsApproval && !hold && heldSince === null && !isTerminal(u.status);
    const { inserted, counted } = recordLeaderUpdate(store, this.log, (id, s) => this.memo.get(id) === s, {
      u,
      source,
      snap,
      prev,
      now,
      positionBefore,
      fillQty: fill ? fill.qty : null,
      approval: needsApproval && approvalId ? { id: approvalId, config: approval } : null,
      planned,
      quiet,
    });
    this.memo.set(u.orderId, snap);
    this.lastLeaderEventAt = now;
    if (hold) this.hold.hold(u, since, now);

    for (const c of inserted) {
      const x = c.state === 'planned' ? deferred.get(c.tag) : undefined;
      const f = this.followers.get(c.followerId);
      if (x && f) void this.exits.run(f, c, x);
      else if (c.state === 'placing') void this.executor.placeClaimed(c, t0);
      else if (c.state === 'planned') void this.executor.place(c, t0);
      else if (c.state === 'skipped') this.d.events.emit({ type: 'copy_skipped', copy: c });
    }
    if (needsApproval && approvalId) {
      const row = store.approvals.get(approvalId);
      if (row) this.approvals.opened(row, `${u.side} ${u.quantity} ${u.instrument.symbol} ${u.orderType}${u.price ? ` @ ${u.price}` : ''} (leader ${u.orderId})`);
    }
    // Counted once: a fill whose row was there already (a replay) does not move the position again.
    if (fill && counted) this.d.positions.add('leader', u.instrument, u.product, signedQty(u.side, fill.qty));
    if (fill) this.d.prices.publish(u.instrument, u.avgPrice);
    for (const a of actions) {
      if (a.kind === 'modify' && prev) {
        this.approvals.voidFor(u.orderId, 'the leader modified the order');
        this.modifier.modifyCopies(u, prev, a);
      } else if (a.kind === 'cancel') {
        this.approvals.voidFor(u.orderId, `the leader order was ${a.why}`);
        this.cancelCopies(u.orderId, `leader order ${a.why}`);
      }
    }
  }

  private cancelCopies(leaderOrderId: string, why: string): void {
    for (const c of this.d.store.copies.forLeaderOrder(leaderOrderId)) {
      if (LIVE_COPY_STATES.includes(c.state)) void this.executor.cancel(c.id, c.followerId, why);
      // A copy in doubt has no order id to cancel: the owner is told (it is adopted if it turns up).
      else if (c.state === 'unknown') this.executor.unknown.cannotCancel(c, why);
    }
  }

  /** A follower's own order stream: track its orders, fills and the copies they belong to. */
  onFollowerUpdate(f: FollowerRuntime, u: BrokerOrder): void {
    applyFollowerUpdate(this.updateDeps, f, u);
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
    if (s === 'connected' && this.running) void this.reconciler.reconcileFollower(f);
  }

  /** Compare the leader's REST order book with what we know and replay what the stream missed. */
  reconcile(): Promise<void> {
    return this.reconciler.reconcile();
  }

  /** Read a follower's order book (start-up, a session come back); see Reconciler.readFollowerBook. */
  readFollowerBook(f: FollowerRuntime): Promise<void> {
    return this.reconciler.readFollowerBook(f);
  }

  /** Read an account's positions and holdings again (a session came back). */
  reloadPositions(accountId: string): Promise<boolean> {
    const b = accountId === 'leader' ? this.d.leader : this.followers.get(accountId)?.broker;
    return b ? this.loader.load(accountId, b) : Promise.resolve(false);
  }

  /** Copies a crash left behind (see recovery.ts); only for followers whose order book has been read. */
  private recover(only?: FollowerRuntime): Promise<void> {
    if (!only) this.approvals.voidAllPending('tandem restarted before it was answered');
    return recoverCopies({ store: this.d.store, clock: this.d.clock, executor: this.executor, followers: this.followers, events: this.d.events, log: this.log, staleAfterMs: this.d.staleAfterMs ?? 60_000, consequence: (c) => this.consequence(c) }, only);
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
    return consequenceOf(this.d.store, this.d.positions, c);
  }
}
