/**
 * Chaos 6: the real process is killed while the leader holds a position with a working stop-loss,
 * the stop-loss fills at the leader and at the follower while tandem is down, and tandem restarts.
 * The position book counts each fill once (broker carry + today's fills by order id), so the
 * leader is flat after the restart: nothing is placed for the replayed fill, and the leader's next
 * BUY is copied as an entry (before, the replay counted the SL twice: the leader looked short, the
 * next BUY was taken for an exit and skipped).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { dhanProcessEnv, tempDbPath } from '../e2e/harness.js';
import { fillWhenWorking, until } from './world.js';
import { killAllTandemProcesses, killHard, startTandemProcess } from '../support/tandem-process.js';

const LEADER = '1600000001';
const FOLLOWER = '1600000002';
const NIFTY_CE = '61345'; // lot 75

let dhan: FakeDhan | null = null;
afterEach(async () => {
  killAllTandemProcesses();
  await dhan?.close();
  dhan = null;
});

const net = (fake: FakeDhan, clientId: string): number =>
  fake.orders(clientId).reduce((n, o) => n + (o.transactionType === 'BUY' ? o.filledQty : -o.filledQty), 0);

describe('chaos: restart while an exit fills', () => {
  it('6. SL fills at both while tandem is down → after the restart both are flat, nothing extra is sent, the next BUY is an entry', async () => {
    dhan = await startFakeDhan();
    const fake = dhan;
    const env = dhanProcessEnv(fake, { leader: LEADER, follower: FOLLOWER }, tempDbPath(), { RECONCILE_EVERY_MS: '0' });
    const first = startTandemProcess(env);
    await until(() => /tandem is running/.test(first.output()), `first process ready\n${first.output()}`, 20_000);

    // Entry: leader and follower both long 75.
    const entry = fake.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'INTRADAY', price: 120 });
    await until(() => fake.orders(FOLLOWER).length === 1, 'the entry copy', 20_000);
    await fillWhenWorking(fake, LEADER, entry.orderId, 120);
    await fillWhenWorking(fake, FOLLOWER, fake.orders(FOLLOWER)[0]!.orderId, 120);
    // A working stop-loss at the leader, copied as a working stop-loss at the follower.
    const sl = fake.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'SELL', quantity: 75, orderType: 'STOP_LOSS_MARKET', productType: 'INTRADAY', triggerPrice: 100 });
    await until(() => fake.orders(FOLLOWER).length === 2 && fake.orders(FOLLOWER)[1]!.status === 'PENDING', `the SL copy working\n${first.output()}`, 20_000);
    expect(fake.orders(FOLLOWER)[1]).toMatchObject({ transactionType: 'SELL', quantity: 75, orderType: 'STOP_LOSS_MARKET' });
    await killHard(first);

    // 11:00: the market falls through the stop while tandem is down.
    await fillWhenWorking(fake, LEADER, sl.orderId, 99.5);
    await fillWhenWorking(fake, FOLLOWER, fake.orders(FOLLOWER)[1]!.orderId, 99.4);
    expect(net(fake, LEADER)).toBe(0);
    expect(net(fake, FOLLOWER)).toBe(0);

    const second = startTandemProcess(env);
    await until(() => /tandem is running/.test(second.output()), `second process ready\n${second.output()}`, 20_000);
    // The reconcile has replayed the SL's fill; nothing is sent for it.
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(2);

    // The next leader BUY is an entry, copied as one.
    fake.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'INTRADAY', price: 101 });
    await until(() => fake.placeRequests(FOLLOWER).length === 3, `the next entry copied\n${second.output()}`, 20_000);
    expect(fake.placeRequests(FOLLOWER)[2]!.body).toMatchObject({ transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', price: 101 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(3);
    expect(net(fake, FOLLOWER)).toBe(0);
  });
});
