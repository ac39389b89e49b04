/**
 * Chaos 4c: the real process dies of an error nothing caught, mid-copy: TANDEM_TEST_THROW_AFTER_PLACE
 * (test only) throws an uncaught exception right after the first follower order is placed. The
 * process logs it, tells the admins (the console chat, here), stops gracefully within its bound and
 * exits non-zero; the restarted process places nothing twice — counts at the fake broker.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { dhanProcessEnv, tempDbPath } from '../e2e/harness.js';
import { until } from './world.js';
import { killAllTandemProcesses, startTandemProcess } from '../support/tandem-process.js';

const LEADER = '1500000011';
const FOLLOWER = '1500000012';
const order = (price: number) => ({ securityId: '61345', exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price }) as const;

let dhan: FakeDhan | null = null;
afterEach(async () => {
  killAllTandemProcesses();
  await dhan?.close();
  dhan = null;
});

const copyStates = (dbPath: string): string[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('select state from copies order by id').all() as { state: string }[]).map((r) => r.state);
  } finally {
    db.close();
  }
};

describe('chaos: a crash mid-copy', () => {
  it('4c. an uncaught exception after a placement: logged, alerted, stopped, exit 70; the restart places nothing twice', async () => {
    dhan = await startFakeDhan();
    const fake = dhan;
    const dbPath = tempDbPath();
    const env = dhanProcessEnv(fake, { leader: LEADER, follower: FOLLOWER }, dbPath);
    const first = startTandemProcess({ ...env, TANDEM_TEST_THROW_AFTER_PLACE: '1' });
    await until(() => /tandem is running/.test(first.output()), `first process ready\n${first.output()}`, 20_000);
    fake.placeAsUser(LEADER, order(120));
    await until(() => fake.placeRequests(FOLLOWER).length === 1, 'the follower place request', 20_000);
    const placedAt = performance.now();
    const code = await first.exited;
    const exitMs = performance.now() - placedAt;
    const out = first.output();
    expect(code).toBe(70);
    expect(exitMs).toBeLessThan(10_000 + 1000); // the stop is bounded
    expect(out).toMatch(/fatal error: tandem stops and exits for a restart/);
    expect(out).toContain('injected crash after a placement');
    expect(out).toMatch(/tandem stopped on an unexpected error \(uncaught exception/); // the alert (console chat)
    expect(out).toMatch(/tandem stopped"/); // the graceful stop ran to its end
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(copyStates(dbPath)).toEqual(['open']);

    // The supervisor's restart: a clean process, the same database.
    const second = startTandemProcess(env);
    await until(() => /tandem is running/.test(second.output()), `second process ready\n${second.output()}`, 20_000);
    // A new leader order is copied: the restarted process has replayed the leader book and is live.
    fake.placeAsUser(LEADER, order(121));
    await until(() => fake.orders(FOLLOWER).length === 2, `the new order copied\n${second.output()}`, 20_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(2);
    expect(fake.orders(FOLLOWER)).toHaveLength(2);
    expect(copyStates(dbPath)).toEqual(['open', 'open']);
    expect(second.output()).not.toContain('fatal error');
  });
});
