/**
 * Entry point: `npm start`. Reads `.env` and the environment, stops with one clear line on a bad
 * value, then runs the engine and the bot until SIGINT/SIGTERM.
 */
import { ConfigError, configSecrets, loadEnv, parseConfig } from './config.js';
import { createLogger, scrubber } from './infra/logger.js';
import { startApp } from './app.js';

async function main(): Promise<void> {
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
  const consoleMode = !cfg.telegram.botToken;
  // In console mode the chat owns stdout; logs go to stderr.
  const logger = createLogger({ level: cfg.logLevel, destination: consoleMode ? process.stderr : process.stdout, pretty: Boolean((consoleMode ? process.stderr : process.stdout).isTTY) });
  if (cfg.demo) {
    process.stdout.write(
      '\ntandem demo — a simulated leader trades every few seconds and the paper follower "demo" copies it.\nNothing is sent to any broker. Configure real accounts in .env (see README).\n',
    );
  }
  // Signals are handled from the start: one arriving during start-up stops tandem as soon as the
  // start-up finishes (an engine half-started is not left to the default action).
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  let stopRequested = false;
  let signals = 0;
  // Stay up until a signal, even with stdin closed and every timer unref'd.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = () => {
    clearInterval(keepAlive);
    app?.stop().then(
      () => process.exit(0),
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
  if (stopRequested) stop();
  process.on('unhandledRejection', (e) => logger.error({ err: e }, 'unhandled rejection'));
}

void main();
