/**
 * Each follower's effective rules (issue 17): the `FOLLOWER_<ID>_<RULE>` values from the
 * environment, overridden one rule at a time by values set from the chat (`/rules`), which are
 * persisted in the settings table so a restart keeps them. Read on the hot path: cached in memory,
 * rebuilt only when a rule changes. Audit logging is the chat layer's job, as for other commands.
 */
import { RULE_NAMES, type FollowerRules, type RuleName } from '../domain/rules.js';
import type { RuntimeSettings } from './runtime-settings.js';

export type RuleSource = 'env' | 'chat';

export interface RuleChange<K extends RuleName = RuleName> {
  before: FollowerRules[K];
  after: FollowerRules[K];
  /** Where the rule's value came from before the change. */
  was: RuleSource;
}

export class FollowerRulesBook {
  private readonly env = new Map<string, FollowerRules>();
  private readonly cache = new Map<string, FollowerRules>();

  constructor(
    followers: Iterable<{ id: string; rules: FollowerRules }>,
    private readonly settings: RuntimeSettings,
  ) {
    for (const f of followers) this.env.set(f.id, f.rules);
  }

  /** The followers that have rules, in configuration order. */
  ids(): string[] {
    return [...this.env.keys()];
  }

  has(followerId: string): boolean {
    return this.env.has(followerId);
  }

  /** The rules in force for this follower now (env, then chat overrides). */
  get(followerId: string): FollowerRules {
    const hit = this.cache.get(followerId);
    if (hit) return hit;
    const env = this.envRules(followerId);
    const out = { ...env } as Record<RuleName, unknown>;
    for (const name of RULE_NAMES) {
      const o = this.settings.ruleOverride(followerId, name);
      if (o) out[name] = o.value;
    }
    const rules = Object.freeze(out) as FollowerRules;
    this.cache.set(followerId, rules);
    return rules;
  }

  /** The value the environment gives this rule (what `reset` returns to). */
  envValue<K extends RuleName>(followerId: string, rule: K): FollowerRules[K] {
    return this.envRules(followerId)[rule];
  }

  source(followerId: string, rule: RuleName): RuleSource {
    return this.settings.ruleOverride(followerId, rule) ? 'chat' : 'env';
  }

  /** Set one rule from the chat (the value already validated with `parseRule`). */
  set<K extends RuleName>(followerId: string, rule: K, value: FollowerRules[K], actor: number | null): RuleChange<K> {
    const before = this.get(followerId)[rule];
    const was = this.source(followerId, rule);
    this.settings.setRuleOverride(followerId, rule, value, actor);
    this.cache.delete(followerId);
    return { before, after: this.get(followerId)[rule], was };
  }

  /** Back to the environment's value. */
  reset<K extends RuleName>(followerId: string, rule: K, actor: number | null): RuleChange<K> {
    const before = this.get(followerId)[rule];
    const was = this.source(followerId, rule);
    this.settings.clearRuleOverride(followerId, rule, actor);
    this.cache.delete(followerId);
    return { before, after: this.get(followerId)[rule], was };
  }

  private envRules(followerId: string): FollowerRules {
    const r = this.env.get(followerId);
    if (!r) throw new Error(`unknown follower ${followerId}`);
    return r;
  }
}
