import { hash } from 'node:crypto';

/**
 * The client tag every follower order carries, derived deterministically from the copy's natural
 * key so that after a crash the order can be found at the broker by recomputing it.
 * Format: `tdm` + 16 base-36 characters = 19 characters, alphanumeric only: valid for Kite's `tag`
 * (≤ 20 alphanumeric) and Dhan's `correlationId` (≤ 25 of [A-Za-z0-9_-]).
 */
export function copyTag(leaderOrderId: string, followerId: string, leg: number): string {
  const d = hash('sha256', `${leaderOrderId}|${followerId}|${leg}`, 'buffer');
  // The first 96 bits as four 24-bit limbs, most significant first; 16 divisions by 36 give the
  // base-36 digits, least significant first. Plain numbers: every intermediate stays below 2^30.
  const limbs = [0, 3, 6, 9].map((i) => (d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
  let out = 'tdm';
  for (let k = 0; k < 16; k++) {
    let rem = 0;
    for (let j = 0; j < 4; j++) {
      const cur = rem * 0x1000000 + limbs[j]!;
      limbs[j] = Math.floor(cur / 36);
      rem = cur % 36;
    }
    out += rem.toString(36);
  }
  return out;
}

export const TAG_PATTERN = /^tdm[0-9a-z]{16}$/;
