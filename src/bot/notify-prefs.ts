/**
 * Per-chat notification preferences (/notify): each group of alerts is on, silent (delivered
 * without a sound) or off. Errors can be silenced but never turned off; approval requests are
 * always on. Stored in settings, so they survive a restart.
 *
 * The copies of one leader order share one message, edited in place (copy-groups.ts): there the
 * groups decide which lines a chat sees (off leaves a kind's lines out; a message with no line left
 * is not sent) and whether the message sounds when it is sent (a line of a kind set to on; a copy
 * still working counts as the fill it waits for). Edits never sound: rejections, exits not copied
 * and unknown outcomes also arrive as their own alert (errors).
 */
import type { Store } from '../store/index.js';
import type { Clock } from '../infra/clock.js';

export type NotifyMode = 'on' | 'silent' | 'off';

export const NOTIFY_GROUPS = {
  fills: { label: 'Fills', default: 'on', canOff: true },
  placed: { label: 'Copies placed', default: 'silent', canOff: true },
  skipped: { label: 'Copies skipped', default: 'silent', canOff: true },
  cancelled: { label: 'Copies cancelled', default: 'silent', canOff: true },
  connectivity: { label: 'Streams down/up', default: 'on', canOff: true },
  errors: { label: 'Errors, rejections, tokens', default: 'on', canOff: false },
  other: { label: 'Summaries and other', default: 'on', canOff: true },
} as const satisfies Record<string, { label: string; default: NotifyMode; canOff: boolean }>;

export type NotifyGroup = keyof typeof NOTIFY_GROUPS;

const KIND_GROUP: Record<string, NotifyGroup | 'approvals'> = {
  approval_request: 'approvals',
  copy_filled: 'fills',
  copy_placed: 'placed',
  copy_skipped: 'skipped',
  copy_cancelled: 'cancelled',
  connectivity: 'connectivity',
  copy_failed: 'errors',
  copy_unknown: 'errors',
  error: 'errors',
  session_expired: 'errors',
  token_nag: 'errors',
  approval_closed: 'errors',
  session_restored: 'errors',
  drift: 'errors',
};

export function groupOfKind(kind: string): NotifyGroup | 'approvals' {
  return KIND_GROUP[kind] ?? 'other';
}

const key = (chatId: number) => `notify:${chatId}`;

export class NotifyPrefs {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  get(chatId: number): Record<NotifyGroup, NotifyMode> {
    const saved = this.store.settings.get<Partial<Record<NotifyGroup, NotifyMode>>>(key(chatId)) ?? {};
    const out = {} as Record<NotifyGroup, NotifyMode>;
    for (const g of Object.keys(NOTIFY_GROUPS) as NotifyGroup[]) out[g] = saved[g] ?? NOTIFY_GROUPS[g].default;
    return out;
  }

  /** Set one group's mode; an error text when the combination is not allowed. */
  set(chatId: number, group: string, mode: string, by: number): string | null {
    if (!(group in NOTIFY_GROUPS)) return `Unknown group “${group}”. Valid: ${Object.keys(NOTIFY_GROUPS).join(', ')}.`;
    if (mode !== 'on' && mode !== 'silent' && mode !== 'off') return `Unknown mode “${mode}”. Valid: on, silent, off.`;
    const g = group as NotifyGroup;
    if (mode === 'off' && !NOTIFY_GROUPS[g].canOff) return `${NOTIFY_GROUPS[g].label} can be silenced but never turned off.`;
    this.store.settings.set(key(chatId), { ...this.get(chatId), [g]: mode }, this.clock.now(), by);
    return null;
  }

  modeFor(chatId: number, kind: string): NotifyMode {
    return this.modesFor(chatId)(kind);
  }

  /** One read of the chat's settings, for deciding many alerts or lines. */
  modesFor(chatId: number): (kind: string) => NotifyMode {
    const prefs = this.get(chatId);
    return (kind) => {
      const g = groupOfKind(kind);
      return g === 'approvals' ? 'on' : prefs[g];
    };
  }
}
