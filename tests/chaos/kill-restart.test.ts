/**
 * Chaos 4: the real process is killed (SIGKILL) while a copy is in `placing` — its place request
 * is in flight and unanswered. The restarted process resolves the copy by looking its tag up
 * before taking new events, places it once (same tag) when the broker has nothing, and never
 * twice: exactly one order at the fake broker. (The accepted-but-unanswered case, where the look-up
 * finds the order, is chaos 3b; there the follower's own stream usually settles it first.)
 *
 * Chaos 4b: a power cut loses the last commits (SQLite WAL at synchronous=NORMAL keeps no fsync on
 * the hot path) — here, all of them: the process restarts on an empty database while the leader's
 * order is still working and its copy already sits at the follower's broker. The restart reads the
 * follower's order book before placing anything, finds the copy's tag, and adopts the order.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { dhanProcessEnv, tempDbPath } from '../e2e/harness.js';
import { until } from './world.js';
import { killAllTandemProcesses, killHard, startTandemProcess } from '../support/tandem-process.js';

const LEADER = '1500000001';
const FOLLOWER = '1500000002';

let dhan: FakeDhan | null = null;
afterEach(async () => {
  killAllTandemProcesses();
  await dhan?.close();
  dhan = null;
});

const accountEnv = (fake: FakeDhan, dbPath: string): NodeJS.ProcessEnv => dhanProcessEnv(fake, { leader: LEADER, follower: FOLLOWER }, dbPath);

const NIFTY_CE_BUY = { securityId: '61345', exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 120 } as const;

const copyStates = (dbPath: string): string[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('select state from copies order by id').all() as { state: string }[]).map((r) => r.state);
  } finally {
    db.close();
  }
};

describe('chaos: kill -9 mid-copy', () => {
  it('4. killed with a copy in placing, restarted: exactly one order at the broker', async () => {
    dhan = await startFakeDhan();
    const fake = dhan;
    const dbPath = tempDbPath();
    const env = accountEnv(fake, dbPath);
    const first = startTandemProcess(env);
    await fake.waitForLogin(LEADER, { ok: true, timeoutMs: 20_000 });
    await fake.waitForLogin(FOLLOWER, { ok: true, timeoutMs: 20_000 });
    fake.injectError(FOLLOWER, 'place', 'hang', 1);
    fake.placeAsUser(LEADER, NIFTY_CE_BUY);
    // The place request is in flight; the process waits for an answer that never comes.
    await until(() => fake.placeRequests(FOLLOWER).length === 1, 'the follower place request', 20_000);
    expect(copyStates(dbPath)).toEqual(['placing']);
    await killHard(first);

    const second = startTandemProcess(env);
    await until(() => copyStates(dbPath)[0] === 'open', `the copy resolved after restart\n${second.output()}`, 20_000);
    expect(fake.orders(FOLLOWER)).toHaveLength(1);
    const requests = fake.placeRequests(FOLLOWER);
    expect(requests).toHaveLength(2); // the hung one (never executed) and the single re-placement
    expect(requests[0]!.body.correlationId).toBe(requests[1]!.body.correlationId);
    // The leader order is not copied a second time by the restart's reconciliation either.
    await until(() => /tandem is running/.test(second.output()), 'second process ready', 20_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(fake.orders(FOLLOWER)).toHaveLength(1);
    expect(copyStates(dbPath)).toEqual(['open']);
  });

  it('4b. the commits are lost (power cut), restarted: the copy is found in the broker book by its tag, not sent again', async () => {
    dhan = await startFakeDhan();
    const fake = dhan;
    const env = accountEnv(fake, tempDbPath());
    const first = startTandemProcess(env);
    await fake.waitForLogin(LEADER, { ok: true, timeoutMs: 20_000 });
    await fake.waitForLogin(FOLLOWER, { ok: true, timeoutMs: 20_000 });
    fake.placeAsUser(LEADER, NIFTY_CE_BUY);
    await until(() => fake.orders(FOLLOWER).length === 1, 'the copy at the follower', 20_000);
    await killHard(first);

    const lostDb = tempDbPath();
    const second = startTandemProcess({ ...env, DATABASE_PATH: lostDb });
    await until(() => /tandem is running/.test(second.output()), `second process ready\n${second.output()}`, 20_000);
    // Reconciliation has replayed the working leader order; its copy is adopted from the book.
    await until(() => copyStates(lostDb)[0] === 'open', `the copy adopted after restart\n${second.output()}`, 20_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(fake.orders(FOLLOWER)).toHaveLength(1);
    expect(second.output()).toMatch(/already in the broker order book/);
  });
});
