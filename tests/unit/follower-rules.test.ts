/**
 * Each follower's own rules (issue 17), decision by decision: the instrument filters, the entry
 * window's edges, MAX_OPEN_POSITIONS, the product an entry goes out with, and the rules book (env
 * values, chat overrides that survive a restart, reset).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type FollowerRules } from '../../src/domain/rules.js';
import { FollowerRulesBook } from '../../src/engine/follower-rules.js';
import { RuntimeSettings } from '../../src/engine/runtime-settings.js';
import { ManualClock } from '../../src/infra/clock.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

const rules = (over: Partial<FollowerRules> = {}): FollowerRules => ({ ...DEFAULT_RULES, ...over });

describe('FollowerRulesBook', () => {
  it('gives the env rules, a chat value over them that survives a restart, and reset back to env', () => {
    const path = tempDbPath();
    const clock = new ManualClock(1_800_000_000_000);
    const env = [
      { id: 'f1', rules: rules({ segments: ['NFO'], maxOpenPositions: 3 }) },
      { id: 'f2', rules: rules() },
    ];
    const s1 = Store.open(path);
    const book = bookOn(s1, clock, env);
    expect(book.get('f1').segments).toEqual(['NFO']);
    expect(book.source('f1', 'segments')).toBe('env');

    const change = book.set('f1', 'segments', ['NFO', 'BFO'], 111);
    expect(change).toEqual({ before: ['NFO'], after: ['NFO', 'BFO'], was: 'env' });
    expect(book.get('f1').segments).toEqual(['NFO', 'BFO']);
    expect(book.source('f1', 'segments')).toBe('chat');
    // A chat value may itself be null ("all"): still the chat's.
    book.set('f1', 'maxOpenPositions', null, 111);
    expect(book.get('f1').maxOpenPositions).toBeNull();
    expect(book.source('f1', 'maxOpenPositions')).toBe('chat');
    // Other followers and rules are untouched.
    expect(book.get('f2').segments).toBeNull();
    expect(book.source('f1', 'product')).toBe('env');
    s1.close();

    const s2 = Store.open(path);
    const again = bookOn(s2, clock, env);
    expect(again.get('f1').segments).toEqual(['NFO', 'BFO']);
    expect(again.get('f1').maxOpenPositions).toBeNull();
    const back = again.reset('f1', 'maxOpenPositions', 111);
    expect(back).toEqual({ before: null, after: 3, was: 'chat' });
    expect(again.source('f1', 'maxOpenPositions')).toBe('env');
    expect(again.get('f1').maxOpenPositions).toBe(3);
    s2.close();

    const s3 = Store.open(path);
    const third = bookOn(s3, clock, env);
    expect(third.get('f1').maxOpenPositions).toBe(3);
    expect(third.source('f1', 'segments')).toBe('chat');
    expect(() => third.get('nobody')).toThrow(/unknown follower nobody/);
    s3.close();
  });
});

/** A rules book over its own RuntimeSettings on `store`. */
function bookOn(store: Store, clock: ManualClock, env: { id: string; rules: FollowerRules }[]): FollowerRulesBook {
  return new FollowerRulesBook(env, new RuntimeSettings(store, clock));
}
