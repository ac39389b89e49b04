/**
 * ResilientWs's silence watchdog against a loopback ws server: a socket that keeps delivering data
 * is kept, one that stays open but goes silent (protocol pings still flowing) is replaced, and
 * outside the watched hours nothing is replaced. Plus the market-hours rule it is given in tandem.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ResilientWs } from '../../src/infra/resilient-ws.js';
import { createLogger } from '../../src/infra/logger.js';
import { isMarketHours } from '../../src/domain/time.js';

const quiet = createLogger({ level: 'silent', pretty: false });
const SILENT_MS = 200;

interface Rig {
  server: WebSocketServer;
  url: string;
  /** Server sockets, in connection order. */
  conns: WebSocket[];
  timers: NodeJS.Timeout[];
}

let rig: Rig | undefined;
let client: ResilientWs | undefined;
afterEach(async () => {
  await client?.stop();
  for (const t of rig?.timers ?? []) clearInterval(t);
  for (const c of rig?.conns ?? []) c.terminate();
  await new Promise<void>((r) => (rig ? rig.server.close(() => r()) : r()));
  rig = client = undefined;
});

/** A server whose every socket gets a protocol ping every 50 ms; data only when `feed` says so. */
async function serve(): Promise<Rig> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const r: Rig = { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, conns: [], timers: [] };
  server.on('connection', (ws) => {
    r.conns.push(ws);
    r.timers.push(setInterval(() => ws.readyState === ws.OPEN && ws.ping(), 50));
  });
  return r;
}

function connect(r: Rig, watch: () => boolean): ResilientWs {
  const ws = new ResilientWs({ url: () => r.url, logger: quiet, name: 'test', baseDelayMs: 20, silentAfterMs: SILENT_MS, watchSilence: watch });
  ws.start();
  return ws;
}

/** Wall time passes; used only where the claim is that nothing happens within it. */
const windowOf = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ResilientWs silence watchdog', () => {
  it('keeps a socket that delivers data, replaces it once it goes silent (pings do not count), and reconnects at once', async () => {
    rig = await serve();
    const c = (client = connect(rig, () => true));
    await once(c, 'open');
    const feeding = setInterval(() => rig!.conns[0]?.send('x'), 50);
    rig.timers.push(feeding);
    await windowOf(SILENT_MS * 3);
    expect(rig.conns).toHaveLength(1); // fed: kept
    expect(c.pulse.ageMs()).toBeLessThan(SILENT_MS);
    clearInterval(feeding); // pings go on, data stops
    const t0 = performance.now();
    const [info] = (await once(c, 'silent')) as [{ silentMs: number }];
    expect(info.silentMs).toBeGreaterThanOrEqual(SILENT_MS);
    expect(performance.now() - t0).toBeLessThan(SILENT_MS * 2 + 100);
    await once(c, 'open');
    expect(rig.conns).toHaveLength(2);
    expect(rig.conns[0]!.readyState).not.toBe(rig.conns[0]!.OPEN);
  });

  it('outside the watched hours a silent socket is kept; once they begin it is replaced at the next check', async () => {
    rig = await serve();
    let watching = false;
    const c = (client = connect(rig, () => watching));
    await once(c, 'open');
    let silences = 0;
    c.on('silent', () => (silences += 1));
    await windowOf(SILENT_MS * 3);
    expect(silences).toBe(0);
    expect(rig.conns).toHaveLength(1);
    expect(c.pulse.ageMs()).toBeNull(); // pings are not frames
    watching = true;
    const [info] = (await once(c, 'silent')) as [{ silentMs: number }];
    expect(info.silentMs).toBeGreaterThanOrEqual(SILENT_MS * 3);
  });
});

describe('isMarketHours (IST weekdays 09:00–15:35)', () => {
  const ist = (y: number, m: number, d: number, hh: number, mm: number) => Date.UTC(y, m - 1, d, hh, mm) - 5.5 * 3600_000;
  it.each([
    { at: ist(2025, 1, 15, 8, 59), open: false, why: 'Wednesday before 09:00' },
    { at: ist(2025, 1, 15, 9, 0), open: true, why: 'Wednesday 09:00' },
    { at: ist(2025, 1, 15, 15, 34), open: true, why: 'Wednesday 15:34' },
    { at: ist(2025, 1, 15, 15, 35), open: false, why: 'Wednesday 15:35' },
    { at: ist(2025, 1, 18, 10, 0), open: false, why: 'Saturday 10:00' },
    { at: ist(2025, 1, 19, 10, 0), open: false, why: 'Sunday 10:00' },
    { at: ist(2025, 1, 20, 9, 30), open: true, why: 'Monday 09:30' },
  ])('$why → $open', ({ at, open }) => {
    expect(isMarketHours(at)).toBe(open);
  });
});
