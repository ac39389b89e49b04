/** The token store: AES-256-GCM round trip, key handling (env, key file 0600, wrong key), seeding from .env. */
import { mkdtempSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { TokenVault } from '../../src/engine/token-vault.js';
import { ManualClock } from '../../src/infra/clock.js';
import { SecretBox, SecretBoxError, keyFilePath, loadOrCreateKey, parseEncryptionKey } from '../../src/infra/secret-box.js';
import { Store } from '../../src/store/index.js';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'tandem-tokens-')), 'tandem.db');
const KEY_A = 'a'.repeat(64);
const KEY_B = randomBytes(32).toString('base64');
const TOKEN = 'eyJhbGciOiJIUzUxMiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2lnbmF0dXJlc2lnbmF0dXJl';
const est = (_t: string, at: number) => at + 86_400_000;

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips, with a fresh IV each time, and the sealed text does not contain the secret', () => {
    const a = box.seal(TOKEN, 'f1');
    const b = box.seal(TOKEN, 'f1');
    expect(a).not.toBe(b);
    expect(a).not.toContain(TOKEN);
    expect(a.startsWith('v1.')).toBe(true);
    expect(box.open(a, 'f1')).toBe(TOKEN);
    expect(box.open(b, 'f1')).toBe(TOKEN);
  });

  it('refuses another key, another account (AAD), and a tampered value', () => {
    const sealed = box.seal(TOKEN, 'f1');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'f1')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'f2')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], ct.toString('base64url')].join('.'), 'f1')).toThrow(SecretBoxError);
    expect(() => box.open('garbage', 'f1')).toThrow(SecretBoxError);
  });

  it('parses 64 hex or base64 of 32 bytes, nothing else', () => {
    expect(parseEncryptionKey(KEY_A)?.length).toBe(32);
    expect(parseEncryptionKey(KEY_B)?.length).toBe(32);
    expect(parseEncryptionKey(randomBytes(32).toString('base64url'))?.length).toBe(32);
    for (const bad of ['', 'abc', 'g'.repeat(64), 'a'.repeat(63), randomBytes(31).toString('base64'), randomBytes(33).toString('base64')]) {
      expect(parseEncryptionKey(bad)).toBeNull();
    }
  });
});

describe('the key file', () => {
  it('is created beside the database on first start, mode 0600, and read back after', () => {
    const path = dbPath();
    const first = loadOrCreateKey(null, path, true);
    expect(first.origin).toBe('created');
    expect(first.path).toBe(keyFilePath(path));
    expect(statSync(first.path!).mode & 0o777).toBe(0o600);
    const again = loadOrCreateKey(null, path, true);
    expect(again.origin).toBe('file');
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('the environment key wins and no file is written', () => {
    const path = dbPath();
    const k = loadOrCreateKey(parseEncryptionKey(KEY_A), path, true);
    expect(k.origin).toBe('env');
    expect(() => statSync(keyFilePath(path))).toThrow();
  });
});

describe('TokenVault', () => {
  it('stores the token sealed (the database never holds it in clear) and opens it after a restart', () => {
    const path = dbPath();
    const clock = new ManualClock(1_700_000_000_000);
    let store = Store.open(path);
    let vault = TokenVault.open(store, path, null, clock);
    expect(vault.seed('f1', TOKEN, est)).toBe('seeded');
    const row = store.tokens.get('f1')!;
    expect(row.ciphertext).not.toContain(TOKEN);
    expect(row.seedDigest).not.toContain(TOKEN);
    expect(row).toMatchObject({ obtainedAt: clock.now(), expiresAt: clock.now() + 86_400_000, source: 'env' });
    store.close();
    store = Store.open(path);
    vault = TokenVault.open(store, path, null, clock);
    expect(vault.get('f1')?.token).toBe(TOKEN);
    store.close();
  });

  it('a wrong TOKEN_ENCRYPTION_KEY is a clear start-up error naming the variable, not garbage', () => {
    const path = dbPath();
    const clock = new ManualClock(1_700_000_000_000);
    let store = Store.open(path);
    TokenVault.open(store, path, KEY_A, clock).seed('leader', TOKEN, est);
    store.close();
    store = Store.open(path);
    let err: unknown;
    try {
      TokenVault.open(store, path, KEY_B, clock);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^TOKEN_ENCRYPTION_KEY does not match the key the stored tokens were encrypted with/);
    expect((err as Error).message).toContain('leader');
    expect((err as Error).message).not.toContain(TOKEN);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    // The right key still opens it.
    expect(TokenVault.open(store, path, KEY_A, clock).get('leader')?.token).toBe(TOKEN);
    store.close();
  });

  it('a replaced key file is caught the same way; a deleted one is not silently regenerated', () => {
    const path = dbPath();
    const clock = new ManualClock(1_700_000_000_000);
    let store = Store.open(path);
    TokenVault.open(store, path, null, clock).seed('f1', TOKEN, est);
    store.close();
    writeFileSync(keyFilePath(path), randomBytes(32).toString('hex'));
    store = Store.open(path);
    expect(() => TokenVault.open(store, path, null, clock)).toThrow(/TOKEN_ENCRYPTION_KEY does not match .*read from .*tandem\.key/);
    unlinkSync(keyFilePath(path));
    expect(() => TokenVault.open(store, path, null, clock)).toThrow(/TOKEN_ENCRYPTION_KEY is missing and .*tandem\.key is missing but the database holds encrypted tokens/);
    expect(() => statSync(keyFilePath(path))).toThrow();
    store.close();
  });

  it('seeding: the store wins over the same .env token; a different .env token wins over the store', () => {
    const path = dbPath();
    const clock = new ManualClock(1_700_000_000_000);
    const store = Store.open(path);
    const vault = TokenVault.open(store, path, KEY_A, clock);
    expect(vault.seed('f1', 'env-token-one-aaaaaaaaaaaaaaa', est)).toBe('seeded');
    // A renewal (or /token) replaces it; .env still holds the first token.
    clock.advance(3600_000);
    vault.save('f1', 'renewed-token-bbbbbbbbbbbbbbbbb', { obtainedAt: clock.now(), expiresAt: null, source: 'renewal' });
    expect(vault.seed('f1', 'env-token-one-aaaaaaaaaaaaaaa', est)).toBe('stored');
    expect(vault.get('f1')).toMatchObject({ token: 'renewed-token-bbbbbbbbbbbbbbbbb', source: 'renewal' });
    // Someone pastes a fresh token into .env: it is used.
    expect(vault.seed('f1', 'env-token-two-ccccccccccccccc', est)).toBe('env-replaced');
    expect(vault.get('f1')).toMatchObject({ token: 'env-token-two-ccccccccccccccc', source: 'env' });
    // No .env token: the stored one stays; nothing anywhere: none.
    expect(vault.seed('f1', undefined, est)).toBe('stored');
    expect(vault.seed('k1', undefined, est)).toBe('none');
    vault.checked('f1', clock.now(), 1_800_000_000_000);
    expect(store.tokens.get('f1')).toMatchObject({ lastCheckedAt: clock.now(), expiresAt: 1_800_000_000_000 });
    store.close();
  });
});
