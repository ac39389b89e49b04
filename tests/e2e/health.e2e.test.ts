/**
 * `--health` (the container's HEALTHCHECK): the heartbeat the running process writes, the check
 * that reads it, and the real `src/main.ts --health` process: one line, exit 0 or 1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkHealth, HEARTBEAT_EVERY_MS, HEARTBEAT_KEY, STALE_AFTER_MS, startHeartbeat } from '../../src/health.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** `src/main.ts --health` in an empty directory (no .env) with only these variables. */
function runHealthCli(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'tandem-health-'));
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/main.ts'), '--health'], { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, out, err })));
}

function fakeApp(store: Store) {
  const stop = vi.fn(async () => store.close());
  return { app: { store, stop }, stop };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('--health', () => {
  it('reports a missing database, then one with no heartbeat, as unhealthy', () => {
    const path = tempDbPath();
    const missing = checkHealth(path);
    expect(missing.ok).toBe(false);
    expect(missing.line).toMatch(/^unhealthy: no database at /);
    const store = Store.open(path);
    try {
      const none = checkHealth(path);
      expect(none).toEqual({ ok: false, line: expect.stringMatching(/^unhealthy: no heartbeat in /) });
    } finally {
      store.close();
    }
  });

  it('is healthy while the heartbeat is fresh, unhealthy once stale, and unhealthy after a clean stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'], now: 1_800_000_000_000 });
    const path = tempDbPath();
    const store = Store.open(path);
    const { app, stop } = fakeApp(store);
    const warn = vi.fn();
    startHeartbeat(app, { warn });
    const t0 = Date.now();
    expect(checkHealth(path, t0)).toEqual({ ok: true, line: expect.stringMatching(new RegExp(`^healthy: heartbeat 0 s ago \\(pid ${process.pid}\\) in `)) });
    // Without new beats, the one written at start goes stale after STALE_AFTER_MS.
    expect(checkHealth(path, t0 + STALE_AFTER_MS + 1_000)).toMatchObject({ ok: false, line: expect.stringMatching(/^unhealthy: last heartbeat 61 s ago .*stuck or cannot write/) });
    // The timer keeps it fresh: after 4 periods the row was rewritten at t0 + 4 periods.
    vi.advanceTimersByTime(4 * HEARTBEAT_EVERY_MS);
    expect(store.settings.all().find((r) => r.key === HEARTBEAT_KEY)?.updatedAt).toBe(t0 + 4 * HEARTBEAT_EVERY_MS);
    expect(checkHealth(path, t0 + STALE_AFTER_MS + 1_000).ok).toBe(true);

    await Promise.all([app.stop(), app.stop()]);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(checkHealth(path)).toMatchObject({ ok: false, line: expect.stringMatching(new RegExp(`^unhealthy: tandem \\(pid ${process.pid}\\) stopped 0 s ago`)) });
    // Stopped: the timer is gone, so no write is tried on the closed store.
    vi.advanceTimersByTime(10 * HEARTBEAT_EVERY_MS);
    expect(warn).not.toHaveBeenCalled();
  });

  it('logs a failing heartbeat write once per outage and never throws from the timer', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'], now: 1_800_000_000_000 });
    const path = tempDbPath();
    const store = Store.open(path);
    const warn = vi.fn();
    startHeartbeat(fakeApp(store).app, { warn });
    // The database goes away under the running process (what a read-only volume or a full disk looks like to it).
    store.close();
    vi.advanceTimersByTime(3 * HEARTBEAT_EVERY_MS);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatch(/heartbeat write failed/);
  });

  it('the real process: one line on stdout, exit 0 when healthy and 1 otherwise (never 2, which Docker reserves)', async () => {
    const path = tempDbPath();
    const store = Store.open(path);
    startHeartbeat(fakeApp(store).app, { warn: () => {} });
    const [healthy, missing, badConfig] = await Promise.all([
      runHealthCli({ DATABASE_PATH: path }),
      runHealthCli({ DATABASE_PATH: join(tmpdir(), 'tandem-health-none', 'tandem.db') }),
      runHealthCli({ DATABASE_PATH: path, TRADING_MODE: 'bogus' }),
    ]);
    store.close();
    expect(healthy, JSON.stringify(healthy)).toEqual({ code: 0, out: expect.stringMatching(/^healthy: heartbeat \d+ s ago \(pid \d+\) in .*\n$/), err: '' });
    expect(missing).toEqual({ code: 1, out: expect.stringMatching(/^unhealthy: no database at [^\n]*\n$/), err: '' });
    expect(badConfig).toEqual({ code: 1, out: expect.stringMatching(/^unhealthy: TRADING_MODE\b[^\n]*bogus[^\n]*\n$/), err: '' });
  });
});
