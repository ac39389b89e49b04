/** Builds each account's broker adapter from the configuration. */
import type { Config, FollowerConfig } from '../config.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { Broker } from './port.js';
import { PaperBroker } from './paper/paper-broker.js';
import { SimLeader } from './sim/sim-leader.js';

export interface BrokerDeps {
  cfg: Config;
  logger: Logger;
  prices: PriceBoard;
}

export function createLeader(d: BrokerDeps): Broker {
  const { cfg } = d;
  switch (cfg.leader.broker) {
    case 'sim':
      return new SimLeader(cfg.simIntervalMs);
    default:
      throw new Error(`leader broker ${cfg.leader.broker} is not available in this build`);
  }
}

/** In paper mode every follower is simulated, whatever broker it names: nothing is ever sent. */
export function createFollower(f: FollowerConfig, d: BrokerDeps): Broker {
  if (d.cfg.mode === 'paper' || f.broker === 'paper') return new PaperBroker(f.id, d.prices);
  throw new Error(`follower broker ${f.broker} is not available in this build`);
}
