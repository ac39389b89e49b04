/**
 * Chaos 8, the soak: about 1,000 leader events (placements, modifications, cancels, fills) against
 * the real process, with random leader and follower socket drops, duplicated pushes, 5% follower
 * 5xx, 2% hung follower answers and three kill -9 / restart cycles. While tandem is down the
 * leader trades on (issue 14): a copied order fills at both, the leader exits what it holds, opens
 * a new position, and places and cancels an order. At the end: zero duplicate orders, zero missed
 * copies, and the follower's positions equal the leader's (ratio 1).
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { dhanEndpointsEnv, tempDbPath } from '../e2e/harness.js';
import { fillWhenWorking, until } from './world.js';
import { killAllTandemProcesses, killHard, startTandemProcess, type TandemProcess } from '../support/tandem-process.js';
import { prng } from '../support/prng.js';

const LEADER = '1600000001';
const FOLLOWER = '1600000002';
const INSTRUMENTS = [
  { securityId: '2885', segment: 'NSE_EQ', lot: 1, price: 1300, product: 'INTRADAY' },
  { securityId: '1333', segment: 'NSE_EQ', lot: 1, price: 1700, product: 'INTRADAY' },
  { securityId: '61345', segment: 'NSE_FNO', lot: 75, price: 120, product: 'MARGIN' },
];
const TARGET_EVENTS = 1000;


let fake: FakeDhan | null = null;
afterAll(async () => {
  killAllTandemProcesses();
  await fake?.close();
});

describe('chaos: soak', () => {
  it('8. ~1,000 leader events with drops, duplicates, 5xx, hangs and three kill -9 restarts: exactly once, positions equal', async () => {
    const seed = Number(process.env.SOAK_SEED ?? 20261121);
    const rnd = prng(seed);
    fake = await startFakeDhan({ orderRatePerSec: 1000 });
    const dhan = fake;
    const dbPath = tempDbPath();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      TRADING_MODE: 'live',
      LOG_LEVEL: 'warn',
      DATABASE_PATH: dbPath,
      LEADER_BROKER: 'dhan',
      LEADER_CLIENT_ID: LEADER,
      LEADER_ACCESS_TOKEN: dhan.addAccount(LEADER),
      FOLLOWERS: 'f1',
      FOLLOWER_F1_BROKER: 'dhan',
      FOLLOWER_F1_CLIENT_ID: FOLLOWER,
      FOLLOWER_F1_ACCESS_TOKEN: dhan.addAccount(FOLLOWER),
      FOLLOWER_F1_ORDERS_PER_SECOND: '100',
      BROKER_TIMEOUT_MS: '400',
      UNKNOWN_OUTCOME_LOOKUPS_MS: '50,150,300',
      ...dhanEndpointsEnv(dhan),
    };
    let child: TandemProcess | null = null;
    const start = async () => {
      const logins = dhan.logins(LEADER).filter((l) => l.ok).length;
      child = startTandemProcess(env);
      await dhan.waitForLogin(LEADER, { ok: true, count: logins + 1, timeoutMs: 30_000 });
    };
    const kill = () => killHard(child!);
    const db = () => new Database(dbPath, { readonly: true, fileMustExist: true });
    const copyState = (leaderOrderId: string): string | undefined => {
      const d = db();
      try {
        return (d.prepare("select state from copies where leader_order_id = ? and follower_id = 'f1' order by leg").all(leaderOrderId) as { state: string }[])
          .map((r) => r.state)
          .join(',');
      } finally {
        d.close();
      }
    };
    /** Every follower tag of a leader order: legs, and slices above the freeze limit. */
    const copyTags = (leaderOrderId: string): string[] => {
      const d = db();
      try {
        return (d.prepare("select tag from copies where leader_order_id = ? and follower_id = 'f1' and state != 'skipped' order by leg").all(leaderOrderId) as { tag: string }[]).map((r) => r.tag);
      } finally {
        d.close();
      }
    };
    const followerOrder = (tag: string) => dhan.orders(FOLLOWER).find((o) => o.correlationId === tag);

    /** Wait for the copies of a leader order to be sent, fill them at the follower, wait for the fills to be recorded. */
    const settle = async (orderId: string, mustExist: boolean) => {
      if (mustExist) await until(() => (copyState(orderId) ?? '') !== '', `copy intent for ${orderId} (traded while down)`, 30_000);
      await until(() => !/placing|planned/.test(copyState(orderId) ?? 'placing'), `copies of ${orderId} settled`, 30_000);
      for (const tag of copyTags(orderId)) {
        if (!followerOrder(tag)) continue;
        await until(() => followerOrder(tag)?.status !== 'TRANSIT', `follower order ${tag} accepted`, 10_000);
        const fo = followerOrder(tag)!;
        if (fo.status === 'PENDING' || fo.status === 'PART_TRADED') dhan.fill(fo.orderId, { price: fo.price || 100 });
      }
      await until(() => (copyState(orderId) ?? '').split(',').every((s) => s === 'filled' || s === 'skipped'), `follower fills of ${orderId} recorded`, 30_000);
    };
    const downtime: string[] = [];

    await start();
    let events = 0;
    let kills = 0;
    const net = new Map<string, number>(); // leader net per instrument, as the test drives it
    while (events < TARGET_EVENTS) {
      // Weather: drops, duplicates, follower faults, and three kills spread over the run.
      if (rnd() < 0.03) dhan.dropSockets(LEADER);
      if (rnd() < 0.03) dhan.dropSockets(FOLLOWER);
      dhan.duplicatePushes(rnd() < 0.2 ? 2 : 1);
      const r = rnd();
      if (r < 0.05) dhan.injectError(FOLLOWER, 'place', { status: 500, body: { errorType: 'Server', errorCode: 'DH-908', errorMessage: 'Internal Server Error' } }, 1);
      else if (r < 0.07) dhan.injectError(FOLLOWER, 'place', 'accept-then-hang', 1);
      if (kills < 3 && events >= (kills + 1) * 250) {
        // A working order copied before the kill, filled at both while tandem is down.
        const working = INSTRUMENTS[Math.floor(rnd() * INSTRUMENTS.length)]!;
        const w = dhan.placeAsUser(LEADER, { securityId: working.securityId, exchangeSegment: working.segment, transactionType: 'BUY', quantity: working.lot, orderType: 'LIMIT', productType: working.product, price: working.price });
        events += 1;
        await until(() => copyTags(w.orderId).some((t) => followerOrder(t)?.status === 'PENDING') || (copyState(w.orderId) ?? '').startsWith('skipped'), `working copy of ${w.orderId}`, 30_000);
        await kill();
        kills += 1;
        const copied = [w.orderId];
        await fillWhenWorking(dhan, LEADER, w.orderId, working.price);
        net.set(working.securityId, (net.get(working.securityId) ?? 0) + working.lot);
        for (const t of copyTags(w.orderId)) if (followerOrder(t)) await fillWhenWorking(dhan, FOLLOWER, followerOrder(t)!.orderId, working.price);
        events += 2;
        // The leader exits one held instrument, opens another, and places and cancels a third order.
        const heldInst = INSTRUMENTS.find((i) => (net.get(i.securityId) ?? 0) !== 0);
        if (heldInst) {
          const h = net.get(heldInst.securityId)!;
          const x = dhan.placeAsUser(LEADER, { securityId: heldInst.securityId, exchangeSegment: heldInst.segment, transactionType: h > 0 ? 'SELL' : 'BUY', quantity: Math.abs(h), orderType: 'LIMIT', productType: heldInst.product, price: heldInst.price });
          await fillWhenWorking(dhan, LEADER, x.orderId, heldInst.price);
          net.set(heldInst.securityId, 0);
          copied.push(x.orderId);
          events += 2;
        }
        const entryInst = INSTRUMENTS[Math.floor(rnd() * INSTRUMENTS.length)]!;
        const e = dhan.placeAsUser(LEADER, { securityId: entryInst.securityId, exchangeSegment: entryInst.segment, transactionType: 'SELL', quantity: entryInst.lot, orderType: 'LIMIT', productType: entryInst.product, price: entryInst.price });
        await fillWhenWorking(dhan, LEADER, e.orderId, entryInst.price);
        net.set(entryInst.securityId, (net.get(entryInst.securityId) ?? 0) - entryInst.lot);
        copied.push(e.orderId);
        const c = dhan.placeAsUser(LEADER, { securityId: entryInst.securityId, exchangeSegment: entryInst.segment, transactionType: 'BUY', quantity: entryInst.lot, orderType: 'LIMIT', productType: entryInst.product, price: entryInst.price - 5 });
        await until(() => dhan.orders(LEADER).find((x) => x.orderId === c.orderId)?.status === 'PENDING', 'leader pending', 10_000);
        dhan.cancelAsUser(c.orderId);
        events += 4;
        downtime.push(...copied);
        await start();
        for (const id of copied) await settle(id, true);
        // Cancelled with nothing filled while tandem was down: nothing to copy.
        expect(copyTags(c.orderId).filter((t) => followerOrder(t))).toEqual([]);
      }

      const inst = INSTRUMENTS[Math.floor(rnd() * INSTRUMENTS.length)]!;
      const held = net.get(inst.securityId) ?? 0;
      // Mostly entries; close or reduce what is held about a third of the time.
      const exiting = held !== 0 && rnd() < 0.35;
      const side = exiting ? (held > 0 ? 'SELL' : 'BUY') : rnd() < 0.5 ? 'BUY' : 'SELL';
      const lots = exiting ? Math.abs(held) / inst.lot : 1 + Math.floor(rnd() * 3);
      const o = dhan.placeAsUser(LEADER, { securityId: inst.securityId, exchangeSegment: inst.segment, transactionType: side, quantity: lots * inst.lot, orderType: 'LIMIT', productType: inst.product, price: inst.price });
      events += 1;
      await until(() => copyState(o.orderId) !== '' && copyState(o.orderId) !== undefined, `copy intent for ${o.orderId}`, 30_000);
      await until(() => dhan.orders(LEADER).find((x) => x.orderId === o.orderId)?.status === 'PENDING', 'leader pending', 10_000);

      const fate = rnd();
      if (fate < 0.15) {
        // Cancelled before any fill: the follower copy must end cancelled (or never exist).
        await until(() => copyTags(o.orderId).some((t) => Boolean(followerOrder(t))) || copyState(o.orderId)!.startsWith('skipped'), `follower copy of ${o.orderId}`, 30_000);
        dhan.cancelAsUser(o.orderId);
        events += 1;
        await until(() => /^(cancelled|skipped)/.test(copyState(o.orderId) ?? ''), `cancel mirrored for ${o.orderId}`, 30_000);
        continue;
      }
      if (fate < 0.3) {
        dhan.modifyAsUser(o.orderId, { price: inst.price - 1, quantity: lots * inst.lot, orderType: 'LIMIT' });
        events += 1;
      }
      // Fill the leader, then the follower's copies of it (every leg), once they exist.
      dhan.fill(o.orderId, { price: inst.price });
      events += 1;
      net.set(inst.securityId, held + (side === 'BUY' ? 1 : -1) * lots * inst.lot);
      await settle(o.orderId, false);
    }
    await kill();

    // Zero duplicates: one follower order per (leader order, leg) tag, and never two with one tag.
    const followerOrders = dhan.orders(FOLLOWER);
    const tags = followerOrders.map((o) => o.correlationId);
    expect(new Set(tags).size).toBe(tags.length);
    // Zero misses and equal positions: the follower holds exactly what the leader holds.
    const position = (clientId: string) => {
      const m = new Map<string, number>();
      for (const o of dhan.orders(clientId)) m.set(o.securityId, (m.get(o.securityId) ?? 0) + (o.transactionType === 'BUY' ? 1 : -1) * o.filledQty);
      return m;
    };
    const leaderPos = position(LEADER);
    const followerPos = position(FOLLOWER);
    for (const inst of INSTRUMENTS) expect(followerPos.get(inst.securityId) ?? 0, inst.securityId).toBe(leaderPos.get(inst.securityId) ?? 0);
    const d = db();
    const counts = d.prepare('select state, count(*) n from copies group by state').all();
    d.close();
    // Every order the leader traded while tandem was down was copied (none skipped).
    for (const id of downtime) expect(copyState(id), id).toMatch(/^filled(,filled)*$/);
    const summary = { seed, events, kills, downtimeOrders: downtime.length, leaderOrders: dhan.orders(LEADER).length, followerOrders: followerOrders.length, placeRequests: dhan.placeRequests(FOLLOWER).length, copies: counts };
    console.log(`soak: ${JSON.stringify(summary)}`);
    expect(kills).toBe(3);
    expect(events).toBeGreaterThanOrEqual(TARGET_EVENTS);
  }, 240_000);
});
