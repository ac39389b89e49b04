/**
 * The composition root as a function: config → store (migrated) → brokers → engine → bot.
 * `main.ts` calls it for the real process; end-to-end tests call it in-process.
 */
import type { Bot } from 'grammy';
import { staticIpNotes, type Config } from './config.js';
import type { Broker } from './brokers/port.js';
import { createFollower, createLeader } from './brokers/factory.js';
import { SIM_UNIVERSE } from './brokers/sim/sim-universe.js';
import { createBot, registerCommands } from './bot/bot.js';
import type { BotContext, Roles } from './bot/auth.js';
import { CONSOLE_BOT_INFO, ConsoleChat } from './bot/console.js';
import { Notifier, type NotifierOptions } from './bot/notifier.js';
import { Control } from './engine/control.js';
import { ReplicationEngine, type EngineDeps } from './engine/engine.js';
import { FollowerRuntime } from './engine/follower.js';
import { InstrumentResolver } from './engine/instruments.js';
import { PositionBook } from './engine/positions.js';
import { LossGuard } from './engine/loss-guard.js';
import { RuntimeSettings } from './engine/runtime-settings.js';
import { systemClock, type Clock } from './infra/clock.js';
import type { Logger } from './infra/logger.js';
import { PriceBoard } from './infra/price-board.js';
import { FramePulse } from './infra/resilient-ws.js';
import { formatAge } from './bot/format.js';
import { Store } from './store/index.js';
import { refreshInstruments } from './jobs/instruments.js';
import { kiteInstrumentSources } from './jobs/instrument-refresh.js';
import { driftJob, squareOffJob, type Scheduler } from './jobs/scheduler.js';
import { UnfilledWatch } from './engine/unfilled-watch.js';
import { DriftWatch } from './engine/drift.js';
import type { SessionManager } from './engine/sessions.js';
import { createMorning, openTokenVault } from './app-sessions.js';
import { jobLines, sessionLines } from './bot/token-alerts.js';
import { InputFile } from 'grammy';
import { sendDayChart } from './bot/chart-daily.js';
import { cronAt } from './jobs/scheduler.js';
import { tradingDayCheck } from './domain/holidays.js';

/** The user id the terminal console speaks as when no admin is configured. */
export const CONSOLE_USER_ID = 1;

export interface AppOptions {
  logger: Logger;
  clock?: Clock;
  /** Console mode only: where typed lines come from and where the chat is printed. */
  consoleInput?: NodeJS.ReadableStream | null;
  consoleOutput?: NodeJS.WritableStream;
  /** Long-polling timeout in seconds (tests use 1 so stop is quick). */
  pollTimeoutSeconds?: number;
  engine?: Pick<EngineDeps, 'reconcileEveryMs' | 'staleAfterMs' | 'bookRetryMs' | 'executor'>;
  /** Deadline for broker REST calls, ms (tests shorten it to exercise unknown outcomes quickly). */
  brokerTimeoutMs?: number;
  /** Progress of an instrument master download (the terminal shows it). */
  instrumentProgress?: (broker: string, rows: number) => void;
  /** Alert delivery tuning (tests shorten the rare retry of an unreachable chat). */
  notifier?: NotifierOptions;
  /** Scheduled jobs: `schedule: false` keeps them manual (tests run them with their own clock); `startupCheck` checks tokens at start. */
  jobs?: { schedule?: boolean; startupCheck?: boolean };
}

export interface App {
  cfg: Config;
  store: Store;
  engine: ReplicationEngine;
  control: Control;
  leader: Broker;
  notifier: Notifier;
  bot: Bot<BotContext>;
  console: ConsoleChat | null;
  /** Broker sessions of the live accounts (/status, /health). */
  sessions: SessionManager;
  /** Scheduled jobs: `jobs.list()` gives name + next run (/health). */
  jobs: Scheduler;
  /** Follower positions against the scaled leader: a check every market minute, /drift, Sync. */
  drift: DriftWatch;
  /** The stale-child rule (FOLLOWER_<ID>_UNFILLED…): a 1 s timer; `tick()` runs one pass by hand. */
  unfilled: UnfilledWatch;
  stop(): Promise<void>;
}

/** /health: how long ago the leader's socket delivered anything (heartbeats included). */
function leaderFrameLine(cfg: Config, pulse: FramePulse | undefined): string[] {
  if (!pulse) return [];
  const age = pulse.ageMs();
  const watch = cfg.leader.broker === 'dhan' && cfg.streamSilentAfterS > 0 ? ` · replaced after ${cfg.streamSilentAfterS} s of silence in market hours` : '';
  return [`Leader socket: last frame ${age === null ? 'none yet' : `${formatAge(age)} ago`}${watch}`];
}

export async function startApp(cfg: Config, o: AppOptions): Promise<App> {
  const log = o.logger;
  const clock = o.clock ?? systemClock;
  const store = Store.open(cfg.databasePath, { backgroundCheckpoint: true, onCheckpointError: (e) => log.error({ err: e.message }, 'WAL checkpoint worker failed; SQLite checkpoints inside commits again') });
  const vault = openTokenVault(cfg, store, clock, log);
  const at = clock.now();
  store.upsertAccount('leader', 'leader', cfg.leader.broker, at);
  for (const f of cfg.followers) store.upsertAccount(f.id, 'follower', f.broker, at);

  const prices = new PriceBoard();
  const settings = new RuntimeSettings(store, clock);
  const positions = new PositionBook();
  const instruments = new InstrumentResolver(store);
  instruments.register('sim', SIM_UNIVERSE);
  const sources = kiteInstrumentSources(cfg, store, (id) => vault.get(id)?.token ?? null, log);
  await refreshInstruments(cfg, store, instruments, clock, log, { sources, ...(o.instrumentProgress ? { progress: o.instrumentProgress } : {}) });

  // The leader socket's last frame, for /health (the silence watchdog works from the same moments).
  const leaderPulse = cfg.leader.broker === 'sim' ? undefined : new FramePulse();
  const brokerDeps = { cfg, logger: log, prices, timeoutMs: o.brokerTimeoutMs ?? cfg.brokerTimeoutMs, clock, ...(leaderPulse ? { leaderPulse } : {}) };
  const leader = createLeader(brokerDeps);
  const followers = cfg.followers.map((f) => new FollowerRuntime(f, createFollower(f, brokerDeps)));

  const consoleMode = !cfg.telegram.botToken;
  const roles: Roles = {
    adminIds: consoleMode && cfg.telegram.adminIds.length === 0 ? [CONSOLE_USER_ID] : cfg.telegram.adminIds,
    viewerIds: cfg.telegram.viewerIds,
  };
  const notifier = new Notifier(store, clock, roles.adminIds, log.child({ module: 'notifier' }), o.notifier);
  const engine = new ReplicationEngine({
    store,
    leader,
    followers,
    instruments,
    prices,
    settings,
    positions,
    clock,
    logger: log,
    events: notifier,
    approval: { thresholdInr: cfg.approval.thresholdInr, lotsAbove: cfg.approval.lotsAbove, timeoutMs: cfg.approval.timeoutSeconds * 1000 },
    reconcileEveryMs: cfg.reconcileEveryMs,
    entryWindow: cfg.entryWindow,
    ...o.engine,
    executor: { lookupDelaysMs: cfg.unknownOutcomeLookupsMs, giveUpMs: cfg.unknownOutcomeGiveUpS * 1000, ...o.engine?.executor },
  });
  // Each follower's daily loss limit: entries stop at −X (the planner asks it), flatten once if set.
  const lossGuard = new LossGuard({
    store,
    positions,
    prices,
    clock,
    log: log.child({ module: 'loss-guard' }),
    events: notifier,
    followers: engine.followers,
    leader,
    leaderBroker: () => engine.leaderBroker,
    rules: (id) => engine.rules.get(id),
    // The kill switch's flatten, scoped to cancel the follower's working entry copies too.
    flatten: (id) => engine.killSwitch.flatten([id], null, { entries: true, why: 'loss limit reached' }),
  });
  engine.lossGuard = lossGuard;
  const control = new Control(cfg, engine, settings, positions, store, clock, prices);
  const { sessions, jobs } = createMorning({ cfg, store, vault, leader, followers, engine, positions, instruments, events: notifier, clock, logger: log, brokerTimeoutMs: brokerDeps.timeoutMs });
  const drift = new DriftWatch({
    store,
    settings,
    followers: engine.followers,
    executor: engine.executor,
    instruments,
    positions,
    prices,
    events: notifier,
    clock,
    logger: log,
    leaderBroker: () => engine.leaderBroker,
    leaderFunds: () => engine.leaderFunds,
    rules: engine.rules,
  });
  jobs.add(driftJob(drift, { clock, marketHolidays: cfg.marketHolidays }));
  if (cfg.squareOffAt) {
    jobs.add(
      squareOffJob({
        squareOff: (ids, cap, why) => engine.killSwitch.squareOffIntraday(ids, cap, why),
        store,
        events: notifier,
        logger: log.child({ module: 'jobs' }),
        at: cfg.squareOffAt,
        halted: () => settings.isHalted(),
        idle: () => engine.idle(),
        marketHolidays: cfg.marketHolidays,
        entriesUntil: cfg.entryWindow.until,
        clock,
      }),
    );
  }
  const unfilled = new UnfilledWatch({ store, followers: engine.followers, executor: engine.executor, instruments, prices, events: notifier, clock, logger: log, leaderBroker: () => engine.leaderBroker, rules: (id) => engine.rules.get(id) });

  const bot = createBot({
    token: cfg.telegram.botToken ?? '0:console',
    apiRoot: consoleMode ? 'http://console.invalid' : cfg.telegram.apiRoot,
    roles,
    deps: { control, store, clock, alertQueueDepth: () => notifier.depth, healthExtras: () => [...leaderFrameLine(cfg, leaderPulse), ...notifier.healthLines(), ...sessionLines(sessions.status()), ...jobLines(jobs.list())], sessions, notifyPrefs: notifier.prefs, drift, rules: { book: engine.rules, lossGuard: () => engine.lossGuard, entryWindow: cfg.entryWindow, squareOffAt: cfg.squareOffAt } },
    logger: log,
    ...(consoleMode ? { botInfo: CONSOLE_BOT_INFO } : {}),
  });
  let chat: ConsoleChat | null = null;
  if (consoleMode) {
    chat = new ConsoleChat(bot, roles.adminIds[0] ?? CONSOLE_USER_ID, o.consoleOutput);
  }
  notifier.attach(
    async (chatId, text, opts) => {
      const m = await bot.api.sendMessage(chatId, text, {
        ...(opts.html ? { parse_mode: 'HTML' as const } : {}),
        disable_notification: opts.silent,
        ...(opts.markup ? { reply_markup: opts.markup as never } : {}),
      });
      return m.message_id;
    },
    async (chatId, messageId, html) => {
      await bot.api.editMessageText(chatId, messageId, html, { parse_mode: 'HTML' });
    },
  );
  // The day summary's picture: today's /pnl chart to the admin chats at the summary's time.
  jobs.add({
    name: 'daily-chart',
    cron: cronAt(cfg.jobs.dailySummaryAt),
    run: () =>
      sendDayChart({
        pnl: (since) => control.pnl(since),
        chatIds: roles.adminIds,
        modeFor: (chatId, kind) => notifier.prefs.modeFor(chatId, kind),
        sendPhoto: async (chatId, png, caption, silent) => {
          await bot.api.sendPhoto(chatId, new InputFile(png, 'pnl-today.png'), { caption, parse_mode: 'HTML', disable_notification: silent });
        },
        clock,
        logger: log.child({ module: 'day-chart' }),
        tradingDay: tradingDayCheck(cfg.marketHolidays),
      }),
  });

  // Before the engine places anything: a set-up the brokers' static-IP rules refuse is said first.
  for (const note of staticIpNotes(cfg)) {
    log.warn(note.text);
    if (note.alert) notifier.emit({ type: 'error', accountId: null, message: `Static IP: ${note.text}.` });
  }
  await engine.start();
  lossGuard.start();
  unfilled.start();
  jobs.start({ schedule: o.jobs?.schedule ?? true });
  if (o.jobs?.startupCheck ?? true) void jobs.run('token-check');

  let polling: Promise<void> | null = null;
  if (consoleMode) {
    if (o.consoleInput !== null) chat?.start(o.consoleInput ?? process.stdin);
  } else {
    await registerCommands(bot, roles, log);
    polling = bot
      .start({ drop_pending_updates: true, allowed_updates: ['message', 'callback_query'], timeout: o.pollTimeoutSeconds ?? 30 })
      .catch((e: unknown) => log.error({ err: (e as Error).message }, 'Telegram polling stopped'));
  }
  log.info({ mode: cfg.mode, demo: cfg.demo, leader: cfg.leader.broker, followers: cfg.followers.map((f) => f.id), chat: consoleMode ? 'console' : 'telegram', sqliteCommits: store.commits }, 'tandem is running');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      chat?.stop();
      await jobs.stop();
      unfilled.stop();
      sessions.stop();
      if (polling) {
        await bot.stop().catch(() => {});
        await polling;
      }
      // Look-ups of unknown outcomes still running stop here; those copies are resolved at the next start.
      await engine.executor.unknown.stop();
      lossGuard.stop();
      await engine.stop();
      await notifier.stop();
      store.close();
      // Where the process's memory sits at the end (JS heap, native buffers, the rest is native: SQLite, malloc), for the bench and for ops.
      const m = process.memoryUsage();
      const mb = (b: number) => Math.round(b / 1048576);
      log.info({ memoryMb: { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) }, sqliteCommits: store.commits }, 'tandem stopped');
    })());

  return { cfg, store, engine, control, leader, notifier, bot, console: chat, sessions, jobs, drift, unfilled, stop };
}
