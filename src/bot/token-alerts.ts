/** Chat texts (HTML) for broker logins: how to log in, the expiry alert, "is back", the nag, the day summary. Pure. */
import type { LoginHelp } from '../brokers/login.js';
import type { EngineEvent, FollowerDay } from '../engine/events.js';
import { istDateTime, istTime } from '../domain/time.js';
import { PRIORITY, type Alert } from './alerts.js';
import { escapeHtml } from './format.js';

const attr = (s: string) => escapeHtml(s).replace(/"/g, '&quot;');

/** The steps to get a new token for one account, ending with the /token to send. */
export function loginSteps(accountId: string, help: LoginHelp): string {
  const id = escapeHtml(accountId);
  if (help.broker === 'kite') {
    return [
      `1. Open <a href="${attr(help.url)}">the Kite login for ${id}</a> and log in (user id, password, TOTP).`,
      `2. Kite sends the browser to your app's redirect address, ending in <code>request_token=…</code>. Copy that whole address from the address bar (the page itself may not load; that is fine).`,
      `3. Send <code>/token ${id} &lt;the address&gt;</code> within a couple of minutes (a request token works once).`,
    ].join('\n');
  }
  return [
    `1. On <a href="https://web.dhan.co">web.dhan.co</a>: My Profile → Access DhanHQ APIs → generate an access token (valid 24 h).`,
    `2. Send <code>/token ${id} &lt;the token&gt;</code>.`,
    `While tandem runs it renews Dhan tokens by itself before they expire; this is needed after a day offline or when a token was revoked.`,
  ].join('\n');
}

export function brokerName(help: LoginHelp): string {
  return help.broker === 'kite' ? 'Kite' : 'Dhan';
}

/** The reply to /login. */
export function loginText(accountId: string, help: LoginHelp): string {
  return `🔑 <b>Login for ${escapeHtml(accountId)}</b> (${brokerName(help)})\n${loginSteps(accountId, help)}\nThe message carrying the token is deleted from this chat as soon as I have read it.`;
}

export function sessionExpiredText(accountId: string, detail: string): string {
  const id = escapeHtml(accountId);
  const effect =
    accountId === 'leader'
      ? 'Leader orders may go unseen — no order book, no stream reconnect — so copies may be missed until its token is renewed.'
      : 'Copies to this account are skipped — exits too — until its token is renewed.';
  return `🔑 <b>${id}</b>: broker session expired (${escapeHtml(detail)}). ${effect} Send /login ${id}.`;
}

function problemLine(p: Extract<EngineEvent, { type: 'token_nag' }>['accounts'][number]): string {
  const id = escapeHtml(p.accountId);
  const what =
    p.state === 'missing'
      ? 'no token yet'
      : p.state === 'expiring'
        ? `token expires at ${p.expiresAt ? istTime(p.expiresAt).slice(0, 5) : '?'} IST`
        : `token expired${p.detail ? ` — ${escapeHtml(p.detail)}` : ''}`;
  return `• <b>${id}</b> (${brokerName(p.login)}): ${what}\n${loginSteps(p.accountId, p.login)}`;
}

export function dayText(day: string, followers: FollowerDay[]): string {
  const lines = [`📊 <b>Day summary</b> · ${escapeHtml(day)}`];
  if (followers.length === 0) lines.push('No followers configured.');
  for (const f of followers) {
    const parts = [`${f.copies} cop${f.copies === 1 ? 'y' : 'ies'}`, `${f.filled} filled`, `${f.rejected} rejected`, `${f.failed} failed`, `${f.skipped} skipped`, `${f.expired} approvals expired`];
    lines.push(`<b>${escapeHtml(f.followerId)}</b>: ${parts.join(' · ')}`);
  }
  return lines.join('\n');
}

/** Alerts for the session and schedule events; null for other events. */
export function sessionAlertOf(e: EngineEvent): Alert | null {
  switch (e.type) {
    case 'session_expired':
      return { priority: PRIORITY.error, kind: 'session_expired', text: sessionExpiredText(e.accountId, e.detail) };
    case 'session_restored': {
      const id = escapeHtml(e.accountId);
      const then = e.accountId === 'leader' ? "its order book is being reconciled and copying resumes" : 'copies resume from the next leader order';
      return { priority: PRIORITY.fill, kind: 'session_restored', text: `✅ <b>${id}</b> is back: new token in use, ${then}.` };
    }
    case 'token_nag':
      return {
        priority: PRIORITY.error,
        kind: 'token_nag',
        text: `🔑 <b>Broker login needed</b> (I ask again every 15 minutes until ${escapeHtml(e.until)} IST)\n${e.accounts.map(problemLine).join('\n')}`,
      };
    case 'daily_summary':
      return { priority: PRIORITY.info, kind: 'daily_summary', text: dayText(e.day, e.followers) };
    default:
      return null;
  }
}

/** Token lines for /status or /health: one per account. */
export function sessionLines(sessions: { accountId: string; state: string; expiresAt: number | null; lastCheckedAt: number | null }[]): string[] {
  return sessions.map((s) => {
    const exp = s.expiresAt ? `expires ${istDateTime(s.expiresAt)} IST` : 'expiry unknown';
    const checked = s.lastCheckedAt ? `checked ${istDateTime(s.lastCheckedAt)} IST` : 'not checked yet';
    return `🔑 ${escapeHtml(s.accountId)}: ${s.state} · ${exp} · ${checked}`;
  });
}

/** Job lines for /health: name and next run. */
export function jobLines(jobs: { name: string; cron: string | null; nextRun: Date | null; running: boolean }[]): string[] {
  return jobs.map((j) => {
    const next = j.cron === null ? 'on demand' : j.nextRun ? `next ${istDateTime(j.nextRun.getTime())} IST` : 'not scheduled';
    return `⏰ ${escapeHtml(j.name)}: ${j.running ? 'running now · ' : ''}${next}`;
  });
}
