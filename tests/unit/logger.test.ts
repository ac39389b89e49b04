import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubber, SecretScrubber, type Logger } from '../../src/infra/logger.js';

/** A logger writing JSON lines into memory. */
function capture(level = 'trace'): { log: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level, pretty: false, destination });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const BOT_TOKEN = '7012345678:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra';
const GRAMMY_URL = `https://api.telegram.org/bot${BOT_TOKEN}/getMe`;
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJpc3MiOiJkaGFuIiwiZGhhbkNsaWVudElkIjoiMTAwMDAwMDAwMSJ9.Qk2vN3bX7YtL0pZcR8sWmE1uD4fG6hJ9';

describe('SecretScrubber', () => {
  it.each<{ name: string; known: string[]; input: string; gone: string[]; kept?: string[] }>([
    { name: 'a known value', known: ['s3cr3t-value-1'], input: 'password s3cr3t-value-1 here', gone: ['s3cr3t-value-1'], kept: ['password', 'here'] },
    { name: 'every occurrence of a known value', known: ['repeat-secret'], input: 'repeat-secret/repeat-secret?x=repeat-secret', gone: ['repeat-secret'] },
    { name: 'a known value with regex metacharacters', known: ['a.b*c+d?(e)[f]$'], input: 'k=a.b*c+d?(e)[f]$;', gone: ['a.b*c+d?(e)[f]$'], kept: ['k=', ';'] },
    { name: 'several known values', known: ['first-secret', 'second-secret'], input: 'first-secret and second-secret', gone: ['first-secret', 'second-secret'], kept: [' and '] },
    { name: 'a bot token inside a grammY URL', known: [], input: `Network request for 'getMe' failed! (${GRAMMY_URL})`, gone: [BOT_TOKEN, 'AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra'], kept: ['https://api.telegram.org/', '/getMe', "'getMe'"] },
    { name: 'a bare bot token', known: [], input: `token=${BOT_TOKEN} end`, gone: ['AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra'], kept: [' end'] },
    { name: 'a Kite authorization header in free text', known: [], input: 'Authorization: token kiteapikey:Xy7accessTokenValue9', gone: ['Xy7accessTokenValue9'], kept: ['Authorization: token '] },
    { name: 'a Kite authorization header in JSON', known: [], input: '{"authorization":"token kiteapikey:Xy7accessTokenValue9","x":1}', gone: ['Xy7accessTokenValue9'], kept: ['"x":1'] },
    { name: 'an access_token query parameter', known: [], input: 'GET /session?access_token=Zq9accessTok3n&x=1', gone: ['Zq9accessTok3n'], kept: ['&x=1'] },
    { name: 'an access-token header in JSON', known: [], input: '{"access-token":"Zq9accessTok3n"}', gone: ['Zq9accessTok3n'] },
    { name: 'a JWT (Dhan access token)', known: [], input: `dhan said: invalid ${JWT}!`, gone: [JWT, JWT.split('.')[2] as string], kept: ['dhan said: invalid ', '!'] },
  ])('removes $name', ({ known, input, gone, kept = [] }) => {
    const s = new SecretScrubber();
    s.add(...known);
    const out = s.scrub(input);
    for (const g of gone) expect(out).not.toContain(g);
    for (const k of kept) expect(out).toContain(k);
    expect(out).toContain('[REDACTED]');
  });

  it.each<{ name: string; known: (string | null | undefined)[]; input: string }>([
    { name: 'values shorter than 6 characters (too common to scrub)', known: ['abc', '12345'], input: 'abc 12345 abcdef' },
    { name: 'null, undefined and empty values', known: [null, undefined, ''], input: 'nothing to hide here' },
    { name: 'ordinary text with numbers and colons', known: [], input: 'order 52200000000123 at 09:15:07 filled 75 @ 120.50' },
  ])('leaves text alone for $name', ({ known, input }) => {
    const s = new SecretScrubber();
    s.add(...known);
    expect(s.scrub(input)).toBe(input);
  });

  it('is idempotent', () => {
    const s = new SecretScrubber();
    s.add('known-secret-xyz');
    const once = s.scrub(`known-secret-xyz ${GRAMMY_URL} ${JWT}`);
    expect(s.scrub(once)).toBe(once);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the service name and respects the level', () => {
    const c = capture('info');
    c.log.debug('hidden');
    c.log.info({ orderId: 'L1' }, 'visible');
    const lines = c.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: 'tandem', msg: 'visible', orderId: 'L1', level: 30 });
  });

  it.each<{ name: string; obj: Record<string, unknown>; secret: string; path: (l: Record<string, unknown>) => unknown }>([
    { name: 'token', obj: { token: 'plainvalue-token-1' }, secret: 'plainvalue-token-1', path: (l) => l.token },
    { name: 'nested token', obj: { bot: { token: 'plainvalue-token-2' } }, secret: 'plainvalue-token-2', path: (l) => (l.bot as Record<string, unknown>).token },
    { name: 'accessToken', obj: { accessToken: 'plainvalue-at-1' }, secret: 'plainvalue-at-1', path: (l) => l.accessToken },
    { name: 'nested accessToken', obj: { creds: { accessToken: 'plainvalue-at-2', clientId: '1000' } }, secret: 'plainvalue-at-2', path: (l) => (l.creds as Record<string, unknown>).accessToken },
    { name: 'access_token', obj: { access_token: 'plainvalue-at-3' }, secret: 'plainvalue-at-3', path: (l) => l.access_token },
    { name: 'apiSecret', obj: { apiSecret: 'plainvalue-sec-1' }, secret: 'plainvalue-sec-1', path: (l) => l.apiSecret },
    { name: 'nested apiSecret', obj: { kite: { apiKey: 'k', apiSecret: 'plainvalue-sec-2' } }, secret: 'plainvalue-sec-2', path: (l) => (l.kite as Record<string, unknown>).apiSecret },
    { name: 'api_secret', obj: { api_secret: 'plainvalue-sec-3' }, secret: 'plainvalue-sec-3', path: (l) => l.api_secret },
    { name: 'botToken', obj: { botToken: 'plainvalue-bt-1' }, secret: 'plainvalue-bt-1', path: (l) => l.botToken },
    { name: 'headers.authorization', obj: { headers: { authorization: 'Bearer plainvalue-auth-1' } }, secret: 'plainvalue-auth-1', path: (l) => (l.headers as Record<string, unknown>).authorization },
    { name: 'headers.Authorization', obj: { headers: { Authorization: 'token k:plainvalue-auth-2' } }, secret: 'plainvalue-auth-2', path: (l) => (l.headers as Record<string, unknown>).Authorization },
    { name: 'nested headers.authorization', obj: { req: { headers: { authorization: 'Bearer plainvalue-auth-3' } } }, secret: 'plainvalue-auth-3', path: (l) => ((l.req as Record<string, unknown>).headers as Record<string, unknown>).authorization },
    { name: 'headers access-token', obj: { headers: { 'access-token': 'plainvalue-dhan-1', 'client-id': '1000' } }, secret: 'plainvalue-dhan-1', path: (l) => (l.headers as Record<string, unknown>)['access-token'] },
  ])('redacts the $name field', ({ obj, secret, path }) => {
    const c = capture();
    c.log.info(obj, 'with a secret field');
    expect(c.text()).not.toContain(secret);
    const [line] = c.lines();
    expect(line).toBeDefined();
    expect(path(line as Record<string, unknown>)).toBe('[REDACTED]');
    expect(line?.msg).toBe('with a secret field');
  });

  it('keeps non-secret fields', () => {
    const c = capture();
    c.log.info({ creds: { clientId: '1000000001', accessToken: 'plainvalue-at-9' }, follower: 'alice' }, 'x');
    const [line] = c.lines();
    expect(line?.follower).toBe('alice');
    expect((line?.creds as Record<string, unknown>).clientId).toBe('1000000001');
  });

  it('scrubs a known secret from an Error message and stack', () => {
    const secret = 'known-runtime-secret-7Hq2';
    scrubber.add(secret);
    const c = capture();
    const err = new Error(`renewal failed for ${secret}`);
    c.log.error({ err }, 'renewal failed');
    c.log.error(err);
    c.log.warn(`plain message mentions ${secret}`);
    const out = c.text();
    expect(out).not.toContain(secret);
    expect(out).toContain('renewal failed for [REDACTED]');
    expect(out).toContain('plain message mentions [REDACTED]');
    expect(c.lines()).toHaveLength(3);
  });

  it('scrubs a bot token inside a grammY-like URL in an error, without knowing it beforehand', () => {
    const c = capture();
    const err = Object.assign(new Error(`Network request for 'getMe' failed! (${GRAMMY_URL})`), { name: 'HttpError', url: GRAMMY_URL });
    c.log.error({ err }, 'telegram down');
    c.log.info(`calling ${GRAMMY_URL}`);
    const out = c.text();
    expect(out).not.toContain(BOT_TOKEN);
    expect(out).not.toContain(BOT_TOKEN.split(':')[1]);
    expect(out).toContain('https://api.telegram.org/');
    // scrubbing keeps each line valid JSON
    const lines = c.lines();
    expect(lines).toHaveLength(2);
    expect((lines[0]?.err as Record<string, unknown>).message).toMatch(/^Network request for 'getMe' failed! \(https:\/\/api\.telegram\.org\/\[REDACTED\]\/getMe\)$/);
  });

  it('drops an Axios-like error config, request and response (headers carry credentials)', () => {
    const c = capture();
    const err = Object.assign(new Error('Request failed with status code 401'), {
      config: { url: '/orders', headers: { 'X-Api-Key': 'opaque-key-Lp0w', Authorization: 'token k:opaque-auth-Mn3e' } },
      request: { _header: 'GET /orders\r\naccess-token: opaque-req-Qe8r\r\n' },
      response: { status: 401, config: { headers: { 'X-Api-Key': 'opaque-key-Lp0w' } } },
    });
    c.log.error({ err }, 'broker call failed');
    const out = c.text();
    for (const s of ['opaque-key-Lp0w', 'opaque-auth-Mn3e', 'opaque-req-Qe8r']) expect(out).not.toContain(s);
    const err0 = c.lines()[0]?.err as Record<string, unknown>;
    expect(err0.message).toBe('Request failed with status code 401');
    expect(err0.config).toBe('[REDACTED]');
  });

  it('scrubs a JWT and a Kite auth header appearing in free text', () => {
    const c = capture();
    c.log.warn({ detail: `server echoed Authorization: token apikey:kiteTok9xYz and ${JWT}` }, 'odd');
    const out = c.text();
    expect(out).not.toContain('kiteTok9xYz');
    expect(out).not.toContain(JWT);
    expect(c.lines()).toHaveLength(1);
  });

  it('scrubs in pretty mode too', async () => {
    const secret = 'pretty-known-secret-4Rt';
    scrubber.add(secret);
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info', pretty: true, destination });
    log.info({ token: 'pretty-field-token-1' }, `hello ${secret} ${GRAMMY_URL}`);
    for (let i = 0; i < 20 && !chunks.join('').includes('hello'); i++) await new Promise((r) => setTimeout(r, 10));
    const out = chunks.join('');
    expect(out).toContain('hello');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('pretty-field-token-1');
    expect(out).not.toContain(BOT_TOKEN);
  });
});
