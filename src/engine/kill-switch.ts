/**
 * The kill switch and the flatten action. /halt stops all copying — exits too — voids pending
 * approvals and cancels every copy not yet filled; the trade-off (leader exits no longer mirrored)
 * is why its alert lists the open follower positions. Flatten squares off follower positions with
 * market orders that go through the same exactly-once machinery as copies (intent row, tag).
 */
import { randomBytes } from 'node:crypto';
import type { Position } from '../domain/order.js';
import { opposite } from '../domain/order.js';
import { copyTag } from '../domain/tag.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import type { ApprovalManager } from './approvals.js';
import type { CopyExecutor } from './copy-executor.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface OpenPosition {
  followerId: string;
  position: Position;
  lotSize: number;
}

export class KillSwitch {
  constructor(
    private readonly store: Store,
    private readonly settings: RuntimeSettings,
    private readonly followers: Map<string, FollowerRuntime>,
    private readonly executor: CopyExecutor,
    private readonly approvals: ApprovalManager,
    private readonly instruments: InstrumentResolver,
    private readonly leaderBroker: () => string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get halted(): boolean {
    return this.settings.isHalted();
  }

  /** Stop everything now. Returns how many copies were cancelled. */
  halt(by: number | null): number {
    this.settings.setHalted(true, by);
    for (const a of this.approvals.pending()) this.approvals.voidFor(a.leaderOrderId, 'the engine was halted');
    const live = this.store.copies.inStates(LIVE_COPY_STATES.filter((s) => s !== 'awaiting_approval'));
    for (const c of live) void this.executor.cancel(c.id, c.followerId, 'halted');
    this.log.warn({ by, cancelled: live.length }, 'HALT: copying stopped, open copies cancelled');
    return live.length;
  }

  resume(by: number | null): void {
    this.settings.setHalted(false, by);
    this.log.warn({ by }, 'halt lifted: copying resumes');
  }

  /** Every open follower position, read fresh from each broker (falls back to nothing on error). */
  async openPositions(ids: string[] | 'all'): Promise<OpenPosition[]> {
    const out: OpenPosition[] = [];
    for (const f of this.followers.values()) {
      if (ids !== 'all' && !ids.includes(f.id)) continue;
      let positions: Position[] = [];
      try {
        positions = await f.broker.positions();
      } catch (e) {
        this.log.warn({ follower: f.id, err: (e as Error).message }, 'could not read positions');
      }
      // Exits already on their way (copies not yet filled) will close part of a position: leave that part alone.
      const closing = this.store.copies
        .inStates(['planned', 'placing', 'open'])
        .filter((c) => c.followerId === f.id && c.kind === 'exit');
      for (const p of positions) {
        if (p.netQty === 0) continue;
        const away = closing
          .filter((c) => c.segment === p.instrument.segment && c.securityId === p.instrument.securityId && c.product === p.product && c.side === (p.netQty > 0 ? 'SELL' : 'BUY'))
          .reduce((n, c) => n + c.plannedQty - c.filledQty, 0);
        const left = Math.max(0, Math.abs(p.netQty) - away);
        if (left === 0) continue;
        const inst = this.instruments.lookup(f.master(this.leaderBroker()), p.instrument);
        out.push({ followerId: f.id, position: { ...p, netQty: Math.sign(p.netQty) * left }, lotSize: inst?.lotSize ?? 1 });
      }
    }
    return out;
  }

  /**
   * Square off the given positions with market orders, one intent row each (kind exit, a
   * `flatten-…` leader id and its own tag), placed through each follower's queue.
   */
  flatten(positions: OpenPosition[], by: number | null): CopyRow[] {
    const id = `flatten-${randomBytes(4).toString('hex')}`;
    const now = this.clock.now();
    const rows: NewCopy[] = positions.map((p, i) => ({
      leaderOrderId: id,
      followerId: p.followerId,
      leg: i,
      kind: 'exit',
      state: 'planned',
      tag: copyTag(id, p.followerId, i),
      segment: p.position.instrument.segment,
      securityId: p.position.instrument.securityId,
      symbol: p.position.instrument.symbol,
      side: opposite(p.position.netQty > 0 ? 'BUY' : 'SELL'),
      orderType: 'MARKET',
      product: p.position.product,
      validity: 'DAY',
      amo: false,
      lotSize: p.lotSize,
      plannedQty: Math.abs(p.position.netQty),
      lots: Math.abs(p.position.netQty) / p.lotSize,
      reason: `flatten by ${by ?? 'system'}`,
      eventAt: now,
      createdAt: now,
      updatedAt: now,
    }));
    const inserted = this.store.copies.insert(rows);
    for (const c of inserted) void this.executor.place(c, null);
    this.log.warn({ by, orders: inserted.length }, 'flatten: squaring off follower positions');
    return inserted;
  }
}
