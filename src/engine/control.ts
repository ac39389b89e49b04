/**
 * What the chat can see and change, in one place: status, pause/resume, ratio. Every change is
 * persisted (RuntimeSettings) and audited with its actor by the caller (the bot).
 */
import type { Config, TradingMode } from '../config.js';
import { RATIO_MAX } from '../config.js';
import { istDayStart } from '../domain/time.js';
import type { StreamState } from '../brokers/port.js';
import type { Clock } from '../infra/clock.js';
import type { ApprovalRow, CopyRow, Store } from '../store/index.js';
import type { Decision, DecideResult } from './approvals.js';
import type { AdoptOutcome, SendOutcome } from './unknown-outcome.js';
import type { FlattenResult, PositionsRead } from './kill-switch.js';
import type { Position } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import { pnlOf, pnlSeries, type FillLike, type PnlPoint } from '../domain/pnl.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { ReplicationEngine } from './engine.js';
import type { PositionBook } from './positions.js';
import type { LossStatus } from './loss-guard.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface FollowerStatus {
  id: string;
  broker: string;
  ratio: number;
  sizing: string;
  paused: boolean;
  sessionOk: boolean;
  copiesToday: number;
  placedToday: number;
  skippedToday: number;
  failedToday: number;
  openPositions: number;
  lastError: { at: number; reason: string } | null;
  /** Its daily loss limit today (null: none set); `stopped` when entries are stopped by it. */
  loss?: LossStatus | null;
}

export interface StatusView {
  mode: TradingMode;
  halted: { by: number | null; at: number } | null;
  pendingApprovals: number;
  demo: boolean;
  leaderBroker: string;
  leaderStream: StreamState;
  lastLeaderEventAt: number | null;
  pausedAll: { by: number | null; at: number } | null;
  followers: FollowerStatus[];
}

export type Target = { kind: 'all' } | { kind: 'follower'; id: string };

export class Control {
  constructor(
    private readonly cfg: Config,
    private readonly engine: ReplicationEngine,
    private readonly settings: RuntimeSettings,
    private readonly positions: PositionBook,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly prices: PriceBoard,
  ) {}

  get followerIds(): string[] {
    return [...this.engine.followers.keys()];
  }

  hasFollower(id: string): boolean {
    return this.engine.followers.has(id);
  }

  ratioOf(id: string): number {
    const f = this.engine.followers.get(id);
    return this.settings.ratio(id) ?? f?.cfg.ratio ?? 1;
  }

  status(): StatusView {
    const since = istDayStart(this.clock.now());
    const all = this.settings.pauseState('all');
    const halt = this.settings.haltState();
    return {
      mode: this.cfg.mode,
      halted: halt?.paused ? { by: halt.by, at: halt.at } : null,
      pendingApprovals: this.engine.approvals.pending().length,
      demo: this.cfg.demo,
      leaderBroker: this.engine.leaderBroker,
      leaderStream: this.engine.leaderStream,
      lastLeaderEventAt: this.engine.lastLeaderEventAt,
      pausedAll: all?.paused ? { by: all.by, at: all.at } : null,
      followers: [...this.engine.followers.values()].map((f) => {
        const today = this.store.copies.since(f.id, since);
        const problem = this.store.copies.lastProblem(f.id);
        return {
          id: f.id,
          broker: f.broker.kind,
          ratio: this.ratioOf(f.id),
          sizing: f.cfg.sizing,
          paused: this.settings.isPaused(f.id),
          sessionOk: f.sessionOk,
          copiesToday: today.length,
          placedToday: today.filter((c) => c.state === 'open' || c.state === 'filled' || c.state === 'placing').length,
          skippedToday: today.filter((c) => c.state === 'skipped').length,
          // A copy whose outcome is unknown counts with the failures until someone settles it.
          failedToday: today.filter((c) => c.state === 'failed' || c.state === 'rejected' || c.state === 'unknown').length,
          openPositions: this.positions.openCount(f.id),
          lastError: problem?.reason ? { at: problem.updatedAt, reason: problem.reason } : null,
          loss: this.engine.lossGuard?.status(f.id) ?? null,
        };
      }),
    };
  }

  pause(target: Target, actor: number | null): void {
    this.settings.setPaused(target.kind === 'all' ? 'all' : target.id, true, actor);
  }

  /**
   * Resume entries. Returns the leader orders whose entries were skipped while paused (they are
   * not back-filled).
   */
  resume(target: Target, actor: number | null): CopyRow[] {
    const key = target.kind === 'all' ? 'all' : target.id;
    const since = this.settings.pauseState(key)?.at ?? this.clock.now();
    this.settings.setPaused(key, false, actor);
    if (target.kind === 'all') {
      // A global resume also clears each follower's own pause.
      for (const id of this.followerIds) if (this.settings.pauseState(id)?.paused) this.settings.setPaused(id, false, actor);
    }
    return this.store.copies
      .since(target.kind === 'all' ? null : target.id, since)
      .filter((c) => c.state === 'skipped' && c.reason?.startsWith('paused'));
  }

  decideApproval(id: string, decision: Decision, actor: number): DecideResult {
    return this.engine.approvals.decide(id, decision, actor);
  }

  /** *It is there* on a copy whose outcome is unknown: read the follower's book, adopt the order if found. */
  adoptUnknown(copyId: number): Promise<AdoptOutcome> {
    return this.engine.executor.unknown.adopt(copyId);
  }

  /** *Send it* (second tap) on a copy whose outcome is unknown. Refused while halted. */
  sendUnknown(copyId: number, actor: number): SendOutcome {
    if (this.halted) return { kind: 'refused', copy: this.store.copies.get(copyId), reason: 'tandem is halted: nothing is sent (/resume all first)' };
    return this.engine.executor.unknown.sendIt(copyId, actor);
  }

  pendingApprovals(): { approval: ApprovalRow; copies: CopyRow[] }[] {
    return this.engine.approvals.pending().map((approval) => ({ approval, copies: this.engine.approvals.copiesOf(approval.id) }));
  }

  get halted(): boolean {
    return this.engine.killSwitch.halted;
  }

  /** The kill switch. Returns the open follower positions the alert must list (and who could not be read). */
  async halt(actor: number | null): Promise<{ cancelled: number; open: PositionsRead }> {
    const cancelled = this.engine.killSwitch.halt(actor);
    return { cancelled, open: await this.engine.killSwitch.openPositions('all') };
  }

  resumeFromHalt(actor: number | null): void {
    this.engine.killSwitch.resume(actor);
  }

  openPositions(ids: string[] | 'all'): Promise<PositionsRead> {
    return this.engine.killSwitch.openPositions(ids);
  }

  /** Cancel resting exit copies, then close what is really held (see KillSwitch.flatten). */
  flatten(ids: string[] | 'all', actor: number | null): Promise<FlattenResult> {
    return this.engine.killSwitch.flatten(ids, actor);
  }

  /** Positions at one follower's broker (fresh), or the engine's own book when the broker is unreachable. */
  async brokerPositions(id: string): Promise<Position[]> {
    const f = this.engine.followers.get(id);
    if (!f) return [];
    return f.broker.positions();
  }

  /** Today's copies for a follower (or all), newest first. */
  copiesToday(id: string | null): CopyRow[] {
    return this.store.copies.since(id, istDayStart(this.clock.now())).reverse();
  }

  private fillsOf(accountId: string, since: number): FillLike[] {
    return this.store.fills.since(accountId, since).map((f) => ({ at: f.at, side: f.side, qty: f.qty, price: f.price, key: instrumentKey(f) }));
  }

  /** P&L per account (leader first) since `since`, marked at the last prices seen, with a series for the chart. */
  pnl(since: number): { account: string; pnl: number; series: PnlPoint[] }[] {
    const accounts = ['leader', ...this.followerIds];
    const fills = new Map(accounts.map((a) => [a, this.fillsOf(a, since)]));
    const marks = [...fills.values()].flat();
    return accounts.map((a) => {
      const own = fills.get(a) ?? [];
      return {
        account: a,
        pnl: pnlOf(own, (k) => {
          const [segment, securityId] = k.split(':') as [Parameters<PriceBoard['last']>[0]['segment'], string];
          return this.prices.last({ segment, securityId });
        }),
        series: pnlSeries(own, marks),
      };
    });
  }

  /** Today's P&L per follower, marked at the last prices seen (for /status). */
  pnlToday(): Map<string, number> {
    const since = istDayStart(this.clock.now());
    return new Map(
      this.followerIds.map((id) => [
        id,
        pnlOf(this.fillsOf(id, since), (k) => {
          const [segment, securityId] = k.split(':') as [Parameters<PriceBoard['last']>[0]['segment'], string];
          return this.prices.last({ segment, securityId });
        }),
      ]),
    );
  }

  health(): {
    leaderStream: StreamState;
    leaderSince: number;
    lastLeaderEventAt: number | null;
    followers: { id: string; sessionOk: boolean; detail: string | null; queue: number }[];
    lastDbWrite: number;
  } {
    return {
      leaderStream: this.engine.leaderStream,
      leaderSince: this.engine.leaderStreamSince,
      lastLeaderEventAt: this.engine.lastLeaderEventAt,
      followers: [...this.engine.followers.values()].map((f) => ({ id: f.id, sessionOk: f.sessionOk, detail: f.sessionDetail, queue: f.depth })),
      lastDbWrite: this.store.lastWriteAt,
    };
  }

  /** Today's internal and broker latency percentiles per follower, from the copies' timestamps (µs). */
  latency(): { id: string; internalP50: number | null; internalP99: number | null; brokerP50: number | null; brokerP99: number | null }[] {
    const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : null);
    return this.followerIds.map((id) => {
      const cs = this.copiesToday(id);
      const internal = cs.map((c) => c.internalLatencyUs).filter((x): x is number => x != null);
      const broker = cs.map((c) => c.brokerLatencyUs).filter((x): x is number => x != null);
      return { id, internalP50: pct(internal, 50), internalP99: pct(internal, 99), brokerP50: pct(broker, 50), brokerP99: pct(broker, 99) };
    });
  }

  setRatio(id: string, ratio: number, actor: number | null): { old: number; next: number } {
    if (!(ratio > 0 && ratio <= RATIO_MAX)) throw new RangeError(`ratio must be greater than 0 and at most ${RATIO_MAX}`);
    const old = this.ratioOf(id);
    this.settings.setRatio(id, ratio, actor);
    return { old, next: ratio };
  }
}
