import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KiteBroker } from '../../src/brokers/kite/kite-broker.js';
import { exchangeRequestToken, extractRequestToken, nextKiteExpiry } from '../../src/brokers/kite/kite-session.js';
import { BrokerRejected } from '../../src/brokers/port.js';
import { createLogger } from '../../src/infra/logger.js';
import { type FakeKite, startFakeKite } from '../fakes/kite.js';

const apiKey = 'kitesessionkey';
const apiSecret = 'kitesessionsecret';

describe('Kite login against the fake', () => {
  let fake: FakeKite;
  beforeEach(async () => {
    fake = await startFakeKite();
    fake.addAccount({ apiKey, apiSecret, userId: 'KS1234' });
  });
  afterEach(() => fake.close());

  it('refuses a wrong checksum with TokenException, then accepts the right one', async () => {
    const requestToken = fake.issueRequestToken(apiKey);
    const wrong = exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret: 'not-the-secret', requestToken });
    await expect(wrong).rejects.toBeInstanceOf(BrokerRejected);
    await expect(wrong).rejects.toMatchObject({ code: 'TokenException', message: 'Invalid `checksum`.' });

    const before = Date.now();
    const s = await exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret, requestToken });
    expect(s.userId).toBe('KS1234');
    expect(s.accessToken).toBe(fake.accessToken(apiKey));
    expect(s.expiresAt).toBeGreaterThanOrEqual(nextKiteExpiry(before));
    expect(s.expiresAt).toBeLessThanOrEqual(nextKiteExpiry(Date.now()));

    // The new token works for the adapter.
    const broker = new KiteBroker({ accountId: 'k1', apiKey, accessToken: s.accessToken, apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, logger: createLogger({ level: 'silent', pretty: false }) });
    await expect(broker.checkSession()).resolves.toMatchObject({ valid: true, accountName: 'KS1234' });
  });

  it('makes a request token single-use', async () => {
    const requestToken = fake.issueRequestToken(apiKey);
    await exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret, requestToken });
    await expect(exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret, requestToken })).rejects.toMatchObject({
      code: 'TokenException',
      message: 'Token is invalid or has expired.',
    });
  });

  it('accepts the token pasted as the whole redirect URL', async () => {
    const requestToken = fake.issueRequestToken(apiKey);
    const pasted = `https://tandem.example/kite/callback?action=login&type=login&status=success&request_token=${requestToken}`;
    const extracted = extractRequestToken(pasted);
    expect(extracted).toBe(requestToken);
    const s = await exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret, requestToken: extracted as string });
    expect(s.accessToken).toMatch(/^[0-9a-f]{32}$/);
  });

  it('invalidates the previous access token when a new session is made', async () => {
    const old = fake.accessToken(apiKey) as string;
    const broker = new KiteBroker({ accountId: 'k1', apiKey, accessToken: old, apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, logger: createLogger({ level: 'silent', pretty: false }) });
    await exchangeRequestToken({ apiUrl: fake.apiUrl, apiKey, apiSecret, requestToken: fake.issueRequestToken(apiKey) });
    await expect(broker.checkSession()).resolves.toMatchObject({ valid: false });
  });
});
