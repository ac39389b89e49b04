/** SessionManager with stub broker logins: states by time, one alert per expiry, store-before-use, resume. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AccountLogin, RenewedToken } from '../../src/brokers/login.js';
import { BrokerRejected, BrokerUnavailable, type Broker, type SessionState } from '../../src/brokers/port.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { FollowerRuntime } from '../../src/engine/follower.js';
import { PositionBook } from '../../src/engine/positions.js';
import { SessionManager } from '../../src/engine/sessions.js';
import { TokenVault } from '../../src/engine/token-vault.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { Store } from '../../src/store/index.js';
import type { FollowerConfig } from '../../src/config.js';

const quiet = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });
/** Monday 2 June 2025, 08:00 IST. */
const T0800 = Date.parse('2025-06-02T02:30:00Z');
const H = 3600_000;

class StubLogin implements AccountLogin {
  applied: string[] = [];
  log: string[] = [];
  session: SessionState | Error = { valid: true, expiresAt: null };
  acceptWith: ((input: string) => Promise<{ accessToken: string; expiresAt: number | null; who: string | null }>) | null = null;
  renew?: (persist: (t: RenewedToken) => void) => Promise<RenewedToken>;
  readonly adapter: Broker;
  constructor(
    readonly accountId: string,
    readonly broker: 'dhan' | 'kite',
    private readonly vault: () => TokenVault,
  ) {
    this.adapter = { subscribe: () => () => {}, positions: async () => [] } as unknown as Broker;
  }
  help() {
    return this.broker === 'kite' ? { broker: 'kite' as const, url: 'https://login.example/?v=3&api_key=k' } : { broker: 'dhan' as const };
  }
  accept(input: string) {
    if (!this.acceptWith) throw new Error('no accept');
    return this.acceptWith(input);
  }
  estimateExpiry(_t: string, at: number) {
    return at + 24 * H;
  }
  apply(token: string) {
    // Store before use: whatever is installed must already be in the store.
    this.log.push(`apply:${token}:stored=${this.vault().get(this.accountId)?.token === token}`);
    this.applied.push(token);
  }
  async check() {
    if (this.session instanceof Error) throw this.session;
    return this.session;
  }
}

function setup() {
  const path = join(mkdtempSync(join(tmpdir(), 'tandem-sessions-')), 'tandem.db');
  const store = Store.open(path);
  const clock = new ManualClock(T0800);
  const vault = TokenVault.open(store, path, 'b'.repeat(64), clock);
  const events: EngineEvent[] = [];
  const bookReads: string[] = [];
  const f1 = new FollowerRuntime({ id: 'f1', broker: 'dhan', ordersPerSecond: 10 } as FollowerConfig, {} as Broker);
  const followers = new Map([['f1', f1]]);
  const executor = {
    markSessionExpired(f: FollowerRuntime, detail: string) {
      if (!f.sessionOk) return;
      f.sessionOk = false;
      f.sessionDetail = detail;
      events.push({ type: 'session_expired', accountId: f.id, detail });
    },
  };
  const leader = new StubLogin('leader', 'kite', () => vault);
  const follower = new StubLogin('f1', 'dhan', () => vault);
  const sessions = new SessionManager({
    vault,
    logins: [leader, follower],
    engine: {
      followers,
      executor,
      refreshFunds: async () => {},
      reconcile: async () => {},
      readFollowerBook: async (f: FollowerRuntime) => {
        bookReads.push(f.id);
        f.bookRead = true;
      },
      reloadPositions: async () => true,
    } as never,
    positions: new PositionBook(),
    events: { emit: (e) => events.push(e) },
    clock,
    logger: quiet,
    nagUntil: '15:30',
  });
  return { store, clock, vault, events, f1, leader, follower, sessions, bookReads };
}

const states = (s: SessionManager) => s.status().map((x) => `${x.accountId}:${x.state}`);

describe('SessionManager', () => {
  it('ok / expiring (dies before 15:30 today) / expired (past expiry) / missing, by the clock', () => {
    const { vault, clock, sessions } = setup();
    expect(states(sessions)).toEqual(['leader:missing', 'f1:missing']);
    vault.save('leader', 'leader-token-aaaaaaaa', { obtainedAt: clock.now(), expiresAt: T0800 + 2 * H, source: 'chat' });
    vault.save('f1', 'f1-token-bbbbbbbbbbbb', { obtainedAt: clock.now(), expiresAt: T0800 + 24 * H, source: 'env' });
    expect(states(sessions)).toEqual(['leader:expiring', 'f1:ok']);
    clock.set(T0800 + 3 * H);
    expect(states(sessions)).toEqual(['leader:expired', 'f1:ok']);
    // After 15:30 a token that lasts the evening is not nagged about.
    clock.set(T0800 + 8 * H);
    vault.save('leader', 'leader-token-cccccccc', { obtainedAt: clock.now(), expiresAt: T0800 + 22 * H, source: 'chat' });
    expect(states(sessions)).toEqual(['leader:ok', 'f1:ok']);
    expect(sessions.problems()).toEqual([]);
  });

  it('a dead token alerts once per expiry (leader and follower), and the follower\'s copies stop', async () => {
    const { vault, clock, sessions, events, f1, leader, follower } = setup();
    vault.save('leader', 'leader-token-aaaaaaaa', { obtainedAt: clock.now(), expiresAt: null, source: 'env' });
    vault.save('f1', 'f1-token-bbbbbbbbbbbb', { obtainedAt: clock.now(), expiresAt: null, source: 'env' });
    leader.session = { valid: false, expiresAt: null, reason: 'Incorrect `api_key` or `access_token`.' };
    follower.session = { valid: false, expiresAt: null, reason: 'DH-901' };
    await sessions.check();
    await sessions.check();
    sessions.markDead('f1', 'again from an order');
    expect(events.filter((e) => e.type === 'session_expired').map((e) => (e as { accountId: string }).accountId)).toEqual(['leader', 'f1']);
    expect(f1.sessionOk).toBe(false);
    expect(states(sessions)).toEqual(['leader:expired', 'f1:expired']);
    expect(sessions.problems().map((p) => [p.accountId, p.login.broker])).toEqual([['leader', 'kite'], ['f1', 'dhan']]);
  });

  it('/token: refused → the broker\'s words, nothing stored; accepted → stored BEFORE it is installed, resumed, "is back" once', async () => {
    const { vault, clock, sessions, events, f1, follower, bookReads } = setup();
    vault.save('f1', 'old-token-dddddddddddd', { obtainedAt: clock.now(), expiresAt: null, source: 'env' });
    sessions.markDead('f1', 'DH-901');
    follower.acceptWith = async () => {
      throw new BrokerRejected('DH-901', 'Client ID or user generated access token is invalid or expired.');
    };
    expect(await sessions.submit('f1', 'wrong-token-eeeeeeeeee')).toEqual({ ok: false, reason: 'Client ID or user generated access token is invalid or expired.' });
    follower.acceptWith = async () => {
      throw new BrokerUnavailable('timeout of 5000ms exceeded');
    };
    expect(await sessions.submit('f1', 'whatever-ffffffffffff')).toMatchObject({ ok: false, reason: 'could not reach the broker (timeout of 5000ms exceeded)' });
    expect(vault.get('f1')?.token).toBe('old-token-dddddddddddd');
    expect(follower.applied).toEqual([]);

    clock.advance(H);
    follower.acceptWith = async (input) => ({ accessToken: input.trim(), expiresAt: clock.now() + 24 * H, who: '1100' });
    const r = await sessions.submit('f1', '  new-token-gggggggggggg ');
    expect(r).toMatchObject({ ok: true, who: '1100', resumed: true, session: { state: 'ok', source: 'chat', obtainedAt: clock.now(), lastCheckedAt: clock.now() } });
    expect(follower.log).toEqual(['apply:new-token-gggggggggggg:stored=true']);
    expect(f1.sessionOk).toBe(true);
    expect(bookReads).toEqual(['f1']); // its book, never read while the session was dead, is read before copying resumes
    expect(f1.sessionDetail).toBeNull();
    expect(events.filter((e) => e.type === 'session_restored')).toEqual([{ type: 'session_restored', accountId: 'f1' }]);
    // A second token for a working account: installed, no "is back".
    const again = await sessions.submit('f1', 'newer-token-hhhhhhhhhh');
    expect(again).toMatchObject({ ok: true, resumed: false });
    expect(events.filter((e) => e.type === 'session_restored')).toHaveLength(1);
    expect(await sessions.submit('nobody', 'x')).toMatchObject({ ok: false });
  });

  it('a check that finds a dead account working again brings it back; a network failure changes nothing', async () => {
    const { vault, clock, sessions, events, follower } = setup();
    vault.save('f1', 'tok-iiiiiiiiiiiiiiii', { obtainedAt: clock.now(), expiresAt: null, source: 'env' });
    sessions.markDead('f1', 'Invalid Token');
    follower.session = new BrokerUnavailable('ECONNRESET');
    await sessions.check(['f1']);
    expect(states(sessions)).toContain('f1:expired');
    follower.session = { valid: true, expiresAt: T0800 + 20 * H };
    await sessions.check(['f1']);
    expect(states(sessions)).toContain('f1:ok');
    expect(follower.applied).toEqual(['tok-iiiiiiiiiiiiiiii']);
    expect(events.map((e) => e.type)).toEqual(['session_expired', 'session_restored']);
    expect(vault.get('f1')).toMatchObject({ lastCheckedAt: clock.now(), expiresAt: T0800 + 20 * H });
  });

  it('renewal: only working tokens due by the deadline; the new token is stored before it is installed', async () => {
    const { vault, clock, sessions, follower } = setup();
    vault.save('f1', 'tok-jjjjjjjjjjjjjjjj', { obtainedAt: clock.now(), expiresAt: T0800 + 3 * H, source: 'env' });
    let n = 0;
    follower.renew = async (persist) => {
      n += 1;
      const t = { accessToken: `renewed-kkkkkkkkkkkk-${n}`, expiresAt: clock.now() + 24 * H };
      persist(t); // the adapter's order: persist, then install
      follower.apply(t.accessToken);
      return t;
    };
    expect(await sessions.renewDue(clock.now() + 2 * H)).toEqual([]);
    expect(await sessions.renewDue(clock.now() + 4 * H)).toEqual([{ accountId: 'f1', ok: true, expiresAt: clock.now() + 24 * H }]);
    expect(vault.get('f1')).toMatchObject({ token: 'renewed-kkkkkkkkkkkk-1', source: 'renewal' });
    expect(follower.log).toEqual(['apply:renewed-kkkkkkkkkkkk-1:stored=true']);
    // A dead account is not renewed (Dhan renews only live tokens).
    vault.save('f1', 'tok-llllllllllllllll', { obtainedAt: clock.now(), expiresAt: T0800 + 3 * H, source: 'env' });
    sessions.markDead('f1', 'DH-901');
    expect(await sessions.renewDue(clock.now() + 4 * H)).toEqual([]);
    expect(n).toBe(1);
  });
});
