/**
 * Each follower's own rules (issue 17): what it copies, how it holds, how much it may lose in a day,
 * what happens to a copy left unfilled. One spec per rule — its environment name, what it accepts,
 * how a value is read and shown — so `.env` and the chat's `/rules` validate with the same words.
 * Pure: no I/O, no clock.
 */
import type { Instrument } from './instrument.js';
import { isDerivative } from './instrument.js';
import type { Product, Segment } from './order.js';

/** The segment names the rules use (the exchanges' own), and tandem's segment each means. */
export const RULE_SEGMENTS = { NSE_EQ: 'NSE_EQ', BSE_EQ: 'BSE_EQ', NFO: 'NSE_FNO', BFO: 'BSE_FNO', MCX: 'MCX_COMM', CDS: 'NSE_CURRENCY' } as const satisfies Record<string, Segment>;
export type RuleSegment = keyof typeof RULE_SEGMENTS;

export type ProductRule = 'same' | 'intraday' | 'carry' | 'delivery';
export type OnMaxLoss = 'stop' | 'flatten';
export type UnfilledRule = 'keep' | 'cancel' | 'chase';

export interface FollowerRules {
  /** null: every segment. */
  segments: RuleSegment[] | null;
  /** Underlyings to copy only; null: all. */
  symbols: string[] | null;
  /** Underlyings never copied. */
  excludeSymbols: string[];
  product: ProductRule;
  maxOpenPositions: number | null;
  maxDailyLossInr: number | null;
  onMaxLoss: OnMaxLoss;
  unfilledAfterS: number | null;
  unfilled: UnfilledRule;
}

export const DEFAULT_RULES: FollowerRules = {
  segments: null,
  symbols: null,
  excludeSymbols: [],
  product: 'same',
  maxOpenPositions: null,
  maxDailyLossInr: null,
  onMaxLoss: 'stop',
  unfilledAfterS: null,
  unfilled: 'keep',
};

export type RuleName = keyof FollowerRules;

export interface RuleSpec<K extends RuleName = RuleName> {
  /** The environment suffix after `FOLLOWER_<ID>_`, and the chat's rule name (lower case). */
  env: string;
  chat: string;
  /** What a valid value is, said when one is not. */
  accepted: string;
  /** A raw value → the rule's value, or undefined when it is not valid. */
  parse: (raw: string) => FollowerRules[K] | undefined;
  show: (v: FollowerRules[K]) => string;
}

const list = (raw: string) => raw.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
const wholeAtLeast = (min: number) => (raw: string) => (/^\d+$/.test(raw.trim()) && Number(raw) >= min ? Number(raw) : undefined);
const oneOf = <T extends string>(values: readonly T[]) => (raw: string) => ((values as readonly string[]).includes(raw.trim().toLowerCase()) ? (raw.trim().toLowerCase() as T) : undefined);
const symbolList = (raw: string) => {
  const xs = list(raw);
  return xs.length && xs.every((x) => /^[A-Z0-9&_.-]{1,30}$/.test(x)) ? xs : undefined;
};

export const RULE_SPECS: { [K in RuleName]: RuleSpec<K> } = {
  segments: {
    env: 'SEGMENTS',
    chat: 'segments',
    accepted: `a comma list of ${Object.keys(RULE_SEGMENTS).join(', ')} (or all)`,
    parse: (raw) => {
      if (raw.trim().toLowerCase() === 'all') return null;
      const xs = list(raw);
      return xs.length && xs.every((x) => x in RULE_SEGMENTS) ? (xs as RuleSegment[]) : undefined;
    },
    show: (v) => (v ? v.join(',') : 'all'),
  },
  symbols: {
    env: 'SYMBOLS',
    chat: 'symbols',
    accepted: 'a comma list of underlyings like NIFTY,BANKNIFTY,RELIANCE (or all)',
    parse: (raw) => (raw.trim().toLowerCase() === 'all' ? null : (symbolList(raw) ?? undefined)),
    show: (v) => (v ? v.join(',') : 'all'),
  },
  excludeSymbols: {
    env: 'EXCLUDE_SYMBOLS',
    chat: 'exclude_symbols',
    accepted: 'a comma list of underlyings like NIFTY,BANKNIFTY,RELIANCE (or none)',
    parse: (raw) => (raw.trim().toLowerCase() === 'none' ? [] : symbolList(raw)),
    show: (v) => (v.length ? v.join(',') : 'none'),
  },
  product: { env: 'PRODUCT', chat: 'product', accepted: 'one of same, intraday, carry, delivery', parse: oneOf(['same', 'intraday', 'carry', 'delivery'] as const), show: (v) => v },
  maxOpenPositions: {
    env: 'MAX_OPEN_POSITIONS',
    chat: 'max_open_positions',
    accepted: 'a whole number of instruments ≥ 1 (or none)',
    parse: (raw) => (raw.trim().toLowerCase() === 'none' ? null : (wholeAtLeast(1)(raw) ?? undefined)),
    show: (v) => (v === null ? 'none' : String(v)),
  },
  maxDailyLossInr: {
    env: 'MAX_DAILY_LOSS_INR',
    chat: 'max_daily_loss_inr',
    accepted: 'a rupee amount greater than 0 (or none)',
    parse: (raw) => {
      if (raw.trim().toLowerCase() === 'none') return null;
      const n = Number(raw.trim().replace(/[₹,\s]/g, ''));
      return Number.isFinite(n) && n > 0 ? n : undefined;
    },
    show: (v) => (v === null ? 'none' : `₹${v.toLocaleString('en-IN')}`),
  },
  onMaxLoss: { env: 'ON_MAX_LOSS', chat: 'on_max_loss', accepted: 'one of stop, flatten', parse: oneOf(['stop', 'flatten'] as const), show: (v) => v },
  unfilledAfterS: {
    env: 'UNFILLED_AFTER_S',
    chat: 'unfilled_after_s',
    accepted: 'a whole number of seconds from 1 to 3600 (or none)',
    parse: (raw) => {
      if (raw.trim().toLowerCase() === 'none') return null;
      const n = wholeAtLeast(1)(raw);
      return n !== undefined && n <= 3600 ? n : undefined;
    },
    show: (v) => (v === null ? 'none' : `${v} s`),
  },
  unfilled: { env: 'UNFILLED', chat: 'unfilled', accepted: 'one of keep, cancel, chase', parse: oneOf(['keep', 'cancel', 'chase'] as const), show: (v) => v },
};

export const RULE_NAMES = Object.keys(RULE_SPECS) as RuleName[];

/** Read one rule's raw text (`none`/`all` where the rule allows them), or say what it accepts. */
export function parseRule<K extends RuleName>(name: K, raw: string): { ok: true; value: FollowerRules[K] } | { ok: false; accepted: string } {
  const spec = RULE_SPECS[name] as RuleSpec<K>;
  const v = spec.parse(raw);
  return v === undefined ? { ok: false, accepted: spec.accepted } : { ok: true, value: v };
}

/** The chat name (`max_daily_loss_inr`) → the rule, or null. */
export function ruleByChatName(chat: string): RuleName | null {
  const k = chat.trim().toLowerCase();
  return RULE_NAMES.find((n) => RULE_SPECS[n].chat === k) ?? null;
}

/** The underlying a symbol rule speaks of: a derivative's underlying name, an equity's trading symbol. */
export function underlyingOf(i: Pick<Instrument, 'segment' | 'symbol' | 'name'>): string {
  return (isDerivative(i.segment) ? i.name || i.symbol : i.symbol).toUpperCase().replace(/-(EQ|BE|BZ|SM|ST)$/, '');
}

/** Why this follower's rules refuse an entry in this instrument, or null. */
export function instrumentRefusal(r: FollowerRules, i: Pick<Instrument, 'segment' | 'symbol' | 'name'>): string | null {
  if (r.segments) {
    const allowed = r.segments.map((s) => RULE_SEGMENTS[s]);
    if (!allowed.includes(i.segment)) return `${r.segments.join(', ')} only`;
  }
  const u = underlyingOf(i);
  if (r.symbols && !r.symbols.includes(u)) return `${u} is not in its symbols (${r.symbols.join(', ')})`;
  if (r.excludeSymbols.includes(u)) return `${u} is excluded`;
  return null;
}

/**
 * The product a follower's entry goes out with. `delivery` applies to equities only (derivatives
 * keep the leader's); `intraday`/`carry` map to tandem's INTRADAY / MARGIN (Kite MIS / NRML; CNC for
 * a carried equity).
 */
export function entryProduct(rule: ProductRule, leader: Product, segment: Segment): Product {
  switch (rule) {
    case 'same':
      return leader;
    case 'intraday':
      return 'INTRADAY';
    case 'carry':
      return isDerivative(segment) ? 'MARGIN' : 'CNC';
    case 'delivery':
      return isDerivative(segment) ? leader : 'CNC';
  }
}

/** Minutes since midnight of an `HH:MM` string. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Whether an entry at IST minute-of-day `now` is inside COPY_ENTRIES_FROM..COPY_ENTRIES_UNTIL (either may be unset). */
export function inEntryWindow(now: number, from: string | null, until: string | null): boolean {
  if (from !== null && now < minutesOf(from)) return false;
  if (until !== null && now >= minutesOf(until)) return false;
  return true;
}
