import { createHash } from 'node:crypto';

/**
 * The client tag every follower order carries, derived deterministically from the copy's natural
 * key so that after a crash the order can be found at the broker by recomputing it.
 * Format: `tdm` + 16 base-36 characters = 19 characters, alphanumeric only: valid for Kite's `tag`
 * (≤ 20 alphanumeric) and Dhan's `correlationId` (≤ 25 of [A-Za-z0-9_-]).
 */
export function copyTag(leaderOrderId: string, followerId: string, leg: number): string {
  const digest = createHash('sha256').update(`${leaderOrderId}|${followerId}|${leg}`).digest();
  let n = BigInt(`0x${digest.subarray(0, 12).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out += (n % 36n).toString(36);
    n /= 36n;
  }
  return `tdm${out}`;
}

export const TAG_PATTERN = /^tdm[0-9a-z]{16}$/;
