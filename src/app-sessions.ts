/**
 * Composition of the morning-login parts, kept out of app.ts: the token store (opened, key checked,
 * seeded from .env), the session manager over the live adapters, and the scheduled jobs.
 */
import type { Config } from './config.js';
import { accountLogins, estimateExpiry, liveAccounts } from './brokers/login.js';
import type { Broker } from './brokers/port.js';
import type { EngineEvents } from './engine/events.js';
import type { FollowerRuntime } from './engine/follower.js';
import type { InstrumentResolver } from './engine/instruments.js';
import type { PositionBook } from './engine/positions.js';
import type { ReplicationEngine } from './engine/engine.js';
import { SessionManager } from './engine/sessions.js';
import { TokenVault } from './engine/token-vault.js';
import type { Clock } from './infra/clock.js';
import type { Logger } from './infra/logger.js';
import { Scheduler, jobDefs } from './jobs/scheduler.js';
import type { Store } from './store/index.js';

/** Open the token store (closing the database if the key is wrong) and seed it from .env. */
export function openTokenVault(cfg: Config, store: Store, clock: Clock, log: Logger): TokenVault {
  let vault: TokenVault;
  try {
    vault = TokenVault.open(store, cfg.databasePath, cfg.tokenEncryptionKey, clock);
  } catch (e) {
    store.close();
    throw e;
  }
  for (const a of liveAccounts(cfg)) {
    const r = vault.seed(a.id, a.credentials.accessToken, (t, at) => estimateExpiry(a.broker, t, at));
    if (r === 'env-replaced') log.info({ account: a.id }, 'the token in .env is not the one it seeded last time: using the .env token');
  }
  log.info({ key: vault.keyOrigin }, 'token store open');
  return vault;
}

export interface MorningDeps {
  cfg: Config;
  store: Store;
  vault: TokenVault;
  leader: Broker;
  followers: FollowerRuntime[];
  engine: ReplicationEngine;
  positions: PositionBook;
  instruments: InstrumentResolver;
  events: EngineEvents;
  clock: Clock;
  logger: Logger;
  brokerTimeoutMs: number;
}

/** The session manager (stored tokens installed, leader watched) and the jobs (not yet scheduled). */
export function createMorning(d: MorningDeps): { sessions: SessionManager; jobs: Scheduler } {
  const logins = accountLogins(d.cfg, [d.leader, ...d.followers.map((f) => f.broker)], d.brokerTimeoutMs);
  const sessions = new SessionManager({
    vault: d.vault,
    logins,
    engine: d.engine,
    positions: d.positions,
    events: d.events,
    clock: d.clock,
    logger: d.logger,
    nagUntil: d.cfg.jobs.nagUntil,
    // A Kite master that could not load without a session (no token at start, or before 08:30) loads after the login.
    onNewToken: (l) => {
      if (l.broker === 'kite') void jobs.run('instruments-after-login');
    },
  });
  sessions.start();
  const jobs = new Scheduler(jobDefs({ cfg: d.cfg, store: d.store, sessions, events: d.events, instruments: d.instruments, clock: d.clock, logger: d.logger }), d.logger);
  return { sessions, jobs };
}
