/** DhanBroker token handling against the fake Dhan: renewal stores before use, a candidate is checked without touching the live token. */
import { afterEach, describe, expect, it } from 'vitest';
import { DhanBroker } from '../../src/brokers/dhan/dhan-broker.js';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { silentLogger } from './dhan-harness.js';

const CLIENT = '1600000001';
const installed = (b: DhanBroker) => (b as unknown as { rest: { accessToken: string } }).rest.accessToken;

describe('DhanBroker tokens', () => {
  let fake: FakeDhan;
  afterEach(async () => fake?.close());

  const make = async () => {
    fake = await startFakeDhan();
    const token = fake.addAccount(CLIENT);
    const broker = new DhanBroker({ accountId: 'f1', clientId: CLIENT, accessToken: token, apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, logger: silentLogger });
    return { broker, token };
  };

  it('renewToken: `persist` runs while the old token is still installed, then the new one is used', async () => {
    const { broker, token } = await make();
    let seen = '';
    let stored = '';
    const r = await broker.renewToken((t) => {
      seen = installed(broker);
      stored = t.accessToken;
    });
    expect(seen).toBe(token);
    expect(stored).toBe(fake.token(CLIENT));
    expect(r.accessToken).toBe(stored);
    expect(r.expiresAt).toBeGreaterThan(Date.now());
    expect(installed(broker)).toBe(stored);
    expect((await broker.checkSession()).valid).toBe(true);
  });

  it('renewToken: a failing `persist` still installs the new token (the old one is already dead), and throws', async () => {
    const { broker } = await make();
    await expect(broker.renewToken(() => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(installed(broker)).toBe(fake.token(CLIENT));
    expect((await broker.checkSession()).valid).toBe(true);
  });

  it('checkSession(candidate) checks the candidate and leaves the installed token alone', async () => {
    const { broker, token } = await make();
    const bad = await broker.checkSession('eyJhbGciOiJIUzUxMiJ9.eyJ4IjoxfQ.bm90YXJlYWxzaWduYXR1cmU');
    expect(bad.valid).toBe(false);
    expect(bad.reason).toContain('invalid or expired');
    const fresh = fake.issueToken(CLIENT);
    const good = await broker.checkSession(fresh);
    expect(good).toMatchObject({ valid: true, accountName: CLIENT });
    expect(installed(broker)).toBe(token);
  });
});
