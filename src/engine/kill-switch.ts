/**
 * The kill switch and the flatten action. /halt stops all copying — exits too — voids pending
 * approvals and cancels every copy not yet filled; the trade-off (leader exits no longer mirrored)
 * is why its alert lists the open follower positions. Flatten squares off follower positions with
 * market orders that go through the same exactly-once machinery as copies (intent row, tag).
 *
 * Positions are read fresh from each follower's broker and counted whole: a resting exit copy (a
 * working SL or target) is an order, not a reduction of the position. Flatten cancels those resting
 * exits first, waits for the cancels, reads the position again and closes what is really held, in
 * freeze-sized slices. A follower whose positions cannot be read is reported by name and left alone.
 *
 * The same machinery, scoped (`FlattenScope`), is SQUARE_OFF_AT's intraday square-off: only INTRADAY
 * positions, only as much as copies opened, and working entry copies of that product cancelled too.
 */
import type { Position, Product } from '../domain/order.js';
import { opposite } from '../domain/order.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, Store } from '../store/index.js';
import type { CopyState } from '../store/schema.js';
import type { ApprovalManager } from './approvals.js';
import type { CopyExecutor } from './copy-executor.js';
import { LIVE_COPY_STATES } from './copy-state.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';
import { batchId, contractTerms, marketCopies, type MarketLeg } from './market-orders.js';
import type { RuntimeSettings } from './runtime-settings.js';

export interface OpenPosition {
  followerId: string;
  position: Position;
  lotSize: number;
  /** The contract's freeze quantity (flatten slices below it), null when none applies. */
  freeze: number | null;
}

/** A follower whose positions could not be read: it is NOT flattened, and the reply says so. */
export interface UnreadFollower {
  followerId: string;
  error: string;
}

export interface PositionsRead {
  positions: OpenPosition[];
  /** Exit copies still working or on their way (an SL or target copy): orders, cancelled by flatten first. */
  resting: CopyRow[];
  unread: UnreadFollower[];
}

export interface FlattenResult {
  batch: string;
  placed: CopyRow[];
  /** Resting exit copies cancelled before the market orders. */
  cancelled: CopyRow[];
  /** Resting exit copies still live after the cancel (the broker refused it): still working there. */
  notCancelled: CopyRow[];
  unread: UnreadFollower[];
}

/**
 * What a flatten covers when it is not everything: the square-off's "intraday positions from copies".
 * Absent: every position, whole, and resting exit copies only (/flatten).
 */
export interface FlattenScope {
  /** Only positions (and working copies) in this product. */
  product?: Product;
  /** Cancel working ENTRY copies of the scope too, before closing (an entry filling later would reopen it). */
  entries?: boolean;
  /** How much of a position may be closed (units, ≥ 0): the square-off closes what copies opened, no more. */
  cap?: (followerId: string, p: Position) => number;
  /** Said in the copies' reason: `square-off 15:10`; default `flatten by <who>`. */
  why?: string;
}

/** States of an exit copy that is an order still to be placed or working at the broker. */
const RESTING_STATES: CopyState[] = ['planned', 'placing', 'open'];

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
    // A copy in doubt has no order id to cancel: the owner is told, as for a leader cancel.
    for (const c of this.store.copies.inStates(['unknown'])) this.executor.unknown.cannotCancel(c, 'halted');
    this.log.warn({ by, cancelled: live.length }, 'HALT: copying stopped, open copies cancelled');
    return live.length;
  }

  resume(by: number | null): void {
    this.settings.setHalted(false, by);
    this.log.warn({ by }, 'halt lifted: copying resumes');
  }

  private selected(ids: string[] | 'all'): FollowerRuntime[] {
    return [...this.followers.values()].filter((f) => ids === 'all' || ids.includes(f.id));
  }

  /** Exit copies of these followers that are planned, being placed or working at the broker. */
  restingExits(ids: string[] | 'all'): CopyRow[] {
    return this.store.copies.inStates(RESTING_STATES).filter((c) => c.kind === 'exit' && (ids === 'all' || ids.includes(c.followerId)));
  }

  /** The copies a scoped flatten cancels first: resting exits, and entries when the scope says so, of its product. */
  private workingInScope(ids: string[], scope: FlattenScope): CopyRow[] {
    return this.store.copies
      .inStates(RESTING_STATES)
      .filter((c) => ids.includes(c.followerId) && (c.kind === 'exit' || scope.entries === true) && (scope.product === undefined || c.product === scope.product));
  }

  /**
   * SQUARE_OFF_AT: close these followers' INTRADAY positions, as much as `cap` allows (what copies
   * opened), after cancelling their working INTRADAY copies — entries and exits. See `flatten`.
   */
  squareOffIntraday(ids: string[] | 'all', cap: (followerId: string, p: Position) => number, why: string): Promise<FlattenResult> {
    return this.flatten(ids, null, { product: 'INTRADAY', entries: true, cap, why });
  }

  /**
   * Every open follower position, read fresh from each broker and counted whole, the resting exit
   * copies beside them, and the followers whose positions could not be read.
   */
  async openPositions(ids: string[] | 'all'): Promise<PositionsRead> {
    const fs = this.selected(ids);
    const reads = await Promise.all(
      fs.map(async (f) => {
        try {
          return { f, positions: await f.broker.positions() };
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          this.log.error({ follower: f.id, err: error }, 'could not read positions');
          return { f, error };
        }
      }),
    );
    const out: PositionsRead = { positions: [], resting: [], unread: [] };
    const readIds: string[] = [];
    for (const r of reads) {
      if ('error' in r) {
        out.unread.push({ followerId: r.f.id, error: r.error ?? 'unknown error' });
        continue;
      }
      readIds.push(r.f.id);
      for (const p of r.positions) {
        if (p.netQty === 0) continue;
        const { lotSize, freeze } = contractTerms(this.instruments.lookup(r.f.master(this.leaderBroker()), p.instrument));
        out.positions.push({ followerId: r.f.id, position: p, lotSize, freeze });
      }
    }
    out.resting = this.restingExits(readIds);
    return out;
  }

  /**
   * Square off the followers' positions: cancel their resting exit copies first (through each
   * follower's queue, awaited), read the positions again — an SL that filled meanwhile has closed
   * part — and close the rest with market orders in freeze-sized slices, one intent row each (kind
   * exit, a `flatten-…` leader id and its own tag), placed through each follower's queue. A
   * follower whose positions cannot be read is neither cancelled nor flattened.
   */
  async flatten(ids: string[] | 'all', by: number | null, scope?: FlattenScope): Promise<FlattenResult> {
    const batch = batchId('flatten');
    const why = scope?.why ?? `flatten by ${by ?? 'system'}`;
    const first = await this.openPositions(ids);
    const unreadIds = new Set(first.unread.map((u) => u.followerId));
    const readable = this.selected(ids).filter((f) => !unreadIds.has(f.id)).map((f) => f.id);
    const toCancel = scope ? this.workingInScope(readable, scope) : first.resting;
    // Per follower the cancels queue before anything placed below; awaiting them also means the
    // positions read next already include any resting exit that filled instead of cancelling.
    await Promise.all(toCancel.map((c) => this.executor.cancel(c.id, c.followerId, why)));
    const after = toCancel.map((c) => this.store.copies.get(c.id) ?? c);
    const cancelled = after.filter((c) => c.state === 'cancelled');
    const notCancelled = after.filter((c) => LIVE_COPY_STATES.includes(c.state));
    const now = readable.length ? await this.openPositions(readable) : { positions: [], resting: [], unread: [] };
    const legs: MarketLeg[] = [];
    for (const p of now.positions) {
      if (scope?.product !== undefined && p.position.product !== scope.product) continue;
      const held = Math.abs(p.position.netQty);
      const qty = scope?.cap ? Math.min(held, Math.max(0, scope.cap(p.followerId, p.position))) : held;
      if (qty <= 0) continue;
      legs.push({
        followerId: p.followerId,
        kind: 'exit',
        instrument: p.position.instrument,
        product: p.position.product,
        side: opposite(p.position.netQty > 0 ? 'BUY' : 'SELL'),
        qty,
        lotSize: p.lotSize,
        freeze: p.freeze,
      });
    }
    const inserted = this.store.copies.insert(marketCopies(batch, legs, why, this.clock.now()));
    for (const c of inserted) void this.executor.place(c, null);
    const unread = [...first.unread, ...now.unread];
    this.log.warn(
      { by, batch, orders: inserted.length, cancelled: cancelled.length, notCancelled: notCancelled.length, unread: unread.map((u) => u.followerId) },
      scope ? `${why}: squaring off follower positions` : 'flatten: squaring off follower positions',
    );
    return { batch, placed: inserted, cancelled, notCancelled, unread };
  }
}
