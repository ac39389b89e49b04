import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { copyTag, TAG_PATTERN } from '../../src/domain/tag.js';

const KITE_TAG = /^[A-Za-z0-9]{1,20}$/;
const DHAN_CORRELATION_ID = /^[A-Za-z0-9_-]{1,25}$/;

const inputs: [string, string, number][] = [
  ['1', 'a', 0],
  ['52200000000123', 'follower_one', 0],
  ['52200000000123', 'follower_one', 1],
  ['250612000123456', 'demo', 0],
  ['SIM-000001', 'x', 7],
  ['', '', 0],
  ['a very long leader order id '.repeat(20), 'z'.repeat(100), 999_999],
  ['unicode ✓ ₹', 'ünï', 2],
];

describe('copyTag', () => {
  it.each(inputs)('copyTag(%j, %j, %j) is valid for Kite and Dhan', (leader, follower, leg) => {
    const tag = copyTag(leader, follower, leg);
    expect(tag).toMatch(TAG_PATTERN);
    expect(tag).toMatch(KITE_TAG);
    expect(tag).toMatch(DHAN_CORRELATION_ID);
    expect(tag.length).toBeLessThanOrEqual(20);
    expect(tag.length).toBe(19);
    expect(tag.startsWith('tdm')).toBe(true);
  });

  it('matches the BigInt definition (first 96 bits of sha256, 16 base-36 digits little end first)', () => {
    const reference = (leader: string, follower: string, leg: number) => {
      let n = BigInt(`0x${createHash('sha256').update(`${leader}|${follower}|${leg}`).digest().subarray(0, 12).toString('hex')}`);
      let out = '';
      for (let i = 0; i < 16; i++) {
        out += (n % 36n).toString(36);
        n /= 36n;
      }
      return `tdm${out}`;
    };
    for (let i = 0; i < 2_000; i++) expect(copyTag(String(25061200000000 + i * 7919), `f${i % 13}`, i % 5)).toBe(reference(String(25061200000000 + i * 7919), `f${i % 13}`, i % 5));
    for (const [leader, follower, leg] of inputs) expect(copyTag(leader, follower, leg)).toBe(reference(leader, follower, leg));
  });

  it.each(inputs)('copyTag(%j, %j, %j) is deterministic', (leader, follower, leg) => {
    expect(copyTag(leader, follower, leg)).toBe(copyTag(leader, follower, leg));
  });

  it.each([
    { leader: '52200000000123', follower: 'alice', leg: 0, tag: 'tdm9u7rtwpsoin314hx' },
    { leader: '52200000000123', follower: 'alice', leg: 1, tag: 'tdms293z539gpt4pygm' },
    { leader: 'SIM-000001', follower: 'demo', leg: 0, tag: 'tdmtw7rmwsxz4hbli9w' },
  ])('is stable across releases: ($leader, $follower, $leg) → $tag', ({ leader, follower, leg, tag }) => {
    // Pinned values (sha256 of "leader|follower|leg", first 96 bits, 16 base-36 digits little end first):
    // changing the derivation would orphan every order placed before the change.
    expect(copyTag(leader, follower, leg)).toBe(tag);
  });

  it.each<{ what: string; a: [string, string, number]; b: [string, string, number] }>([
    { what: 'leader order id', a: ['1001', 'alice', 0], b: ['1002', 'alice', 0] },
    { what: 'follower', a: ['1001', 'alice', 0], b: ['1001', 'bob', 0] },
    { what: 'leg', a: ['1001', 'alice', 0], b: ['1001', 'alice', 1] },
  ])('differs when the $what differs', ({ a, b }) => {
    expect(copyTag(...a)).not.toBe(copyTag(...b));
  });

  it('has no collisions over a realistic key space', () => {
    const seen = new Set<string>();
    let n = 0;
    for (let o = 0; o < 500; o++) {
      for (const f of ['alice', 'bob', 'carol', 'demo']) {
        for (const leg of [0, 1]) {
          seen.add(copyTag(String(25061200000000 + o), f, leg));
          n++;
        }
      }
    }
    expect(seen.size).toBe(n);
  });

  it('uses the whole base-36 alphabet (not just hex)', () => {
    const chars = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of copyTag(String(i), 'f', 0).slice(3)) chars.add(c);
    expect([...chars].some((c) => c >= 'g' && c <= 'z')).toBe(true);
  });
});

describe('TAG_PATTERN', () => {
  it.each([
    { tag: 'tdm0123456789abcdef', ok: true },
    { tag: 'tdm0123456789abcdefg', ok: false }, // 17 chars after prefix
    { tag: 'tdm0123456789abcde', ok: false }, // 15
    { tag: 'TDM0123456789abcdef', ok: false },
    { tag: 'tdm0123456789ABCDEF', ok: false },
    { tag: 'tdm0123456789abcde_', ok: false },
    { tag: 'xyz0123456789abcdef', ok: false },
  ])('$tag → $ok', ({ tag, ok }) => {
    expect(TAG_PATTERN.test(tag)).toBe(ok);
  });
});
