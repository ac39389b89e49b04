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
  const tty = process.stderr.isTTY;
  let app;
  try {
    app = await startApp(cfg, {
      logger,
      // A progress line on a terminal while an instrument master downloads (tens of MB).
      ...(tty ? { instrumentProgress: (broker: string, rows: number) => process.stderr.write(`\r  loading ${broker} instruments: ${rows.toLocaleString('en-IN')} rows`) } : {}),
    });
  } catch (e) {
    // A wrong TOKEN_ENCRYPTION_KEY (stored tokens do not open) is found at start-up, not in parseConfig.
    if (e instanceof ConfigError) {
      process.stderr.write(`tandem: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // Stay up until a signal, even with stdin closed and every timer unref'd.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let signals = 0;
  const shutdown = (sig: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal: sig }, 'shutting down');
    clearInterval(keepAlive);
    app.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('unhandledRejection', (e) => logger.error({ err: e }, 'unhandled rejection'));
}

void main();
