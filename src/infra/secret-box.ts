/**
 * Secrets at rest: AES-256-GCM (node:crypto) with a random 96-bit IV per value and the account id
 * as associated data (a ciphertext copied onto another account's row does not open). The key comes
 * from TOKEN_ENCRYPTION_KEY, or from a key file beside the database created on first start (0600).
 */
import { chmodSync, existsSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;

/** The stored value does not authenticate under this key (wrong key, or tampered). */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/** 64 hex characters, or base64 (standard or url-safe) of exactly 32 bytes; null otherwise. */
export function parseEncryptionKey(raw: string): Buffer | null {
  const s = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) return null;
  const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return b.length === KEY_BYTES ? b : null;
}

export class SecretBox {
  private readonly digestKey: Buffer;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new RangeError('the encryption key must be 32 bytes');
    this.digestKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'tandem token digest', KEY_BYTES));
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. `context` (e.g. the account id) is bound as AAD. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [VERSION, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  /** The plain text, or SecretBoxError when the value does not authenticate under this key. */
  open(sealed: string, context: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== VERSION || iv === undefined || tag === undefined || ct === undefined) throw new SecretBoxError('not a sealed value');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('the value does not authenticate under this key');
    }
  }

  /** A keyed fingerprint (HMAC-SHA256, derived key): recognise a value again without storing it. */
  digest(value: string): string {
    return createHmac('sha256', this.digestKey).update(value).digest('hex');
  }
}

/** `<db dir>/tandem.key`. */
export function keyFilePath(databasePath: string): string {
  return join(dirname(resolve(databasePath)), 'tandem.key');
}

export type KeyOrigin = 'env' | 'file' | 'created' | 'memory';

/**
 * The key: from the environment when given; else the key file beside the database; else a new
 * random key written there (mode 0600) — unless `mayCreate` is false (the database already holds
 * sealed values: a new key could never open them), which throws. An in-memory database gets a
 * throw-away key.
 */
export function loadOrCreateKey(envKey: Buffer | null, databasePath: string, mayCreate: boolean): { key: Buffer; origin: KeyOrigin; path: string | null } {
  if (envKey) return { key: envKey, origin: 'env', path: null };
  if (databasePath === ':memory:') return { key: randomBytes(KEY_BYTES), origin: 'memory', path: null };
  const path = keyFilePath(databasePath);
  if (existsSync(path)) {
    const key = parseEncryptionKey(readFileSync(path, 'utf8'));
    if (!key) throw new SecretBoxError(`${path} does not hold a key (64 hex characters)`);
    chmodSync(path, 0o600);
    return { key, origin: 'file', path };
  }
  if (!mayCreate) throw new SecretBoxError(`${path} is missing but the database holds encrypted tokens`);
  const key = randomBytes(KEY_BYTES);
  const fd = openSync(path, 'wx', 0o600); // fails rather than overwrite a key another process just wrote
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
  return { key, origin: 'created', path };
}
