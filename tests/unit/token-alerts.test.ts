/** The chat texts of the morning login: nag, expiry (leader vs follower), "is back", day summary, /health lines. */
import { describe, expect, it } from 'vitest';
import { alertOf } from '../../src/bot/alerts.js';
import { jobLines, loginText, sessionLines } from '../../src/bot/token-alerts.js';

const T = Date.parse('2025-06-02T02:30:00Z'); // 08:00 IST

describe('login and session texts', () => {
  it('the nag lists each account with what is wrong and how to log in (Kite link escaped, Dhan steps)', () => {
    const a = alertOf(
      {
        type: 'token_nag',
        until: '15:30',
        accounts: [
          { accountId: 'k1', state: 'expired', detail: 'Incorrect `api_key` or `access_token`.', expiresAt: null, login: { broker: 'kite', url: 'https://kite.zerodha.com/connect/login?v=3&api_key=abc' } },
          { accountId: 'f1', state: 'expiring', detail: null, expiresAt: T + 3600_000, login: { broker: 'dhan' } },
          { accountId: 'mom', state: 'missing', detail: 'no access token yet', expiresAt: null, login: { broker: 'kite', url: 'https://x/?v=3&api_key=m' } },
        ],
      },
      T,
    )!;
    expect(a.priority).toBe(1);
    expect(a.text).toContain('until 15:30 IST');
    expect(a.text).toContain('• <b>k1</b> (Kite): token expired — Incorrect `api_key` or `access_token`.');
    expect(a.text).toContain('<a href="https://kite.zerodha.com/connect/login?v=3&amp;api_key=abc">the Kite login for k1</a>');
    expect(a.text).toContain('• <b>f1</b> (Dhan): token expires at 09:00 IST');
    expect(a.text).toContain('web.dhan.co');
    expect(a.text).toContain('/token f1 &lt;the token&gt;');
    expect(a.text).toContain('• <b>mom</b> (Kite): no token yet');
  });

  it('expiry: a follower\'s copies are skipped; the leader\'s orders may be missed; both say /login', () => {
    const f = alertOf({ type: 'session_expired', accountId: 'f1', detail: 'DH-901' }, T)!;
    expect(f.text).toBe('🔑 <b>f1</b>: broker session expired (DH-901). Copies to this account are skipped — exits too — until its token is renewed. Send /login f1.');
    const l = alertOf({ type: 'session_expired', accountId: 'leader', detail: 'x<y' }, T)!;
    expect(l.text).toContain('<b>leader</b>: broker session expired (x&lt;y). Leader orders may go unseen');
    expect(l.text).toContain('Send /login leader.');
    expect(alertOf({ type: 'session_restored', accountId: 'f1' }, T)!.text).toBe('✅ <b>f1</b> is back: new token in use, copies resume from the next leader order.');
  });

  it('the day summary has one line per follower and is silent (info priority)', () => {
    const a = alertOf({ type: 'daily_summary', day: '2025-06-02', followers: [{ followerId: 'f1', copies: 1, filled: 1, rejected: 0, failed: 0, skipped: 0, expired: 0 }] }, T)!;
    expect(a.priority).toBe(3);
    expect(a.text).toBe('📊 <b>Day summary</b> · 2025-06-02\n<b>f1</b>: 1 copy · 1 filled · 0 rejected · 0 failed · 0 skipped · 0 approvals expired');
  });

  it('/login text and the /health lines', () => {
    expect(loginText('f1', { broker: 'dhan' })).toMatch(/^🔑 <b>Login for f1<\/b> \(Dhan\)\n1\. On <a href="https:\/\/web\.dhan\.co">/);
    expect(sessionLines([{ accountId: 'f1', state: 'ok', expiresAt: T, lastCheckedAt: null }])).toEqual(['🔑 f1: ok · expires 2025-06-02 08:00 IST · not checked yet']);
    expect(jobLines([
      { name: 'token-check', cron: '0 8 * * 1-5', nextRun: new Date(T), running: false },
      { name: 'instruments-after-login', cron: null, nextRun: null, running: true },
    ])).toEqual(['⏰ token-check: next 2025-06-02 08:00 IST', '⏰ instruments-after-login: running now · on demand']);
  });
});
