/**
 * The token store: each account's access token sealed with AES-256-GCM (infra/secret-box), with
 * when it was obtained, when it expires (known or estimated) and when it last passed a check.
 *
 * Seeding from the environment: a token in .env seeds the store on first start; afterwards the
 * store wins (it holds renewals and tokens sent with /token) — unless the .env token differs from
 * the one that seeded the store last time: someone pasted a fresh token into .env and expects it
 * used, so it replaces the stored one. The comparison uses a keyed fingerprint, never the token.
 */
import { ConfigError } from '../config.js';
import type { Clock } from '../infra/clock.js';
import { scrubber } from '../infra/logger.js';
import { SecretBox, SecretBoxError, keyFilePath, loadOrCreateKey, parseEncryptionKey, type KeyOrigin } from '../infra/secret-box.js';
import type { Store, TokenRow, TokenSource } from '../store/index.js';

export interface StoredToken {
  accountId: string;
  token: string;
  obtainedAt: number;
  expiresAt: number | null;
  lastCheckedAt: number | null;
  source: TokenSource | null;
}

export type SeedOutcome = 'seeded' | 'env-replaced' | 'stored' | 'none';

export class TokenVault {
  private readonly cache = new Map<string, StoredToken>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    /** Where the key came from, for the mismatch message. */
    readonly keyOrigin: KeyOrigin = 'env',
  ) {}

  /**
   * Load the key (TOKEN_ENCRYPTION_KEY, else `<db dir>/tandem.key`, created 0600 on first start) and
   * prove it opens every stored token. A wrong key is a ConfigError naming the variable.
   */
  static open(store: Store, databasePath: string, envKey: string | null, clock: Clock): TokenVault {
    const parsed = envKey === null ? null : parseEncryptionKey(envKey);
    if (envKey !== null && !parsed) throw new ConfigError('TOKEN_ENCRYPTION_KEY is invalid: 64 hex characters, or base64 of 32 bytes');
    const held = store.tokens.count();
    let loaded;
    try {
      loaded = loadOrCreateKey(parsed, databasePath, held === 0);
    } catch (e) {
      if (e instanceof SecretBoxError) {
        throw new ConfigError(`TOKEN_ENCRYPTION_KEY is missing and ${e.message}: set the key used before, or restore the key file`);
      }
      throw e;
    }
    const vault = new TokenVault(store, new SecretBox(loaded.key), clock, loaded.origin);
    vault.verify(loaded.origin === 'env' ? null : keyFilePath(databasePath));
    return vault;
  }

  /** Open every stored token once (and give each to the log scrubber). */
  private verify(keyFile: string | null): void {
    for (const row of this.store.tokens.all()) {
      try {
        this.cache.set(row.accountId, this.decode(row));
      } catch (e) {
        if (!(e instanceof SecretBoxError)) throw e;
        const from = keyFile ? ` (the key in use was read from ${keyFile})` : '';
        throw new ConfigError(
          `TOKEN_ENCRYPTION_KEY does not match the key the stored tokens were encrypted with${from}: the token of ${row.accountId} does not open. Set the key used before, or delete the rows of the tokens table to start over (tokens are then seeded again from .env).`,
        );
      }
    }
  }

  private decode(row: TokenRow): StoredToken {
    const token = this.box.open(row.ciphertext, row.accountId);
    scrubber.add(token);
    return { accountId: row.accountId, token, obtainedAt: row.obtainedAt, expiresAt: row.expiresAt, lastCheckedAt: row.lastCheckedAt, source: row.source };
  }

  get(accountId: string): StoredToken | null {
    return this.cache.get(accountId) ?? null;
  }

  /** Apply the seeding rule (see the file comment) for one account. */
  seed(accountId: string, envToken: string | undefined, estimate: (token: string, at: number) => number | null): SeedOutcome {
    const stored = this.store.tokens.get(accountId);
    if (!envToken) return stored ? 'stored' : 'none';
    scrubber.add(envToken);
    const digest = this.box.digest(envToken);
    if (stored && stored.seedDigest === digest) return 'stored';
    const now = this.clock.now();
    this.save(accountId, envToken, { obtainedAt: now, expiresAt: estimate(envToken, now), source: 'env', seedDigest: digest });
    return stored ? 'env-replaced' : 'seeded';
  }

  /** Store a token (sealed). A chat or renewal token keeps the row's seed fingerprint. */
  save(accountId: string, token: string, m: { obtainedAt: number; expiresAt: number | null; source: TokenSource; seedDigest?: string; lastCheckedAt?: number | null }): StoredToken {
    scrubber.add(token);
    const prev = this.store.tokens.get(accountId);
    const row: TokenRow = {
      accountId,
      ciphertext: this.box.seal(token, accountId),
      obtainedAt: m.obtainedAt,
      expiresAt: m.expiresAt,
      lastCheckedAt: m.lastCheckedAt ?? null,
      source: m.source,
      seedDigest: m.seedDigest ?? prev?.seedDigest ?? null,
    };
    this.store.tokens.put(row);
    const out: StoredToken = { accountId, token, obtainedAt: row.obtainedAt, expiresAt: row.expiresAt, lastCheckedAt: row.lastCheckedAt, source: row.source };
    this.cache.set(accountId, out);
    return out;
  }

  /** A successful check of the token now in use. */
  checked(accountId: string, at: number, expiresAt: number | null): void {
    this.store.tokens.checked(accountId, at, expiresAt);
    const c = this.cache.get(accountId);
    if (c) this.cache.set(accountId, { ...c, lastCheckedAt: at, expiresAt: expiresAt ?? c.expiresAt });
  }
}
