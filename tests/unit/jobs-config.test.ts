/** The morning settings (TOKEN_ENCRYPTION_KEY, TOKEN_CHECK_AT, NAG_UNTIL, DAILY_SUMMARY_AT) and the job table on node-cron. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/infra/logger.js';
import { Scheduler, cronAt } from '../../src/jobs/scheduler.js';
import { Writable } from 'node:stream';

function errorOf(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const quiet = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('configuration', () => {
  it('defaults: 08:00 check, nag until 15:30, summary at 15:45, key from the key file', () => {
    const cfg = parseConfig({});
    expect(cfg.jobs).toEqual({ tokenCheckAt: '08:00', nagUntil: '15:30', dailySummaryAt: '15:45' });
    expect(cfg.tokenEncryptionKey).toBeNull();
  });

  it('accepts a hex or base64 key and treats it as a secret', () => {
    const hex = randomBytes(32).toString('hex');
    expect(parseConfig({ TOKEN_ENCRYPTION_KEY: hex }).tokenEncryptionKey).toBe(hex);
    const b64 = randomBytes(32).toString('base64');
    const cfg = parseConfig({ TOKEN_ENCRYPTION_KEY: b64 });
    expect(cfg.tokenEncryptionKey).toBe(b64);
    expect(configSecrets(cfg)).toContain(b64);
  });

  it.each([
    ['TOKEN_ENCRYPTION_KEY', 'tooshort', /^TOKEN_ENCRYPTION_KEY ="tooshort" is invalid: 64 hex characters, or base64 of 32 bytes/],
    ['TOKEN_ENCRYPTION_KEY', randomBytes(16).toString('hex'), /^TOKEN_ENCRYPTION_KEY =.* is invalid/],
    ['TOKEN_CHECK_AT', '8am', /^TOKEN_CHECK_AT ="8am" is invalid: a time of day HH:MM/],
    ['NAG_UNTIL', '24:00', /^NAG_UNTIL ="24:00" is invalid: a time of day HH:MM/],
    ['DAILY_SUMMARY_AT', '15:4', /^DAILY_SUMMARY_AT ="15:4" is invalid/],
  ])('%s=%s → one line naming it', (name, value, re) => {
    const msg = errorOf({ [name]: value });
    expect(msg).toMatch(re);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('NAG_UNTIL must come after TOKEN_CHECK_AT', () => {
    expect(errorOf({ TOKEN_CHECK_AT: '09:00', NAG_UNTIL: '08:30' })).toMatch(/^NAG_UNTIL ="08:30" is invalid: .*later than TOKEN_CHECK_AT \(09:00\)/);
  });
});

describe('the job table on node-cron', () => {
  it('HH:MM → a weekday cron expression', () => {
    expect(cronAt('08:00')).toBe('0 8 * * 1-5');
    expect(cronAt('15:45')).toBe('45 15 * * 1-5');
    expect(() => cronAt('25:00')).toThrow(RangeError);
  });

  it('schedules each job by name in Asia/Kolkata, lists the next run, and stops them all', async () => {
    const ran: string[] = [];
    const s = new Scheduler(
      [
        { name: 'a', cron: cronAt('08:00'), run: async () => void ran.push('a') },
        { name: 'b', cron: '*/15 * * * *', run: async () => void ran.push('b') },
      ],
      quiet,
    );
    expect(s.list().map((j) => j.nextRun)).toEqual([null, null]);
    s.start({ schedule: true });
    const [a, b] = s.list();
    expect(a!.name).toBe('a');
    // 08:00 IST is 02:30 UTC.
    expect(a!.nextRun?.toISOString()).toMatch(/T02:30:00\.000Z$/);
    expect(b!.nextRun!.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    await s.run('a');
    expect(ran).toEqual(['a']);
    await s.stop();
    expect(s.list().map((j) => j.nextRun)).toEqual([null, null]);
    await s.run('b'); // stopped: nothing runs any more
    expect(ran).toEqual(['a']);
  });

  it('a run already in progress is joined, not doubled; a failing job is logged, not thrown', async () => {
    let release!: () => void;
    let calls = 0;
    const s = new Scheduler(
      [
        { name: 'slow', cron: '0 0 * * *', run: () => new Promise<void>((r) => { calls += 1; release = r; }) },
        { name: 'bad', cron: '0 0 * * *', run: async () => { throw new Error('boom'); } },
      ],
      quiet,
    );
    const one = s.run('slow');
    const two = s.run('slow');
    expect(s.list().find((j) => j.name === 'slow')?.running).toBe(true);
    release();
    await Promise.all([one, two]);
    expect(calls).toBe(1);
    await expect(s.run('bad')).resolves.toBeUndefined();
    await expect(s.run('nope')).rejects.toThrow(/no job named nope/);
  });
});
