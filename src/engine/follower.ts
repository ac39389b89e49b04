/**
 * One follower account at run time: its broker, its own rate-limited work queue (followers never
 * wait on each other), its session health and cached funds.
 */
import type { Broker } from '../brokers/port.js';
import type { BrokerOrder } from '../domain/order.js';
import type { FollowerConfig } from '../config.js';
import type { SizingPolicy } from '../domain/sizing.js';
import { TokenBucket } from '../infra/rate-limiter.js';

export class FollowerRuntime {
  readonly bucket: TokenBucket;
  /** False once a call or the stream said the token is dead; true again after /token. */
  sessionOk = true;
  sessionDetail: string | null = null;
  /**
   * True once the broker's order book was read after start-up: only then can a copy whose commit a
   * power cut lost be told from one never sent (its tag is in the book). Nothing is placed before.
   */
  bookRead = false;
  /** Orders in that book carrying a tandem tag that no copy here claims, by tag: adopted, never re-sent. */
  readonly unclaimed = new Map<string, BrokerOrder>();
  /** Available funds, refreshed in the background; never fetched on the hot path. */
  funds: number | null = null;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    readonly cfg: FollowerConfig,
    readonly broker: Broker,
  ) {
    this.bucket = new TokenBucket(cfg.ordersPerSecond);
  }

  get id(): string {
    return this.cfg.id;
  }

  /**
   * The instrument master this follower trades from: its configured broker's (a paper-mode
   * simulation of a Dhan account still rounds to Dhan's lots); a pure paper follower trades the
   * leader's.
   */
  master(leaderBroker: string): string {
    return this.cfg.broker === 'paper' ? leaderBroker : this.cfg.broker;
  }

  get depth(): number {
    return this.queued;
  }

  /** Nothing queued and a token free: a copy handed over now is sent at once, not after a wait. */
  get idleNow(): boolean {
    return this.queued === 0 && this.bucket.ready();
  }

  /** Run `task` after every task queued before it (per-follower order is preserved). */
  run(task: () => Promise<void>): Promise<void> {
    this.queued += 1;
    const next = this.tail.then(task).finally(() => {
      this.queued -= 1;
    });
    this.tail = next.catch(() => {});
    return next;
  }

  /** Resolves when every queued task has finished. */
  idle(): Promise<void> {
    return this.tail;
  }

  policy(ratioOverride: number | undefined, leaderFunds: number | null): SizingPolicy {
    const ratio = ratioOverride ?? this.cfg.ratio;
    switch (this.cfg.sizing) {
      case 'ratio':
        return { kind: 'ratio', ratio };
      case 'capital':
        return { kind: 'capital', followerCapital: this.funds ?? 0, leaderCapital: leaderFunds ?? 0, multiplier: ratio };
      case 'fixed_lots':
        return { kind: 'fixed_lots', lots: this.cfg.fixedLots };
    }
  }
}
