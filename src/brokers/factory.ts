/** Builds each account's broker adapter from the configuration. */
import type { Config, Credentials, FollowerConfig } from '../config.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { Broker } from './port.js';
import { systemClock, type Clock } from '../infra/clock.js';
import type { FramePulse } from '../infra/resilient-ws.js';
import { isMarketHours } from '../domain/time.js';
import type { DhanStreamTuning } from './dhan/dhan-stream.js';
import { DhanBroker } from './dhan/dhan-broker.js';
import { KiteBroker } from './kite/kite-broker.js';
import { PaperBroker } from './paper/paper-broker.js';
import { SimLeader } from './sim/sim-leader.js';

export interface BrokerDeps {
  cfg: Config;
  logger: Logger;
  prices: PriceBoard;
  /** Per-request deadline for broker REST calls (default 5 s; tests shorten it). */
  timeoutMs?: number;
  /** Market hours for the leader stream's silence watchdog (default: the system clock). */
  clock?: Clock;
  /** Where the leader stream keeps its last frame's time, for /health. */
  leaderPulse?: FramePulse;
}

/** The leader's Dhan socket is replaced after STREAM_SILENT_AFTER_S without a frame in market hours. */
function leaderWatch(d: BrokerDeps): DhanStreamTuning {
  const clock = d.clock ?? systemClock;
  return {
    silentAfterMs: d.cfg.streamSilentAfterS * 1000,
    watchSilence: () => isMarketHours(clock.now()),
    ...(d.leaderPulse ? { pulse: d.leaderPulse } : {}),
  };
}

function dhan(accountId: string, c: Credentials, d: BrokerDeps, ws?: DhanStreamTuning): Broker {
  if (!c.clientId || !c.accessToken) throw new Error(`${accountId}: a Dhan account needs a client id and an access token`);
  return new DhanBroker({
    accountId,
    clientId: c.clientId,
    accessToken: c.accessToken,
    apiUrl: d.cfg.endpoints.dhanApiUrl,
    wsUrl: d.cfg.endpoints.dhanOrderWsUrl,
    logger: d.logger,
    ...(d.timeoutMs ? { http: { timeoutMs: d.timeoutMs } } : {}),
    ...(ws ? { ws } : {}),
  });
}

/** A leader on Kite also polls its order book: Kite's stream may never announce a placement. */
const KITE_LEADER_POLL_MS = 1000;

/** Kite's own data watchdog (its heartbeats come every couple of seconds) already replaces a silent socket. */
function kite(accountId: string, c: Credentials, d: BrokerDeps, pollIntervalMs = 0, pulse?: FramePulse): Broker {
  if (!c.apiKey) throw new Error(`${accountId}: a Kite account needs an api key`);
  return new KiteBroker({
    accountId,
    apiKey: c.apiKey,
    accessToken: c.accessToken ?? null,
    apiUrl: d.cfg.endpoints.kiteApiUrl,
    wsUrl: d.cfg.endpoints.kiteWsUrl,
    logger: d.logger,
    pollIntervalMs,
    ...(pulse ? { pulse } : {}),
    ...(d.timeoutMs ? { http: { timeoutMs: d.timeoutMs } } : {}),
  });
}

export function createLeader(d: BrokerDeps): Broker {
  const { cfg } = d;
  switch (cfg.leader.broker) {
    case 'sim':
      return new SimLeader(cfg.simIntervalMs);
    case 'dhan':
      return dhan('leader', cfg.leader.credentials, d, leaderWatch(d));
    case 'kite':
      return kite('leader', cfg.leader.credentials, d, KITE_LEADER_POLL_MS, d.leaderPulse);
  }
}

/** In paper mode every follower is simulated, whatever broker it names: nothing is ever sent. */
export function createFollower(f: FollowerConfig, d: BrokerDeps): Broker {
  if (d.cfg.mode === 'paper' || f.broker === 'paper') return new PaperBroker(f.id, d.prices);
  switch (f.broker) {
    case 'dhan':
      return dhan(f.id, f.credentials, d);
    case 'kite':
      return kite(f.id, f.credentials, d);
  }
}
