/**
 * Entry point: `npm start`. Reads `.env` and the environment, stops with one clear line on a bad
 * value, then runs the engine and the bot until SIGINT/SIGTERM.
 *
 * An error nothing caught (an uncaught exception or an unhandled rejection, at any point, start-up
 * included) is fatal: it is logged, the admins are told (best effort, a few seconds at most), tandem
 * stops as it would on SIGTERM (bounded), and the process exits with code 70 so that its supervisor
 * (Docker's restart policy, systemd's Restart=always) starts a clean one. Copies in flight are
 * settled by the next start from the brokers' order books, by tag, never sent twice.
 */
import type { App } from './app.js';
import type { Logger } from './infra/logger.js';

/** Exit code after a fatal error (EX_SOFTWARE): the supervisor restarts the process. */
const EXIT_CRASH = 70;
/** The whole fatal-error path — alert, graceful stop — is cut off after this long. */
const CRASH_STOP_MS = 10_000;
/** Of which the alert gets at most this long before the stop begins (it stays in the outbox if it could not go). */
const CRASH_ALERT_MS = 3_000;

const fatal: { logger: Logger | null; app: App | null; scrub: (s: string) => string; crashing: boolean } = { logger: null, app: null, scrub: (s) => s, crashing: false };
process.on('uncaughtException', (err) => void crash('uncaught exception', err));
process.on('unhandledRejection', (reason) => void crash('unhandled rejection', reason));

async function crash(kind: string, err: unknown): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  const log = fatal.logger;
  if (log) log.fatal({ err, kind }, 'fatal error: tandem stops and exits for a restart');
  else process.stderr.write(`tandem: fatal ${kind}: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
  // A second failure while stopping is logged above; the first stop goes on, bounded by its timer.
  if (fatal.crashing) return;
  fatal.crashing = true;
  // Not unref'd: the process stays up until this fires or the stop below ends, and never exits 0.
  setTimeout(() => process.exit(EXIT_CRASH), CRASH_STOP_MS);
  const app = fatal.app;
  if (app) {
    try {
      app.notifier.emit({
        type: 'error',
        accountId: null,
        message: `tandem stopped on an unexpected error (${kind}: ${fatal.scrub(message).slice(0, 300)}). It restarts; copies in flight are settled from the brokers' order books, never sent twice.`,
      });
      await Promise.race([app.notifier.drained(), new Promise((r) => setTimeout(r, CRASH_ALERT_MS))]);
      await app.stop();
    } catch (e) {
      log?.error({ err: e }, 'the stop after a fatal error failed');
    }
  }
  log?.flush();
  process.exit(EXIT_CRASH);
}

async function main(): Promise<void> {
  // `--health`: the container's HEALTHCHECK, one line and exit 0/1 (src/health.ts); nothing else starts.
  const { healthMain, startHeartbeat } = await import('./health.js');
  if (process.argv[2] === '--health') return healthMain();
  const { ConfigError, configSecrets, loadEnv, parseConfig } = await import('./config.js');
  const { createLogger, scrubber } = await import('./infra/logger.js');
  const { startApp } = await import('./app.js');
  let cfg;
  try {
    cfg = parseConfig(loadEnv(process.cwd()));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tandem: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  scrubber.add(...configSecrets(cfg));
  fatal.scrub = (t) => scrubber.scrub(t);
  const consoleMode = !cfg.telegram.botToken;
  // In console mode the chat owns stdout; logs go to stderr.
  const logger = createLogger({ level: cfg.logLevel, destination: consoleMode ? process.stderr : process.stdout, pretty: Boolean((consoleMode ? process.stderr : process.stdout).isTTY) });
  fatal.logger = logger;
  if (cfg.demo) {
    process.stdout.write(
      '\ntandem demo — a simulated leader trades every few seconds and the paper follower "demo" copies it.\nNothing is sent to any broker. Configure real accounts in .env (see README).\n',
    );
  }
  // Signals are handled from the start: one arriving during start-up stops tandem as soon as the
  // start-up finishes (an engine half-started is not left to the default action).
  let app: App | undefined;
  let stopRequested = false;
  let signals = 0;
  // Stay up until a signal, even with stdin closed and every timer unref'd.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    app?.stop().then(
      // A signal during a fatal error's stop does not turn the crash into a clean exit.
      () => process.exit(fatal.crashing ? EXIT_CRASH : 0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const shutdown = (sig: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal: sig }, 'shutting down');
    stopRequested = true;
    if (app) stop();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const tty = process.stderr.isTTY;
  try {
    app = await startApp(cfg, {
      logger,
      // A progress line on a terminal while an instrument master downloads (tens of MB).
      ...(tty ? { instrumentProgress: (broker: string, rows: number) => process.stderr.write(`\r  loading ${broker} instruments: ${rows.toLocaleString('en-IN')} rows`) } : {}),
    });
  } catch (e) {
    clearInterval(keepAlive);
    // A wrong TOKEN_ENCRYPTION_KEY (stored tokens do not open) is found at start-up, not in parseConfig.
    if (e instanceof ConfigError) {
      process.stderr.write(`tandem: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  fatal.app = app;
  startHeartbeat(app, logger);
  if (process.env.TANDEM_TEST_THROW_AFTER_PLACE === '1') crashAfterFirstPlacement(app);
  if (stopRequested) stop();
}

/**
 * TEST ONLY (tests/chaos/crash-restart.test.ts sets TANDEM_TEST_THROW_AFTER_PLACE=1): an uncaught
 * exception right after the first follower order is placed, to prove a crash mid-copy restarts clean.
 */
function crashAfterFirstPlacement(app: App): void {
  const n = app.notifier;
  const emit = n.emit.bind(n);
  let thrown = false;
  n.emit = (e) => {
    emit(e);
    if (e.type !== 'copy_placed' || thrown) return;
    thrown = true;
    setImmediate(() => {
      throw new Error('TANDEM_TEST_THROW_AFTER_PLACE: injected crash after a placement');
    });
  };
}

void main();
