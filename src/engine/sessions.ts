/**
 * Broker sessions of every live account (the leader and each follower): which token is in use, is
 * it ok / expiring / expired / missing, and what happens when that changes.
 *
 * - Start-up: the stored token (token-vault) is installed in each adapter before the engine starts.
 * - A dead token (a check, an order call, the order stream) marks the account: a follower's copies
 *   are skipped with the reason (FollowerRuntime.sessionOk, which the engine honours), the leader
 *   is flagged; either way ONE alert per expiry.
 * - A new token (/token, a renewal, or a check that finds the token working again) is stored FIRST,
 *   then installed (the adapters restart their own streams), positions are re-read from the broker,
 *   and the account resumes by itself: "f1 is back".
 */
import type { AccountLogin, LiveBrokerKind, RenewedToken } from '../brokers/login.js';
import { BrokerRejected, SessionExpired } from '../brokers/port.js';
import { istAt } from '../domain/time.js';
import type { Clock } from '../infra/clock.js';
import { scrubber, type Logger } from '../infra/logger.js';
import type { TokenSource } from '../store/index.js';
import type { EngineEvents, TokenProblem } from './events.js';
import type { ReplicationEngine } from './engine.js';
import type { PositionBook } from './positions.js';
import type { TokenVault } from './token-vault.js';

export type SessionStateName = 'ok' | 'expiring' | 'expired' | 'missing';

export interface AccountSession {
  accountId: string;
  broker: LiveBrokerKind;
  state: SessionStateName;
  detail: string | null;
  obtainedAt: number | null;
  expiresAt: number | null;
  lastCheckedAt: number | null;
  source: TokenSource | null;
}

export interface SessionDeps {
  vault: TokenVault;
  logins: AccountLogin[];
  engine: Pick<ReplicationEngine, 'followers' | 'executor' | 'refreshFunds' | 'reconcile' | 'readFollowerBook' | 'reloadPositions'>;
  positions: PositionBook;
  events: EngineEvents;
  clock: Clock;
  logger: Logger;
  /** `HH:MM` IST: a token that dies before this time today counts as expiring. */
  nagUntil: string;
  /** Called after a token from the chat is installed (e.g. load the Kite instrument master that needed it). */
  onNewToken?: (login: AccountLogin) => void;
}

export type SubmitResult =
  | { ok: true; session: AccountSession; who: string | null; resumed: boolean }
  | { ok: false; reason: string };

export type RenewResult = { accountId: string; ok: true; expiresAt: number | null } | { accountId: string; ok: false; reason: string };

const message = (e: unknown) => scrubber.scrub(e instanceof Error ? e.message : String(e));

export class SessionManager {
  private readonly logins = new Map<string, AccountLogin>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly log: Logger;
  /** The leader's dead-token flag (followers keep theirs on FollowerRuntime). */
  private leaderDead: string | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly d: SessionDeps) {
    for (const l of d.logins) this.logins.set(l.accountId, l);
    this.log = d.logger.child({ module: 'sessions' });
  }

  /** Managed account ids, the leader first. */
  get accountIds(): string[] {
    return [...this.logins.keys()];
  }

  has(accountId: string): boolean {
    return this.logins.has(accountId);
  }

  login(accountId: string): AccountLogin | undefined {
    return this.logins.get(accountId);
  }

  /** Install stored tokens and watch the leader's stream. Call before the engine starts. */
  start(): void {
    for (const l of this.logins.values()) {
      const t = this.d.vault.get(l.accountId);
      if (t) l.apply(t.token);
    }
    const leader = this.logins.get('leader');
    if (leader) {
      this.unsubscribe = leader.adapter.subscribe({
        onUpdate: () => {},
        onState: (s, detail) => {
          if (s === 'session_expired') this.markDead('leader', detail ?? 'the leader order stream refused the token');
        },
      });
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The token in use (for jobs that need one, e.g. the Kite instrument download). */
  tokenOf(accountId: string): string | null {
    return this.d.vault.get(accountId)?.token ?? null;
  }

  status(now = this.d.clock.now()): AccountSession[] {
    return [...this.logins.values()].map((l) => this.sessionOf(l, now));
  }

  /** Accounts that need a login: missing, dead, or dying before NAG_UNTIL today. */
  problems(now = this.d.clock.now()): TokenProblem[] {
    return this.status(now)
      .filter((s): s is AccountSession & { state: TokenProblem['state'] } => s.state !== 'ok')
      .map((s) => ({ accountId: s.accountId, state: s.state, detail: s.detail, expiresAt: s.expiresAt, login: this.logins.get(s.accountId)!.help() }));
  }

  private deadDetail(accountId: string): string | null {
    if (accountId === 'leader') return this.leaderDead;
    const f = this.d.engine.followers.get(accountId);
    return f && !f.sessionOk ? (f.sessionDetail ?? 'token dead') : null;
  }

  private sessionOf(l: AccountLogin, now: number): AccountSession {
    const t = this.d.vault.get(l.accountId);
    const dead = this.deadDetail(l.accountId);
    const base = {
      accountId: l.accountId,
      broker: l.broker,
      obtainedAt: t?.obtainedAt ?? null,
      expiresAt: t?.expiresAt ?? null,
      lastCheckedAt: t?.lastCheckedAt ?? null,
      source: t?.source ?? null,
    };
    if (!t) return { ...base, state: 'missing', detail: dead ?? 'no access token yet' };
    if (dead !== null) return { ...base, state: 'expired', detail: dead };
    if (t.expiresAt !== null && t.expiresAt <= now) return { ...base, state: 'expired', detail: 'past its expiry time' };
    const cutoff = istAt(now, this.d.nagUntil);
    if (t.expiresAt !== null && now < cutoff && t.expiresAt <= cutoff) return { ...base, state: 'expiring', detail: null };
    return { ...base, state: 'ok', detail: null };
  }

  /** Mark an account's token dead: one alert per expiry; a follower's copies are skipped meanwhile. */
  markDead(accountId: string, detail: string): void {
    const f = this.d.engine.followers.get(accountId);
    if (f) {
      this.d.engine.executor.markSessionExpired(f, detail);
      return;
    }
    if (accountId !== 'leader' || this.leaderDead !== null) return;
    this.leaderDead = detail;
    this.d.events.emit({ type: 'session_expired', accountId, detail });
  }

  /** One operation at a time per account (a /token racing a renewal or a check). */
  private serial<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(accountId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.chains.set(accountId, next.catch(() => {}));
    return next;
  }

  /**
   * /token: what the admin pasted → checked with the broker → stored → installed. On any refusal
   * the old token stays and the broker's words come back.
   */
  submit(accountId: string, input: string): Promise<SubmitResult> {
    const l = this.logins.get(accountId);
    // Whatever was pasted is treated as secret from now on (long values only: a typo like "status"
    // must not blank that word out of every later log line).
    for (const part of [input.trim(), ...input.split(/\s+/)]) if (part.length >= 16) scrubber.add(part);
    if (!l) return Promise.resolve({ ok: false, reason: `${accountId} is not an account with a broker login` });
    return this.serial(accountId, async () => {
      const now = this.d.clock.now();
      let got;
      try {
        got = await l.accept(input, now);
      } catch (e) {
        const why = message(e);
        this.log.warn({ account: accountId, err: why }, 'a token sent from the chat was refused; the old token stays');
        return { ok: false as const, reason: e instanceof BrokerRejected || e instanceof SessionExpired ? why : `could not reach the broker (${why})` };
      }
      this.d.vault.save(accountId, got.accessToken, { obtainedAt: now, expiresAt: got.expiresAt ?? l.estimateExpiry(got.accessToken, now), source: 'chat', lastCheckedAt: now });
      const resumed = await this.install(l, got.accessToken);
      this.log.info({ account: accountId, resumed }, 'new token stored and applied');
      this.d.onNewToken?.(l);
      return { ok: true as const, session: this.sessionOf(l, this.d.clock.now()), who: got.who, resumed };
    });
  }

  /**
   * Install a token that is already stored, and bring a dead account back: positions re-read from
   * the broker (they may have changed while we could not see them), copies resume, admins told.
   */
  private async install(l: AccountLogin, token: string): Promise<boolean> {
    l.apply(token);
    const id = l.accountId;
    if (this.deadDetail(id) === null) return false;
    const f = this.d.engine.followers.get(id);
    // A book never read (the session was dead at start-up) is read before copying resumes (its
    // fills count once); the position book is then rebuilt from the broker's carried positions
    // and holdings plus the fills counted (a failure is reported by the loader and retried).
    if (f && !f.bookRead) await this.d.engine.readFollowerBook(f);
    await this.d.engine.reloadPositions(id);
    if (f) {
      f.sessionOk = true;
      f.sessionDetail = null;
      void this.d.engine.refreshFunds();
    } else {
      this.leaderDead = null;
      void this.d.engine.reconcile();
    }
    this.d.events.emit({ type: 'session_restored', accountId: id });
    return true;
  }

  /**
   * Check tokens with a cheap authenticated call. Valid → recorded (and a dead account comes back);
   * refused → marked dead; network trouble → left as it was (logged).
   */
  async check(ids: string[] = this.accountIds): Promise<AccountSession[]> {
    await Promise.all(
      ids.map((id) => {
        const l = this.logins.get(id);
        if (!l) return Promise.resolve();
        return this.serial(id, async () => {
          const t = this.d.vault.get(id);
          if (!t) {
            this.markDead(id, `no access token: /login ${id}`);
            return;
          }
          try {
            const s = await l.check();
            const now = this.d.clock.now();
            if (s.valid) {
              this.d.vault.checked(id, now, s.expiresAt);
              if (this.deadDetail(id) !== null && (await this.install(l, t.token))) this.log.info({ account: id }, 'token works again');
            } else {
              this.markDead(id, s.reason ?? 'the broker refused the token');
            }
          } catch (e) {
            this.log.warn({ account: id, err: message(e) }, 'could not check the token (network?); state unchanged');
          }
        });
      }),
    );
    return this.status();
  }

  /** Renew (Dhan) every working token that expires by `deadline`. The new token is stored before use. */
  async renewDue(deadline: number): Promise<RenewResult[]> {
    const due = [...this.logins.values()].filter((l) => {
      const t = this.d.vault.get(l.accountId);
      return l.renew && t && t.expiresAt !== null && t.expiresAt <= deadline && this.deadDetail(l.accountId) === null;
    });
    return Promise.all(due.map((l) => this.serial(l.accountId, () => this.renewOne(l))));
  }

  private async renewOne(l: AccountLogin): Promise<RenewResult> {
    const id = l.accountId;
    const persist = (r: RenewedToken) => {
      const now = this.d.clock.now();
      this.d.vault.save(id, r.accessToken, { obtainedAt: now, expiresAt: r.expiresAt ?? l.estimateExpiry(r.accessToken, now), source: 'renewal', lastCheckedAt: now });
    };
    try {
      const r = await l.renew!(persist);
      this.log.info({ account: id, expiresAt: r.expiresAt }, 'token renewed');
      return { accountId: id, ok: true, expiresAt: this.d.vault.get(id)?.expiresAt ?? null };
    } catch (e) {
      const why = message(e);
      if (e instanceof SessionExpired) this.markDead(id, why);
      else if (e instanceof BrokerRejected) this.log.warn({ account: id, err: why }, 'token renewal refused; the token stays until it expires');
      else this.log.error({ account: id, err: why }, 'token renewal outcome unknown: if the broker renewed it, the old token is dead and the next call will say so');
      return { accountId: id, ok: false, reason: why };
    }
  }
}
