/**
 * `node dist/main.js --health`: the container's HEALTHCHECK (Dockerfile, compose.yaml). One line on
 * stdout, exit 0 (healthy) or 1 (unhealthy); no network, no HTTP server, well under a second.
 *
 * What it checks is the database's last write by the running process: while tandem runs, a
 * heartbeat row (settings key `heartbeat`) is written every HEARTBEAT_EVERY_MS from the main thread,
 * so a process whose event loop is stuck, or whose database no longer takes writes (disk full, a
 * volume gone read-only, a lock nobody releases), goes stale and is reported unhealthy within
 * STALE_AFTER_MS. A clean stop marks the heartbeat stopped. The check opens the file read-only and
 * never migrates or writes it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { App } from './app.js';
import type { Logger } from './infra/logger.js';
import { readSetting } from './store/read-only.js';

export const HEARTBEAT_KEY = 'heartbeat';
export const HEARTBEAT_EVERY_MS = 15_000;
/** Four missed heartbeats. */
export const STALE_AFTER_MS = 60_000;

export interface Heartbeat {
  pid: number;
  /** Set by a clean stop (SIGTERM, SIGINT, or the stop after a fatal error). */
  stopped: boolean;
}

export interface HealthResult {
  ok: boolean;
  /** One line, for `docker inspect` / `docker compose ps`. */
  line: string;
}

/** Health of the tandem process whose database is at `dbPath`, read without writing anything. */
export function checkHealth(dbPath: string, now: number = Date.now(), staleAfterMs = STALE_AFTER_MS): HealthResult {
  const file = resolve(dbPath);
  if (!existsSync(file)) return { ok: false, line: `unhealthy: no database at ${file} (tandem has not started here)` };
  try {
    const row = readSetting(file, HEARTBEAT_KEY);
    if (!row) return { ok: false, line: `unhealthy: no heartbeat in ${file} yet (tandem is starting, or predates --health)` };
    const beat = row.value as Heartbeat;
    const age = Math.max(0, Math.round((now - row.updatedAt) / 1000));
    if (beat.stopped) return { ok: false, line: `unhealthy: tandem (pid ${beat.pid}) stopped ${age} s ago` };
    if (now - row.updatedAt > staleAfterMs) return { ok: false, line: `unhealthy: last heartbeat ${age} s ago (pid ${beat.pid}), more than ${Math.round(staleAfterMs / 1000)} s: tandem is stuck or cannot write ${file}` };
    return { ok: true, line: `healthy: heartbeat ${age} s ago (pid ${beat.pid}) in ${file}` };
  } catch (e) {
    return { ok: false, line: `unhealthy: cannot read ${file}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
}

/** The `--health` mode: same configuration as the service (`.env` + environment), one line, exit code 0/1. */
export async function healthMain(): Promise<void> {
  let result: HealthResult;
  try {
    const { loadEnv, parseConfig } = await import('./config.js');
    result = checkHealth(parseConfig(loadEnv(process.cwd())).databasePath);
  } catch (e) {
    result = { ok: false, line: `unhealthy: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
  process.stdout.write(`${result.line}\n`);
  // 0 healthy, 1 unhealthy: Docker reserves every other code.
  process.exitCode = result.ok ? 0 : 1;
}

/**
 * Write the heartbeat now and every `everyMs` (timer unref'd) until the app stops; `app.stop` is
 * wrapped so that the heartbeat is marked stopped, and never written again, before the store closes.
 */
export function startHeartbeat(app: Pick<App, 'store' | 'stop'>, log: Pick<Logger, 'warn'>, everyMs = HEARTBEAT_EVERY_MS): void {
  let failing = false;
  const beat = (stopped: boolean) => {
    try {
      app.store.settings.set(HEARTBEAT_KEY, { pid: process.pid, stopped } satisfies Heartbeat, Date.now(), null);
      failing = false;
    } catch (e) {
      // A database that takes no writes is what the health check reports; log it once per outage.
      if (!failing) log.warn({ err: e instanceof Error ? e.message : String(e) }, 'heartbeat write failed: --health reports unhealthy once it is stale');
      failing = true;
    }
  };
  beat(false);
  const timer = setInterval(() => beat(false), everyMs);
  timer.unref();
  const stop = app.stop.bind(app);
  let stopping: Promise<void> | null = null;
  app.stop = () =>
    (stopping ??= (() => {
      clearInterval(timer);
      beat(true);
      return stop();
    })());
}
