import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.js';
import { RuntimeSettings } from '../../src/engine/runtime-settings.js';
import { ManualClock } from '../../src/infra/clock.js';
import { tempDbPath } from '../e2e/harness.js';
import { ClaimBatcher } from '../../src/engine/claims.js';

describe('store', () => {
  it('applies the migrations to an empty file, in WAL mode, created 0600', () => {
    const path = tempDbPath();
    const store = Store.open(path);
    expect(store.copies.inStates(['planned'])).toEqual([]);
    expect(store.outbox.depth()).toBe(0);
    store.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Opening again re-applies nothing and keeps working.
    const again = Store.open(path);
    expect(again.settings.all()).toEqual([]);
    again.close();
  });

  it('keeps pause state and ratios across a restart', () => {
    const path = tempDbPath();
    const clock = new ManualClock(1_800_000_000_000);
    const s1 = Store.open(path);
    const settings = new RuntimeSettings(s1, clock);
    settings.setPaused('all', true, 111);
    settings.setPaused('f2', true, 111);
    settings.setRatio('f1', 0.25, 111);
    s1.close();

    const s2 = Store.open(path);
    const reloaded = new RuntimeSettings(s2, clock);
    expect(reloaded.isPaused('f1')).toBe(true);
    expect(reloaded.pauseState('all')).toEqual({ paused: true, by: 111, at: 1_800_000_000_000 });
    expect(reloaded.ratio('f1')).toBe(0.25);
    expect(reloaded.ratio('f3')).toBeUndefined();
    reloaded.setPaused('all', false, 111);
    expect(reloaded.isPaused('f1')).toBe(false);
    expect(reloaded.isPaused('f2')).toBe(true);
    s2.close();
  });

  it('lets exactly one caller win the planned → placing claim', () => {
    const store = Store.open(tempDbPath());
    const [copy] = store.copies.insert([
      {
        leaderOrderId: 'L1', followerId: 'f1', leg: 0, kind: 'entry', state: 'planned', tag: 'tdm0000000000000001',
        segment: 'NSE_EQ', securityId: '2885', symbol: 'RELIANCE', side: 'BUY', orderType: 'MARKET', product: 'CNC',
        validity: 'DAY', amo: false, lotSize: 1, plannedQty: 10, lots: 10, eventAt: 1, createdAt: 1, updatedAt: 1,
      },
    ]);
    expect(copy).toBeDefined();
    const wins = [1, 2, 3].map(() => store.copies.transition(copy!.id, 'planned', 'placing', 2));
    expect(wins).toEqual([true, false, false]);
    // The same intent inserted again (a replayed event) is not a second copy.
    expect(store.copies.insert([{ ...copy!, id: undefined, state: 'planned' } as never])).toEqual([]);
    expect(store.copies.forLeaderOrder('L1')).toHaveLength(1);
    store.close();
  });

  it('claims made in one turn share one commit, and only one caller wins each copy', async () => {
    const store = Store.open(tempDbPath());
    const base = {
      leaderOrderId: 'L2', followerId: 'f1', kind: 'entry' as const, state: 'planned' as const,
      segment: 'NSE_EQ' as const, securityId: '2885', symbol: 'RELIANCE', side: 'BUY' as const, orderType: 'MARKET' as const,
      product: 'CNC' as const, validity: 'DAY' as const, amo: false, lotSize: 1, plannedQty: 1, lots: 1, eventAt: 1, createdAt: 1, updatedAt: 1,
    };
    const rows = store.copies.insert([0, 1, 2].map((leg) => ({ ...base, leg, tag: `tdmclaim00000000000${leg}` })));
    const before = store.commits;
    const claims = new ClaimBatcher(store, () => 5);
    const results = await Promise.all([...rows.map((r) => claims.claim(r.id)), claims.claim(rows[0]!.id)]);
    expect(results.map((r) => r?.state ?? null)).toEqual(['placing', 'placing', 'placing', null]);
    expect(results.map((r) => r?.id ?? null)).toEqual([...rows.map((r) => r.id), null]);
    expect(store.commits - before).toBe(1); // one transaction for the whole turn
    expect(store.copies.inStates(['placing'])).toHaveLength(3);
    store.close();
  });
});
