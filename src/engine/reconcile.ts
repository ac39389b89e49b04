/**
 * Reconciliation: the leader's REST order book replayed through intake (what the stream missed),
 * follower books read for copies still open here, and the follower book read at start-up that must
 * come before anything is placed (an order sent just before a crash is adopted, never sent twice).
 */
import { SessionExpired, type Broker } from '../brokers/port.js';
import type { BrokerOrder } from '../domain/order.js';
import { TAG_PATTERN } from '../domain/tag.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { PositionLoader } from './position-loader.js';

export interface ReconcileDeps {
  store: Store;
  leader: Broker;
  followers: Map<string, FollowerRuntime>;
  executor: CopyExecutor;
  loader: PositionLoader;
  events: EngineEvents;
  log: Logger;
  intake: (u: BrokerOrder) => void;
  followerUpdate: (f: FollowerRuntime, u: BrokerOrder) => void;
  running: () => boolean;
  bookRetryMs: number;
  /** A follower's book was read (copies it left in `planned`/`placing` may now be resolved). */
  onBookRead: (f: FollowerRuntime) => void;
}

/** Oldest first by exchange time (orders without one keep their place after the timed ones). */
export function chronological(book: BrokerOrder[]): BrokerOrder[] {
  return book
    .map((o, i) => ({ o, i }))
    .sort((a, b) => (a.o.exchangeTime ?? Infinity) - (b.o.exchangeTime ?? Infinity) || a.i - b.i)
    .map((x) => x.o);
}

export class Reconciler {
  private inFlight: Promise<void> | null = null;
  private again = false;
  /** Follower id → the pending retry of its order-book read (see readFollowerBook). */
  private readonly bookRetries = new Map<string, NodeJS.Timeout>();

  constructor(private readonly d: ReconcileDeps) {}

  /**
   * Compare the leader's REST order book with what we know and replay what the stream missed. A call
   * while one is running does not join it (its book may have been read before a reconnect): one
   * more pass runs after it, with a fresh read.
   */
  reconcile(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && this.d.running());
    })().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async pass(): Promise<void> {
    // A baseline that could not be read (or is from an earlier day) is read before the book, so the
    // book's orders are classified against it.
    const accounts: Broker[] = [this.d.leader, ...[...this.d.followers.values()].map((f) => f.broker)];
    await Promise.all(accounts.filter((b) => this.d.loader.due(b.accountId)).map((b) => this.d.loader.load(b.accountId, b)));
    try {
      const book = await this.d.leader.orders();
      // Oldest first: an exit must meet the position its entry built, not come before it.
      for (const o of chronological(book)) this.d.intake(o);
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'leader reconciliation failed');
    }
    for (const f of this.d.followers.values()) await this.reconcileFollower(f);
  }

  /**
   * Read the follower's book for copies still open here (their fills or cancels may have been
   * missed) and for copies in doubt (`unknown`: found by their tag, they are adopted).
   */
  async reconcileFollower(f: FollowerRuntime): Promise<void> {
    const stale = this.d.store.copies.inStates(['open', 'unknown']).filter((c) => c.followerId === f.id);
    if (stale.length === 0 || !f.sessionOk) return;
    try {
      const book = await f.broker.orders();
      const tags = new Set(stale.map((c) => c.tag));
      for (const o of book) if (o.tag && tags.has(o.tag)) this.d.followerUpdate(f, o);
    } catch (e) {
      this.d.log.warn({ follower: f.id, err: (e as Error).message }, 'follower reconciliation failed');
    }
  }

  /**
   * Record every order of a follower's book (its fills count into its position once; tagged ones
   * are tied to their copies), so that a copy whose commit a power cut lost is adopted by its tag
   * instead of being sent again. Until the book has been read, nothing is copied to that follower.
   * Read at start-up and when a dead session comes back; a failed read is retried every 5 s.
   */
  async readFollowerBook(f: FollowerRuntime, attempt = 1): Promise<void> {
    clearTimeout(this.bookRetries.get(f.id));
    this.bookRetries.delete(f.id);
    try {
      const book = await f.broker.orders();
      for (const o of chronological(book)) {
        this.d.followerUpdate(f, o);
        if (o.tag && TAG_PATTERN.test(o.tag) && !this.d.store.copies.byTag(o.tag)) f.unclaimed.set(o.tag, o);
      }
      f.bookRead = true;
      this.d.onBookRead(f);
      if (attempt > 1) this.d.log.info({ follower: f.id, attempt }, 'follower order book read; copying resumes');
    } catch (e) {
      if (!this.d.running()) return;
      const err = e instanceof Error ? e.message : String(e);
      // A dead token: marked like any other call's (one alert); its revival reads the book again.
      if (e instanceof SessionExpired) {
        this.d.executor.markSessionExpired(f, err);
        this.d.log.info({ follower: f.id, err }, 'follower order book not read: the session is dead; read again when it comes back');
        return;
      }
      if (attempt === 1) {
        this.d.log.warn({ follower: f.id, err }, 'could not read the follower order book at start-up; retrying every 5 s');
        this.d.events.emit({
          type: 'error',
          accountId: f.id,
          message: `Could not read ${f.id}'s order book at start-up: ${err}. Nothing is copied to ${f.id} until it can be read (retrying every 5 s), so that an order placed just before a crash is never sent twice.`,
        });
      }
      const t = setTimeout(() => void this.readFollowerBook(f, attempt + 1), this.d.bookRetryMs);
      t.unref();
      this.bookRetries.set(f.id, t);
    }
  }

  stop(): void {
    for (const t of this.bookRetries.values()) clearTimeout(t);
    this.bookRetries.clear();
  }
}
