/**
 * A chaos "world": a fake Dhan with a leader and followers, and the real app in-process (real
 * adapters over loopback, real SQLite), with the chat console silenced. Exactly-once claims are
 * checked against the fake's own records.
 */
import { Writable } from 'node:stream';
import { startFakeDhan, type FakeDhan, type FakeDhanOptions } from '../fakes/dhan.js';
import type { App, AppOptions } from '../../src/app.js';
import { dhanEndpointsEnv, startTestApp, tempDbPath } from '../e2e/harness.js';

export const LEADER = '1200000001';
export const NIFTY_CE = '61345'; // lot 75
export const RELIANCE = '2885'; // lot 1

export interface World {
  dhan: FakeDhan;
  app: App & { logLines: string[] };
  followers: string[];
  dbPath: string;
  env: Record<string, string>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

export async function startWorld(opts: {
  followers?: number;
  ratio?: string;
  ordersPerSecond?: string;
  fake?: FakeDhanOptions;
  app?: Partial<AppOptions>;
  env?: Record<string, string>;
} = {}): Promise<World> {
  const dhan = await startFakeDhan(opts.fake);
  const n = opts.followers ?? 1;
  const followers = Array.from({ length: n }, (_, i) => `f${i + 1}`);
  const env: Record<string, string> = {
    TRADING_MODE: 'live',
    LEADER_BROKER: 'dhan',
    LEADER_CLIENT_ID: LEADER,
    LEADER_ACCESS_TOKEN: dhan.addAccount(LEADER),
    FOLLOWERS: followers.join(','),
    ...dhanEndpointsEnv(dhan),
    DATABASE_PATH: tempDbPath(),
    ...opts.env,
  };
  followers.forEach((f, i) => {
    const clientId = `13000000${String(i + 1).padStart(2, '0')}`;
    const p = `FOLLOWER_${f.toUpperCase()}_`;
    env[`${p}BROKER`] = 'dhan';
    env[`${p}CLIENT_ID`] = clientId;
    env[`${p}ACCESS_TOKEN`] = dhan.addAccount(clientId);
    env[`${p}RATIO`] = opts.ratio ?? '1';
    if (opts.ordersPerSecond) env[`${p}ORDERS_PER_SECOND`] = opts.ordersPerSecond;
  });
  const appOpts: Partial<AppOptions> = {
    consoleOutput: sink(),
    brokerTimeoutMs: 800,
    engine: { reconcileEveryMs: 1000, executor: { lookupDelaysMs: [100, 300, 600] } },
    ...opts.app,
  };
  const start = () => startTestApp(env, appOpts);
  const world: World = {
    dhan,
    app: await start(),
    followers,
    dbPath: env.DATABASE_PATH!,
    env,
    async restart() {
      await world.app.stop();
      world.app = await start();
    },
    async close() {
      await world.app.stop();
      await dhan.close();
    },
  };
  await dhan.waitForLogin(LEADER, { ok: true });
  return world;
}

export function clientIdOf(world: World, follower: string): string {
  return world.env[`FOLLOWER_${follower.toUpperCase()}_CLIENT_ID`]!;
}

/** Resolve when `pred` holds; bounded by `ms`. */
export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  // Chaos outcomes settle through the engine's own timers (reconnect backoff, look-ups by tag,
  // reconciliation) rather than one awaitable event, so the condition is re-checked every 10 ms
  // until the deadline: the wait ends as soon as it holds and fails loudly when it never does.
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(r, 10));
  }
}

/** Fill an order at the fake Dhan once it has left TRANSIT (the fake, like Dhan, fills only working orders). */
export async function fillWhenWorking(dhan: FakeDhan, clientId: string, orderId: string, price: number, qty?: number): Promise<void> {
  await until(() => /PENDING|PART_TRADED/.test(dhan.orders(clientId).find((o) => o.orderId === orderId)?.status ?? ''), `order ${orderId} working`, 10_000);
  dhan.fill(orderId, qty === undefined ? { price } : { price, qty });
}
