/**
 * Per-account token handling that depends on the broker, behind one small interface the session
 * manager uses: how to get a token (for /login), how to turn what the admin pasted into a checked
 * access token (for /token), how long a token lives, renewal (Dhan), and installing a token.
 */
import type { Config, Credentials } from '../config.js';
import type { Broker, SessionState } from './port.js';
import { BrokerRejected } from './port.js';
import { DhanBroker } from './dhan/dhan-broker.js';
import { jwtExpiry } from './dhan/dhan-time.js';
import { KiteBroker } from './kite/kite-broker.js';
import { exchangeRequestToken, extractRequestToken, loginUrl, nextKiteExpiry } from './kite/kite-session.js';

export type LiveBrokerKind = 'dhan' | 'kite';

/** What /login shows: Kite has a URL to open; Dhan's token comes from web.dhan.co. */
export type LoginHelp = { broker: 'kite'; url: string } | { broker: 'dhan' };

export interface AcceptedToken {
  accessToken: string;
  expiresAt: number | null;
  /** The broker's user id / client id the token belongs to. */
  who: string | null;
}

export interface RenewedToken {
  accessToken: string;
  expiresAt: number | null;
}

export interface AccountLogin {
  readonly accountId: string;
  readonly broker: LiveBrokerKind;
  readonly adapter: Broker;
  help(): LoginHelp;
  /**
   * What the admin pasted → a working access token. A refusal is thrown as BrokerRejected with the
   * broker's words; network trouble as BrokerUnavailable. Nothing is installed here.
   */
  accept(input: string, now: number): Promise<AcceptedToken>;
  /** Expiry of a token obtained at `at`, when nothing better is known. */
  estimateExpiry(token: string, at: number): number | null;
  /** Install a token in the adapter (it restarts its own order stream when it needs to). */
  apply(token: string): void;
  check(): Promise<SessionState>;
  /** Dhan only: renew; `persist` runs before the new token is used. */
  renew?(persist: (t: RenewedToken) => void): Promise<RenewedToken>;
}

const DAY_MS = 86_400_000;

/** Estimated expiry of a token of this broker obtained at `at`: Dhan's JWT `exp` (or 24 h), Kite's next 06:00 IST. */
export function estimateExpiry(broker: LiveBrokerKind, token: string, at: number): number | null {
  return broker === 'dhan' ? (jwtExpiry(token) ?? at + DAY_MS) : nextKiteExpiry(at);
}

/** The accounts that talk to a real broker with a token (the rule of brokers/factory.ts). */
export function liveAccounts(cfg: Config): { id: string; broker: LiveBrokerKind; credentials: Credentials }[] {
  const out: { id: string; broker: LiveBrokerKind; credentials: Credentials }[] = [];
  const l = cfg.leader;
  if (l.broker === 'dhan' || l.broker === 'kite') out.push({ id: 'leader', broker: l.broker, credentials: l.credentials });
  if (cfg.mode === 'live') {
    for (const f of cfg.followers) if (f.broker === 'dhan' || f.broker === 'kite') out.push({ id: f.id, broker: f.broker, credentials: f.credentials });
  }
  return out;
}

class DhanLogin implements AccountLogin {
  readonly broker = 'dhan' as const;
  constructor(
    readonly accountId: string,
    readonly adapter: DhanBroker,
    private readonly clientId: string,
  ) {}

  help(): LoginHelp {
    return { broker: 'dhan' };
  }

  async accept(input: string): Promise<AcceptedToken> {
    const token = input.trim();
    if (!/^[A-Za-z0-9._-]{20,4096}$/.test(token)) {
      throw new BrokerRejected('FORMAT', 'That does not look like a Dhan access token (a long string like eyJ…, no spaces).');
    }
    const s = await this.adapter.checkSession(token);
    if (!s.valid) throw new BrokerRejected('DH-901', s.reason ?? 'Dhan refused the token');
    if (s.accountName && s.accountName !== this.clientId) {
      throw new BrokerRejected('CLIENT', `That token belongs to Dhan client ${s.accountName}, not ${this.clientId} (${this.accountId}).`);
    }
    return { accessToken: token, expiresAt: s.expiresAt ?? jwtExpiry(token), who: s.accountName ?? null };
  }

  estimateExpiry(token: string, at: number): number | null {
    return estimateExpiry('dhan', token, at);
  }

  apply(token: string): void {
    this.adapter.setAccessToken(token);
  }

  check(): Promise<SessionState> {
    return this.adapter.checkSession();
  }

  renew(persist: (t: RenewedToken) => void): Promise<RenewedToken> {
    return this.adapter.renewToken(persist);
  }
}

class KiteLogin implements AccountLogin {
  readonly broker = 'kite' as const;
  constructor(
    readonly accountId: string,
    readonly adapter: KiteBroker,
    private readonly cfg: Config,
    private readonly creds: Credentials,
    private readonly timeoutMs: number,
  ) {}

  help(): LoginHelp {
    return { broker: 'kite', url: loginUrl(this.cfg.endpoints.kiteLoginUrl, this.creds.apiKey ?? '') };
  }

  async accept(input: string, now: number): Promise<AcceptedToken> {
    const requestToken = extractRequestToken(input);
    if (!requestToken) {
      throw new BrokerRejected('FORMAT', 'That is neither a request token nor the redirect address with request_token=… in it.');
    }
    if (!this.creds.apiKey || !this.creds.apiSecret) throw new BrokerRejected('CONFIG', `${this.accountId} has no Kite api key and secret configured.`);
    const s = await exchangeRequestToken({ apiUrl: this.cfg.endpoints.kiteApiUrl, apiKey: this.creds.apiKey, apiSecret: this.creds.apiSecret, requestToken, timeoutMs: this.timeoutMs });
    return { accessToken: s.accessToken, expiresAt: nextKiteExpiry(now), who: s.userId || null };
  }

  estimateExpiry(token: string, at: number): number | null {
    return estimateExpiry('kite', token, at);
  }

  apply(token: string): void {
    this.adapter.setAccessToken(token);
  }

  check(): Promise<SessionState> {
    return this.adapter.checkSession();
  }
}

/** The login handler of each live account, for the brokers the composition built. */
export function accountLogins(cfg: Config, brokers: Broker[], timeoutMs: number): AccountLogin[] {
  const out: AccountLogin[] = [];
  for (const a of liveAccounts(cfg)) {
    const b = brokers.find((x) => x.accountId === a.id);
    if (b instanceof DhanBroker && a.credentials.clientId) out.push(new DhanLogin(a.id, b, a.credentials.clientId));
    else if (b instanceof KiteBroker) out.push(new KiteLogin(a.id, b, cfg, a.credentials, timeoutMs));
  }
  return out;
}
