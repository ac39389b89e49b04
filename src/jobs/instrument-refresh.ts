/**
 * Daily, before the open: download every instrument master again (forced) and reload the resolver.
 * Kite's download needs a live session: it uses the token in the store (the day's login), not the
 * one in .env, which may be yesterday's.
 */
import type { Config } from '../config.js';
import { loadKiteInstruments } from '../brokers/kite/kite-instruments.js';
import type { InstrumentResolver } from '../engine/instruments.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';
import { refreshInstruments, type InstrumentSources } from './instruments.js';

/** The Kite master through the first Kite account that has a token (the store's, else .env's). */
export function kiteInstrumentSources(cfg: Config, store: Store, tokenOf: (accountId: string) => string | null, log: Logger): InstrumentSources {
  const accounts = [cfg.leader, ...cfg.followers];
  for (const a of accounts) {
    if (a.broker !== 'kite' || !a.credentials.apiKey) continue;
    const accessToken = tokenOf(a.id) ?? a.credentials.accessToken;
    if (!accessToken) continue;
    const apiKey = a.credentials.apiKey;
    return { kite: () => loadKiteInstruments({ apiUrl: cfg.endpoints.kiteApiUrl, apiKey, accessToken, store: store.instruments, logger: log }) };
  }
  return {};
}

export interface InstrumentRefreshDeps {
  cfg: Config;
  store: Store;
  instruments: InstrumentResolver;
  logger: Logger;
  tokenOf: (accountId: string) => string | null;
}

/** Every master downloaded again (`force`, the daily job), or only the stale or missing ones (after a Kite login). */
export async function runInstrumentRefresh(d: InstrumentRefreshDeps, clock: Clock, opts: { force: boolean } = { force: true }): Promise<void> {
  await refreshInstruments(d.cfg, d.store, d.instruments, clock, d.logger, { force: opts.force, sources: kiteInstrumentSources(d.cfg, d.store, d.tokenOf, d.logger) });
}
