import { describe, expect, it } from 'vitest';
import { errorFromResponse, errorFromThrown } from '../../src/brokers/kite/kite-errors.js';
import { extractRequestToken, kiteChecksum, loginUrl, nextKiteExpiry } from '../../src/brokers/kite/kite-session.js';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';
import { AxiosError } from 'axios';

describe('nextKiteExpiry (06:00 IST = 00:30 UTC)', () => {
  it.each([
    ['2026-11-21T12:00:00Z', '2026-11-22T00:30:00Z'], // 17:30 IST
    ['2026-11-21T20:00:00Z', '2026-11-22T00:30:00Z'], // 01:30 IST on the 22nd
    ['2026-11-22T00:29:59Z', '2026-11-22T00:30:00Z'], // 05:59:59 IST
    ['2026-11-22T00:30:00Z', '2026-11-23T00:30:00Z'], // exactly 06:00 IST: the next one
    ['2026-12-31T23:00:00Z', '2027-01-01T00:30:00Z'], // year boundary
  ])('%s → %s', (now, expected) => {
    expect(new Date(nextKiteExpiry(Date.parse(now))).toISOString()).toBe(new Date(expected).toISOString());
  });
});

describe('login helpers', () => {
  it('builds the v3 login URL', () => {
    expect(loginUrl('https://kite.zerodha.com/connect/login', 'abc123')).toBe('https://kite.zerodha.com/connect/login?v=3&api_key=abc123');
  });

  it('extracts a request token from a bare token or a redirect URL', () => {
    const t = 'AbC123dEf456GhI789jKl012MnO345pQ';
    expect(extractRequestToken(`  ${t}\n`)).toBe(t);
    expect(extractRequestToken(`https://example.com/kite/callback?action=login&type=login&status=success&request_token=${t}`)).toBe(t);
    expect(extractRequestToken(`https://example.com/cb?request_token=${t}&action=login&status=success`)).toBe(t);
    expect(extractRequestToken('https://example.com/cb?action=login&status=error')).toBeNull();
    expect(extractRequestToken('hello world')).toBeNull();
    expect(extractRequestToken('')).toBeNull();
  });

  it('computes the checksum as hex sha256(api_key + request_token + api_secret)', () => {
    // echo -n 'keytokensecret' | sha256sum
    expect(kiteChecksum('key', 'token', 'secret')).toBe('08a03d928417ea4085557933d3b187ff2a3515b039d6054dbd230c95d978a17a');
    expect(kiteChecksum('key', 'token', 'secret')).not.toBe(kiteChecksum('key', 'token', 'secreT'));
  });
});

describe('Kite error mapping', () => {
  const env = (error_type: string, message: string) => ({ status: 'error', message, error_type, data: null });
  it.each([
    [403, env('TokenException', 'Incorrect `api_key` or `access_token`.'), SessionExpired],
    [429, env('NetworkException', 'Too many requests'), BrokerRateLimited],
    [503, env('NetworkException', 'Too many requests'), BrokerRateLimited],
    [400, env('InputException', 'Invalid `tradingsymbol`.'), BrokerRejected],
    [400, env('OrderException', 'Order cannot be cancelled as it is complete.'), BrokerRejected],
    [400, env('MarginException', 'Insufficient funds.'), BrokerRejected],
    [403, env('PermissionException', 'That API call is not allowed for the authenticated user'), BrokerRejected],
    [400, env('NetworkException', 'Maximum allowed order modifications exceeded.'), BrokerRejected],
    [503, env('NetworkException', "Couldn't connect to the OMS."), BrokerUnavailable],
    [502, env('DataException', 'Bad response'), BrokerUnavailable],
    [500, env('GeneralException', 'Error message'), BrokerUnavailable],
    [504, '<html>gateway timeout</html>', BrokerUnavailable],
    [200, '<html>captive portal</html>', BrokerUnavailable],
    [404, { status: 'error', message: 'Not found' }, BrokerRejected],
  ])('HTTP %i %j → %o', (status, body, cls) => {
    expect(errorFromResponse('f1', 'place', status, body)).toBeInstanceOf(cls);
  });

  it('keeps the message verbatim and error_type as the code on a rejection', () => {
    const e = errorFromResponse('f1', 'place', 400, env('InputException', 'Invalid `price`.'));
    expect(e).toBeInstanceOf(BrokerRejected);
    expect((e as BrokerRejected).code).toBe('InputException');
    expect(e.message).toBe('Invalid `price`.');
  });

  it('names the account on SessionExpired and honours Retry-After', () => {
    const s = errorFromResponse('f7', 'orders', 403, env('TokenException', 'x'));
    expect((s as SessionExpired).accountId).toBe('f7');
    const r = errorFromResponse('f7', 'place', 429, env('NetworkException', 'Too many requests'), { 'retry-after': '2' });
    expect((r as BrokerRateLimited).retryAfterMs).toBe(2000);
  });

  it('treats a timeout or a reset as an unknown outcome', () => {
    expect(errorFromThrown('f1', 'place', new AxiosError('timeout of 5000ms exceeded', 'ECONNABORTED'))).toBeInstanceOf(BrokerUnavailable);
    expect(errorFromThrown('f1', 'place', new AxiosError('socket hang up', 'ECONNRESET'))).toBeInstanceOf(BrokerUnavailable);
  });
});
