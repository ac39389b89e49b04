/** What the replication engine is built from (app.ts wires it; tests build it with fakes). */
import type { Broker } from '../brokers/port.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { Store } from '../store/index.js';
import type { ExecutorOptions } from './copy-executor.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { FollowerRulesBook } from './follower-rules.js';
import type { InstrumentResolver } from './instruments.js';
import type { LossGuard } from './loss-guard.js';
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
  /**
   * How long a leader MARKET entry with no price waits for its own fill before it is valued another
   * way, ms; only when a value gate (approval threshold, MAX_ORDER_VALUE) is set. Default 300.
   */
  marketValueWaitMs?: number;
  /** Each follower's effective rules (env + chat); built from the followers' config when not given. */
  rules?: FollowerRulesBook;
  /** COPY_ENTRIES_FROM / COPY_ENTRIES_UNTIL (IST HH:MM); entries outside are skipped. */
  entryWindow?: { from: string | null; until: string | null };
  /** The daily loss limit's entry stop (may also be set on `engine.lossGuard` after construction). */
  lossGuard?: LossGuard;
}
