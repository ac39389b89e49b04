/** The store: the database and its repositories. The only code that writes SQL lives in store/. */
import { MIGRATIONS_DIR, openDatabase, type OpenOptions, type OpenedDb } from './db.js';
import { AlertGroupRepo } from './alert-group-repo.js';
import { ApprovalRepo } from './approval-repo.js';
import { AuditRepo } from './audit-repo.js';
import { CopyRepo } from './copy-repo.js';
import { FillRepo } from './fill-repo.js';
import { InstrumentRepo } from './instrument-repo.js';
import { LeaderRepo } from './leader-repo.js';
import { OutboxRepo } from './outbox-repo.js';
import { SettingsRepo } from './settings-repo.js';
import { TokenRepo } from './token-repo.js';
import { accounts } from './schema.js';

/** A `later` write is committed at most this long after it was queued, if no transaction took it before. */
export const LATER_MS = 25;

interface Rider {
  fn: () => void;
  onError: (err: unknown) => void;
}

/** A rider whose failure made SQLite roll the whole transaction back. */
class RiderRolledBack extends Error {
  constructor(
    readonly rider: Rider,
    readonly original: unknown,
  ) {
    super(`a later write rolled its transaction back: ${String(original)}`);
  }
}

export class Store {
  readonly leader: LeaderRepo;
  readonly copies: CopyRepo;
  readonly fills: FillRepo;
  readonly settings: SettingsRepo;
  readonly audit: AuditRepo;
  readonly outbox: OutboxRepo;
  readonly instruments: InstrumentRepo;
  readonly approvals: ApprovalRepo;
  readonly tokens: TokenRepo;
  readonly alertGroups: AlertGroupRepo;
  /** Epoch ms of the last write through `tx` (for /health). */
  lastWriteAt = 0;
  /** Transactions committed through `tx` since the store opened (the bench's commits per leader order). */
  commits = 0;

  private constructor(private readonly opened: OpenedDb) {
    const db = opened.db;
    this.runInTx = opened.sqlite.transaction((fn: () => unknown) => fn());
    this.leader = new LeaderRepo(db);
    this.copies = new CopyRepo(db);
    this.fills = new FillRepo(db);
    this.settings = new SettingsRepo(db);
    this.audit = new AuditRepo(db);
    this.outbox = new OutboxRepo(db);
    this.instruments = new InstrumentRepo(db, (fn) => this.tx(fn));
    this.approvals = new ApprovalRepo(db);
    this.tokens = new TokenRepo(db);
    this.alertGroups = new AlertGroupRepo(db);
  }

  static open(path: string, opts: OpenOptions = {}): Store {
    return new Store(openDatabase(path, MIGRATIONS_DIR, opts));
  }

  /** One transaction wrapper, made once: better-sqlite3 builds a new one per `transaction()` call. */
  private readonly runInTx: ReturnType<OpenedDb['sqlite']['transaction']>;

  /** A transaction is open on the connection (false after SQLite itself rolled one back: disk full, I/O error). */
  get inTransaction(): boolean {
    return this.opened.sqlite.inTransaction;
  }

  /** Run `fn` in one synchronous IMMEDIATE transaction. Never put broker I/O inside. */
  tx<T>(fn: () => T): T {
    return this.commit(fn, true);
  }

  /**
   * `tx` for the copy path: the one write between a leader event and its order calls. The `later`
   * writes waiting do not ride in it (they would delay the orders): they wait for the next one.
   */
  txNow<T>(fn: () => T): T {
    return this.commit(fn, false);
  }

  private commit<T>(fn: () => T, takeRiders: boolean): T {
    // Writes waiting for a commit (`later`) ride in this one, before `fn`'s own.
    const riders = takeRiders && !this.opened.sqlite.inTransaction ? this.takeLater() : null;
    let out: T;
    try {
      out = this.runInTx.immediate(riders ? () => (this.runLater(riders), fn()) : fn) as T;
    } catch (err) {
      if (!riders) throw err;
      if (err instanceof RiderRolledBack) {
        // A rider's failure rolled the whole transaction back before `fn` ran: that rider is
        // dropped (its owner was told), the others wait again, and the host runs alone.
        this.requeue(riders.filter((w) => w !== err.rider));
        return this.commit(fn, false);
      }
      // Rolled back with the transaction: they wait for the next one.
      this.requeue(riders);
      throw err;
    }
    this.lastWriteAt = Date.now();
    if (!this.opened.sqlite.inTransaction) this.commits += 1;
    return out;
  }

  /**
   * A write that needs no commit of its own: it rides in the next transaction of this process
   * (whichever comes first: an acknowledgement, a follower update, an alert), or is committed
   * within LATER_MS, or at close — not in `txNow`'s. Only for writes whose loss in a crash is
   * covered, and that a later write of the same thing may overtake (the writer checks, when it
   * runs, that it is still the latest): the leader's event log, a leader order's state when nothing
   * follows from it (the reconcile at start reads the order back from the broker), what a chat shows
   * after an edit. Saves a commit per such write (a commit costs more than the statements in it),
   * and keeps them out of the copy path's one commit. A write that throws goes to `onError` and
   * never fails the transaction it rides in.
   */
  later(fn: () => void, onError: (err: unknown) => void): void {
    this.waiting.push({ fn, onError });
    this.arm();
  }

  /** Commit the waiting `later` writes now (inside a transaction: at the next one, or the timer). */
  flushLater(): void {
    if (this.waiting.length === 0) return;
    if (this.opened.sqlite.inTransaction) return this.arm();
    try {
      this.tx(() => {});
    } catch (err) {
      // The commit itself failed (disk full, I/O error): their owners hear of it, and they are
      // dropped rather than tried every LATER_MS (what they hold is covered, see above).
      for (const w of this.takeLater() ?? []) w.onError(err);
    }
  }

  private waiting: Rider[] = [];
  private laterTimer: NodeJS.Timeout | null = null;

  private arm(): void {
    if (this.laterTimer || this.waiting.length === 0) return;
    this.laterTimer = setTimeout(() => {
      this.laterTimer = null;
      this.flushLater();
    }, LATER_MS);
    this.laterTimer.unref();
  }

  private takeLater(): Rider[] | null {
    if (this.waiting.length === 0) return null;
    const riders = this.waiting;
    this.waiting = [];
    if (this.laterTimer) clearTimeout(this.laterTimer);
    this.laterTimer = null;
    return riders;
  }

  private runLater(riders: Rider[]): void {
    for (const w of riders) {
      try {
        // Its own savepoint: one that throws is undone alone.
        this.runInTx(w.fn);
      } catch (err) {
        w.onError(err);
        // SQLite rolled the whole transaction back itself (disk full, I/O error).
        if (!this.opened.sqlite.inTransaction) throw new RiderRolledBack(w, err);
      }
    }
  }

  private requeue(riders: Rider[]): void {
    this.waiting = [...riders, ...this.waiting];
    this.arm();
  }

  upsertAccount(id: string, role: 'leader' | 'follower', broker: string, at: number): void {
    this.opened.db
      .insert(accounts)
      .values({ id, role, broker, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({ target: accounts.id, set: { role, broker, updatedAt: at } })
      .run();
  }

  close(): void {
    this.flushLater();
    // Closed inside a transaction (never by the app): what still waits is lost, and its owners hear of it.
    const lost = new Error('the store closed with this write waiting for a commit');
    for (const w of this.takeLater() ?? []) w.onError(lost);
    this.opened.close();
  }
}

export type { CopyRow, NewCopy, FollowerOrderRow } from './copy-repo.js';
export type { LeaderOrderRow } from './leader-repo.js';
export type { AlertRow } from './outbox-repo.js';
export type { AlertGroupMessageRow } from './alert-group-repo.js';
export type { ApprovalRow } from './approval-repo.js';
export type { TokenRow, TokenSource } from './token-repo.js';
