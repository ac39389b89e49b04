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
import type { ReplicationEngine } from './engine.js';
import type { PositionBook } from './positions.js';
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
}

export interface StatusView {
  mode: TradingMode;
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
    return {
      mode: this.cfg.mode,
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
          failedToday: today.filter((c) => c.state === 'failed' || c.state === 'rejected').length,
          openPositions: this.positions.openCount(f.id),
          lastError: problem?.reason ? { at: problem.updatedAt, reason: problem.reason } : null,
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

  pendingApprovals(): { approval: ApprovalRow; copies: CopyRow[] }[] {
    return this.engine.approvals.pending().map((approval) => ({ approval, copies: this.engine.approvals.copiesOf(approval.id) }));
  }

  setRatio(id: string, ratio: number, actor: number | null): { old: number; next: number } {
    if (!(ratio > 0 && ratio <= RATIO_MAX)) throw new RangeError(`ratio must be greater than 0 and at most ${RATIO_MAX}`);
    const old = this.ratioOf(id);
    this.settings.setRatio(id, ratio, actor);
    return { old, next: ratio };
  }
}
