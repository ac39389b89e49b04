/** Broker access tokens (ciphertext only: sealing and opening happen in engine/token-vault.ts). */
import { eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { tokens } from './schema.js';

export type TokenRow = typeof tokens.$inferSelect;
export type TokenSource = NonNullable<TokenRow['source']>;

export class TokenRepo {
  constructor(private readonly db: Db) {}

  get(accountId: string): TokenRow | undefined {
    return this.db.select().from(tokens).where(eq(tokens.accountId, accountId)).get();
  }

  all(): TokenRow[] {
    return this.db.select().from(tokens).all();
  }

  count(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(tokens).get()?.n ?? 0;
  }

  /** Insert or replace the account's token (a new token starts unchecked unless told otherwise). */
  put(row: TokenRow): void {
    const { accountId, ...rest } = row;
    this.db.insert(tokens).values(row).onConflictDoUpdate({ target: tokens.accountId, set: rest }).run();
  }

  /** A successful check: when, and the expiry the broker reported (kept when it reported none). */
  checked(accountId: string, at: number, expiresAt: number | null): void {
    this.db
      .update(tokens)
      .set(expiresAt === null ? { lastCheckedAt: at } : { lastCheckedAt: at, expiresAt })
      .where(eq(tokens.accountId, accountId))
      .run();
  }
}
