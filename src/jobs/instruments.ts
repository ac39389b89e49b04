/**
 * Instrument masters: each broker in use has its master in SQLite, refreshed when it is older than
 * a trading day, then held in memory by the resolver for the hot path.
 */
import type { Config } from '../config.js';
import { loadDhanInstruments } from '../brokers/dhan/dhan-instruments.js';
import { loadKiteInstruments } from '../brokers/kite/kite-instruments.js';
import type { InstrumentResolver } from '../engine/instruments.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';

const MAX_AGE_MS = 20 * 3600_000;

/** The brokers whose masters this configuration needs. */
export function brokersInUse(cfg: Config): Set<'dhan' | 'kite'> {
  const out = new Set<'dhan' | 'kite'>();
  for (const b of [cfg.leader.broker, ...cfg.followers.map((f) => f.broker)]) if (b === 'dhan' || b === 'kite') out.add(b);
  return out;
}

export interface InstrumentSources {
  /** Kite needs an authenticated session to download; the adapter provides it when available. */
  kite?: () => Promise<number>;
}

/** Download stale masters (or all, with `force`), then load every master into the resolver. */
export async function refreshInstruments(
  cfg: Config,
  store: Store,
  resolver: InstrumentResolver,
  clock: Clock,
  log: Logger,
  opts: { force?: boolean; sources?: InstrumentSources; progress?: (broker: string, rows: number) => void } = {},
): Promise<void> {
  for (const broker of brokersInUse(cfg)) {
    const last = store.instruments.lastUpdated(broker);
    const stale = opts.force || last === null || clock.now() - last > MAX_AGE_MS;
    if (stale) {
      const started = performance.now();
      try {
        let rows = 0;
        if (broker === 'dhan') {
          rows = await loadDhanInstruments({
            url: cfg.endpoints.dhanInstrumentsUrl,
            store: store.instruments,
            logger: log,
            onProgress: (n) => opts.progress?.('dhan', n),
          });
        } else {
          // Kite's master needs a session: use any Kite account that has a token.
          const acct = [cfg.leader, ...cfg.followers].find((a) => a.broker === 'kite' && a.credentials.apiKey && a.credentials.accessToken);
          if (opts.sources?.kite) rows = await opts.sources.kite();
          else if (acct) {
            rows = await loadKiteInstruments({
              apiUrl: cfg.endpoints.kiteApiUrl,
              apiKey: acct.credentials.apiKey!,
              accessToken: acct.credentials.accessToken!,
              store: store.instruments,
              logger: log,
              onProgress: (n) => opts.progress?.('kite', n),
            });
          } else {
            log.warn('no Kite account has an access token yet: the Kite instrument master loads after the morning login');
            rows = -1;
          }
        }
        if (rows >= 0) log.info({ broker, rows, ms: Math.round(performance.now() - started) }, 'instrument master refreshed');
      } catch (e) {
        log.error({ broker, err: (e as Error).message }, 'instrument master download failed; using the stored one');
      }
    }
    const n = resolver.load(broker);
    if (n === 0) log.warn({ broker }, 'no instrument master: derivative copies will be skipped until it loads');
  }
}
