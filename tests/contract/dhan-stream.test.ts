import { afterEach, describe, expect, it } from 'vitest';
import { dhanRig, type DhanRig } from './dhan-harness.js';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dhan order stream against the fake', () => {
  let rig: DhanRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a bad token gives exactly one session_expired and no reconnect storm', async () => {
    rig = await dhanRig({ badToken: true });
    const expired = rig.nextState('session_expired');
    await rig.broker.start();
    await expired;
    const loginsAtExpiry = rig.fake.logins(rig.clientId).length;
    // Absence check over a bounded window: with 40 ms base backoff a storm would log in many times.
    await settle(1200);
    expect(loginsAtExpiry).toBe(1);
    expect(rig.fake.logins(rig.clientId)).toHaveLength(1);
    expect(rig.fake.logins(rig.clientId)[0]?.ok).toBe(false);
    expect(rig.states.filter((s) => s === 'session_expired')).toHaveLength(1);
    expect(rig.states).not.toContain('connected');
    expect((await rig.broker.checkSession()).valid).toBe(false);
  });

  it('after session_expired, a new token restarts the stream and it connects', async () => {
    rig = await dhanRig({ badToken: true });
    const expired = rig.nextState('session_expired');
    await rig.broker.start();
    await expired;
    const connected = rig.nextState('connected');
    rig.broker.setAccessToken(rig.fake.token(rig.clientId));
    await connected;
    expect(rig.fake.logins(rig.clientId).map((l) => l.ok)).toEqual([false, true]);
    expect((await rig.broker.checkSession()).valid).toBe(true);
  });

  it('a dropped socket reconnects, reports connected again, and a later push arrives', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    expect(rig.states.at(-1)).toBe('connected');
    const down = rig.nextState('disconnected');
    const again = rig.nextState('connected');
    expect(rig.fake.dropSockets(rig.clientId)).toBe(1);
    await down;
    await again;
    expect(rig.fake.logins(rig.clientId).filter((l) => l.ok)).toHaveLength(2);
    const placed = rig.fake.placeAsUser(rig.clientId, { securityId: '1333', transactionType: 'BUY', quantity: 10, price: 1500 });
    const u = await rig.update((x) => x.orderId === placed.orderId && x.status === 'open');
    expect(u).toMatchObject({ tag: null, side: 'BUY', quantity: 10, price: 1500, instrument: { segment: 'NSE_EQ', securityId: '1333', symbol: 'HDFCBANK' } });
    expect(rig.states.filter((s) => s === 'session_expired')).toHaveLength(0);
  });

  it('a reset right after login with a VALID token keeps reconnecting (no session_expired)', async () => {
    rig = await dhanRig({ broker: { ws: { readyAfterMs: 800, baseDelayMs: 40, maxDelayMs: 400 } } });
    const first = rig.fake.waitForLogin(rig.clientId, { ok: true });
    const connected = rig.nextState('connected');
    const starting = rig.broker.start();
    await first;
    rig.fake.dropSockets(rig.clientId); // inside the 800 ms login window: a quick reset
    await connected; // the first 'connected' can only come from the reconnect
    await starting;
    expect(rig.fake.logins(rig.clientId).filter((l) => l.ok).length).toBeGreaterThanOrEqual(2);
    expect(rig.states).not.toContain('session_expired');
    expect(rig.states).toContain('disconnected');
  });

  it('delivers duplicated pushes as they come (the engine dedupes) and leader modify/cancel', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    rig.fake.duplicatePushes(2);
    const o = rig.fake.placeAsUser(rig.clientId, { securityId: '61345', transactionType: 'SELL', quantity: 75, price: 120 });
    await rig.update((x) => x.orderId === o.orderId && x.status === 'open');
    rig.fake.modifyAsUser(o.orderId, { price: 125, quantity: 150 });
    await rig.update((x) => x.orderId === o.orderId && x.price === 125 && x.quantity === 150);
    rig.fake.cancelAsUser(o.orderId);
    await rig.update((x) => x.orderId === o.orderId && x.status === 'cancelled');
    const cancels = () => rig?.updates.filter((x) => x.orderId === o.orderId && x.status === 'cancelled').length ?? 0;
    if (cancels() < 2) await rig.update((x) => x.orderId === o.orderId && x.status === 'cancelled' && cancels() >= 2);
    expect(cancels()).toBe(2);
  });

  it('stop() closes the socket, leaves no timers behind and does not reconnect', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    rig = await dhanRig({ broker: { warmEveryMs: 50 } });
    await rig.broker.start();
    await rig.broker.start(); // idempotent
    expect(rig.fake.connectedSockets(rig.clientId)).toBe(1);
    await rig.broker.stop();
    expect(rig.states.at(-1)).toBe('stopped');
    const logins = rig.fake.logins(rig.clientId).length;
    await rig.fake.close();
    rig = undefined;
    await settle(150);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
    expect(logins).toBe(1);
  });
});
