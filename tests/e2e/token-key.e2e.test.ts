/** The token key at the composition level: a key file appears beside a new database; a wrong key stops start-up with one clear line. */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { keyFilePath } from '../../src/infra/secret-box.js';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startTestApp, tempDbPath } from './harness.js';

describe('the token encryption key at start-up', () => {
  let dhan: FakeDhan;
  let env: Record<string, string>;
  let token: string;

  beforeAll(async () => {
    dhan = await startFakeDhan();
    token = dhan.addAccount('1700000001');
    // Paper mode watching a real Dhan leader: the leader's token is stored.
    env = { LEADER_BROKER: 'dhan', LEADER_CLIENT_ID: '1700000001', LEADER_ACCESS_TOKEN: token, FOLLOWERS: 'p1', FOLLOWER_P1_BROKER: 'paper', DHAN_API_URL: dhan.apiUrl, DHAN_ORDER_WS_URL: dhan.wsUrl, DHAN_INSTRUMENTS_URL: dhan.instrumentsUrl };
  });
  afterAll(async () => dhan.close());

  it('without TOKEN_ENCRYPTION_KEY a key file is created beside the database (0600) and reused', async () => {
    const db = tempDbPath();
    const app = await startTestApp({ ...env, DATABASE_PATH: db }, { jobs: { schedule: false, startupCheck: false } });
    expect(app.sessions.status().map((s) => [s.accountId, s.state])).toEqual([['leader', 'ok']]);
    await app.stop();
    expect(statSync(keyFilePath(db)).mode & 0o777).toBe(0o600);
    const again = await startTestApp({ ...env, DATABASE_PATH: db }, { jobs: { schedule: false, startupCheck: false } });
    expect(again.sessions.tokenOf('leader')).toBe(token);
    expect(again.logLines.join('')).not.toContain(token);
    await again.stop();
  });

  it('a different TOKEN_ENCRYPTION_KEY on a database with tokens is a one-line ConfigError naming the variable', async () => {
    const db = tempDbPath();
    const first = await startTestApp({ ...env, DATABASE_PATH: db, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') }, { jobs: { schedule: false, startupCheck: false } });
    await first.stop();
    const err = await startTestApp({ ...env, DATABASE_PATH: db, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^TOKEN_ENCRYPTION_KEY does not match the key the stored tokens were encrypted with: the token of leader does not open\./);
    expect((err as Error).message).not.toContain(token);
  });
});
