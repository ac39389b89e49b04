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
    const out = this.runInTx.immediate(fn) as T;
    this.lastWriteAt = Date.now();
    return out;
  }

  upsertAccount(id: string, role: 'leader' | 'follower', broker: string, at: number): void {
    this.opened.db
      .insert(accounts)
      .values({ id, role, broker, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({ target: accounts.id, set: { role, broker, updatedAt: at } })
      .run();
  }

  close(): void {
    this.opened.close();
  }
}

export type { CopyRow, NewCopy, FollowerOrderRow } from './copy-repo.js';
export type { LeaderOrderRow } from './leader-repo.js';
export type { AlertRow } from './outbox-repo.js';
export type { AlertGroupMessageRow } from './alert-group-repo.js';
export type { ApprovalRow } from './approval-repo.js';
export type { TokenRow, TokenSource } from './token-repo.js';
