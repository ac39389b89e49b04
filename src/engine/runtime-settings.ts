/**
 * Runtime settings changed from the chat — pause state and ratios — persisted in the store so a
 * restart keeps them, and cached in memory for the hot path.
 */
import type { Clock } from '../infra/clock.js';
import type { Store } from '../store/index.js';

export interface PauseState {
  paused: boolean;
  by: number | null;
  at: number;
}

const PAUSE_ALL = 'pause:all';
const HALT = 'halt';
const pauseKey = (id: string) => `pause:${id}`;
const ratioKey = (id: string) => `ratio:${id}`;
const ruleKey = (id: string, rule: string) => `rule:${id}:${rule}`;

/** A rule set from the chat: `set` false once reset to the env value (rule values may be null). */
interface RuleOverride {
  set: boolean;
  value: unknown;
}

export class RuntimeSettings {
  private readonly cache = new Map<string, unknown>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    for (const row of store.settings.all()) this.cache.set(row.key, row.value);
  }

  private set(key: string, value: unknown, by: number | null): void {
    this.store.settings.set(key, value, this.clock.now(), by);
    this.cache.set(key, value);
  }

  pauseState(followerId: string | 'all'): PauseState | undefined {
    return this.cache.get(followerId === 'all' ? PAUSE_ALL : pauseKey(followerId)) as PauseState | undefined;
  }

  /** Entries paused for this follower (by a global or its own pause). */
  isPaused(followerId: string): boolean {
    return Boolean(this.pauseState('all')?.paused || this.pauseState(followerId)?.paused);
  }

  setPaused(target: string | 'all', paused: boolean, by: number | null): void {
    this.set(target === 'all' ? PAUSE_ALL : pauseKey(target), { paused, by, at: this.clock.now() } satisfies PauseState, by);
  }

  /** The kill switch: nothing is copied, exits included, until an admin resumes. */
  haltState(): PauseState | undefined {
    return this.cache.get(HALT) as PauseState | undefined;
  }

  isHalted(): boolean {
    return Boolean(this.haltState()?.paused);
  }

  setHalted(halted: boolean, by: number | null): void {
    this.set(HALT, { paused: halted, by, at: this.clock.now() } satisfies PauseState, by);
  }

  /** The ratio set from the chat, if any (else the configured one applies). */
  ratio(followerId: string): number | undefined {
    const v = this.cache.get(ratioKey(followerId));
    return typeof v === 'number' ? v : undefined;
  }

  setRatio(followerId: string, ratio: number, by: number | null): void {
    this.set(ratioKey(followerId), ratio, by);
  }

  /** A follower's rule set from the chat, as `{ value }`, or undefined when the env value applies. */
  ruleOverride(followerId: string, rule: string): { value: unknown } | undefined {
    const v = this.cache.get(ruleKey(followerId, rule)) as RuleOverride | undefined;
    return v && typeof v === 'object' && v.set ? { value: v.value } : undefined;
  }

  setRuleOverride(followerId: string, rule: string, value: unknown, by: number | null): void {
    this.set(ruleKey(followerId, rule), { set: true, value } satisfies RuleOverride, by);
  }

  /** Back to the env value (kept as a row so when and by whom stays on record). */
  clearRuleOverride(followerId: string, rule: string, by: number | null): void {
    this.set(ruleKey(followerId, rule), { set: false, value: null } satisfies RuleOverride, by);
  }
}
