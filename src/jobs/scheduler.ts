/**
 * Every scheduled job, registered here and nowhere else: node-cron v4, Asia/Kolkata, each named,
 * `noOverlap`. The bodies are plain async functions taking a Clock (tests call them directly);
 * this file only wires them to cron. `list()` gives name + next run for /health.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config.js';
import { holidayCoverage, tradingDayCheck } from '../domain/holidays.js';
import { parseHhmm } from '../domain/time.js';
import type { EngineEvents } from '../engine/events.js';
import type { InstrumentResolver } from '../engine/instruments.js';
import type { SessionManager } from '../engine/sessions.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';
import { runDailySummary } from './daily-summary.js';
import { runInstrumentRefresh } from './instrument-refresh.js';
import { runSquareOff, type SquareOffDeps } from './square-off.js';
import { runNagTick, runTokenCheck, runTokenRenewal, type TokenCheckDeps } from './token-check.js';

export const TIMEZONE = 'Asia/Kolkata';
const WEEKDAYS = '1-5';
export const INSTRUMENTS_AT = '08:30';

/** `HH:MM` → `M H * * <days>`. */
export function cronAt(hhmm: string, days = WEEKDAYS): string {
  const m = parseHhmm(hhmm);
  if (m === null) throw new RangeError(`not a time of day: ${hhmm}`);
  return `${m % 60} ${Math.floor(m / 60)} * * ${days}`;
}

export interface JobDef {
  name: string;
  /** null: run on demand only (`run(name)`), never on a schedule. */
  cron: string | null;
  run: () => Promise<unknown>;
}

export interface JobInfo {
  name: string;
  cron: string | null;
  nextRun: Date | null;
  running: boolean;
}

export interface JobDeps {
  cfg: Config;
  store: Store;
  sessions: SessionManager;
  events: EngineEvents;
  instruments: InstrumentResolver;
  clock: Clock;
  logger: Logger;
}

/** The job table: names, schedules and bodies in one place. */
export function jobDefs(d: JobDeps): JobDef[] {
  const { cfg, clock } = d;
  const log = d.logger.child({ module: 'jobs' });
  // The morning nag, the square-off, the drift watch and the day summary keep to trading days.
  const tradingDay = tradingDayCheck(cfg.marketHolidays);
  const year = new Date(clock.now()).getUTCFullYear();
  for (const y of [year, year + 1]) {
    const c = holidayCoverage(y);
    if (!c.shipped && !cfg.marketHolidays.some((h) => h.startsWith(`${y}-`))) log.warn({ year: y }, `${c.note}; add them with MARKET_HOLIDAYS`);
  }
  const token: TokenCheckDeps = { sessions: d.sessions, events: d.events, logger: log, checkAt: cfg.jobs.tokenCheckAt, nagUntil: cfg.jobs.nagUntil, nag: { lastAt: null }, tradingDay };
  const tokenOf = (id: string) => d.sessions.tokenOf(id);
  return [
    { name: 'token-check', cron: cronAt(cfg.jobs.tokenCheckAt), run: () => runTokenCheck(token, clock) },
    { name: 'token-nag', cron: `*/15 * * * ${WEEKDAYS}`, run: () => runNagTick(token, clock) },
    { name: 'token-renewal', cron: '7 * * * *', run: () => runTokenRenewal(token, clock) },
    { name: 'instruments', cron: cronAt(INSTRUMENTS_AT), run: () => runInstrumentRefresh({ cfg, store: d.store, instruments: d.instruments, logger: log, tokenOf }, clock) },
    { name: 'daily-summary', cron: cronAt(cfg.jobs.dailySummaryAt), run: () => runDailySummary({ store: d.store, events: d.events, followerIds: cfg.followers.map((f) => f.id), tradingDay }, clock) },
    // After a Kite login: the masters that are stale or missing (Kite's needs a session to download).
    { name: 'instruments-after-login', cron: null, run: () => runInstrumentRefresh({ cfg, store: d.store, instruments: d.instruments, logger: log, tokenOf }, clock, { force: false }) },
  ];
}

/**
 * SQUARE_OFF_AT on weekdays (the body skips holidays and a second run the same day). Built after
 * the others: it needs the running engine's kill switch. A SQUARE_OFF_AT later than the entry
 * window's end (or with no COPY_ENTRIES_UNTIL) lets intraday entries be copied after it: said once.
 */
export function squareOffJob(d: Omit<SquareOffDeps, 'tradingDay' | 'last'> & { marketHolidays: string[]; entriesUntil: string | null; clock: Clock }): JobDef {
  const deps: SquareOffDeps = { ...d, tradingDay: tradingDayCheck(d.marketHolidays), last: { day: null } };
  if (d.entriesUntil === null || d.entriesUntil > d.at) {
    d.logger.warn(
      { squareOffAt: d.at, copyEntriesUntil: d.entriesUntil },
      'entries after SQUARE_OFF_AT are still copied (and left to the broker\'s own square-off): set COPY_ENTRIES_UNTIL at or before it to stop them',
    );
  }
  return { name: 'square-off', cron: cronAt(d.at), run: () => runSquareOff(deps, d.clock) };
}

/**
 * The drift watch's minute: every minute 09:00–15:59 on weekdays; the body itself keeps to 09:15–15:30 IST.
 * With `days`, it rests on NSE holidays and MARKET_HOLIDAYS too.
 */
export function driftJob(drift: { tick(): unknown }, days?: { clock: Clock; marketHolidays: string[] }): JobDef {
  const tradingDay = days ? tradingDayCheck(days.marketHolidays) : null;
  return {
    name: 'drift',
    cron: `* 9-15 * * ${WEEKDAYS}`,
    run: async () => {
      if (tradingDay && days && !tradingDay(days.clock.now())) return;
      drift.tick();
    },
  };
}

export class Scheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private stopped = false;

  constructor(
    private readonly defs: JobDef[],
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'jobs' });
  }

  /** Add a job built after the others (it needs the running engine: the drift watch). Before `start`. */
  add(def: JobDef): void {
    if (this.defs.some((d) => d.name === def.name)) throw new Error(`a job named ${def.name} exists already`);
    this.defs.push(def);
  }

  /** Put every job on its cron schedule (`schedule: false` keeps them manual: tests). */
  start(opts: { schedule: boolean } = { schedule: true }): void {
    if (!opts.schedule) return;
    for (const def of this.defs) {
      if (def.cron === null) continue;
      const task = cron.schedule(def.cron, () => this.run(def.name), { name: def.name, timezone: TIMEZONE, noOverlap: true, unref: true });
      task.on('execution:missed', (c) => this.log.warn({ job: def.name, at: c.date }, 'scheduled run missed'));
      task.on('execution:overlap', () => this.log.warn({ job: def.name }, 'previous run still busy; this run skipped'));
      this.tasks.set(def.name, task);
    }
    this.log.info({ jobs: this.list().map((j) => `${j.name}@${j.nextRun?.toISOString() ?? '-'}`) }, 'jobs scheduled');
  }

  /** Name, schedule and next run of every job (next run null when not scheduled). */
  list(): JobInfo[] {
    return this.defs.map((d) => ({ name: d.name, cron: d.cron, nextRun: this.tasks.get(d.name)?.getNextRun() ?? null, running: this.inFlight.has(d.name) }));
  }

  /** Run a job now. A run already in progress is joined, not doubled. Failures are logged, not thrown. */
  run(name: string): Promise<void> {
    const def = this.defs.find((d) => d.name === name);
    if (!def) return Promise.reject(new Error(`no job named ${name}`));
    if (this.stopped) return Promise.resolve();
    const busy = this.inFlight.get(name);
    if (busy) return busy;
    const started = Date.now();
    const p = def
      .run()
      .then(
        () => this.log.debug({ job: name, ms: Date.now() - started }, 'job done'),
        (e: unknown) => this.log.error({ job: name, err: e instanceof Error ? e.message : String(e) }, 'job failed'),
      )
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  /** Resolves when no job is running. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight.values());
  }

  /** Take every job off the schedule and wait (bounded) for runs in progress. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    for (const t of this.tasks.values()) await t.destroy();
    this.tasks.clear();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
    if ((await Promise.race([this.idle(), late])) === 'late') this.log.warn({ jobs: [...this.inFlight.keys()] }, 'jobs still running at shutdown');
    clearTimeout(timer);
  }
}
