/**
 * The real tandem process, started with the Docker image's own command (the Dockerfile's CMD, read
 * from it; run.ts builds dist/ first with `tsc -p tsconfig.build.json`, as the image does), headless: it
 * starts in a scratch directory (so no `.env` of the checkout is read; the environment given is
 * all it sees), stdin is /dev/null (the console chat reads end-of-file and stays idle), its chat
 * output (stdout) is discarded, and its pino JSON log (stderr, in console mode) is read line by
 * line: ready when 'tandem is running' is logged (the last line of start-up, src/app.ts), warn and
 * error lines counted with a few kept.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
/** The Dockerfile's `CMD ["node", …flags, "dist/main.js"]`, without the leading "node". */
export const IMAGE_ARGS = ((): string[] => {
  const cmd = /^CMD (\[.*\])\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  const argv = cmd ? (JSON.parse(cmd) as string[]) : [];
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/main.js') throw new Error(`Dockerfile CMD is not ["node", …, "dist/main.js"]: ${cmd}`);
  return [...argv.slice(1, -1), join(ROOT, 'dist/main.js')];
})();

/** How tandem is started, for the report. */
export const IMAGE_COMMAND = `node ${IMAGE_ARGS.slice(0, -1).join(' ')} dist/main.js`;

/** Extra node flags for tandem (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it), space-separated. */
const EXTRA_NODE_ARGS = (process.env.BENCH_TANDEM_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Extra environment for tandem (e.g. `MALLOC_ARENA_MAX=2`), comma-separated K=V pairs. */
const EXTRA_ENV = Object.fromEntries(
  (process.env.BENCH_TANDEM_ENV ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
);
const READY_MSG = 'tandem is running';
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

export interface TandemProcess {
  pid: number;
  /** performance.now() of the spawn. */
  spawnedAt: number;
  /** performance.now() of its first log line. */
  firstLogAt(): number | null;
  /** Resolves with performance.now() at the ready line; rejects if it exits or times out first. */
  ready: Promise<number>;
  /** Rejects if it exits before stop() is called; never resolves (race a run against it). */
  died: Promise<never>;
  /** Log lines so far (any level). */
  logLines(): number;
  /** Lines at warn or above (pino level ≥ 40), plus any line that is not pino JSON. */
  warnLines(): number;
  /** process.memoryUsage() in MB as tandem logged it when it stopped (rss, heapUsed, heapTotal, external, arrayBuffers). */
  memoryAtStop(): Record<string, number> | null;
  /** SQLite commits from ready to stop (its 'tandem is running' and 'tandem stopped' lines), null if either line lacks them. */
  commitsInRun(): number | null;
  warnSample(): string[];
  /** The last 20 log lines (for error messages). */
  tail(): string;
  /** SIGTERM, then the exit code (null if it died of a signal: SIGKILL after STOP_TIMEOUT_MS). */
  stop(): Promise<number | null>;
}

export function startTandemProcess(env: Record<string, string>, cwd: string): TandemProcess {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...EXTRA_NODE_ARGS, ...IMAGE_ARGS], {
    cwd,
    env: { ...env, ...EXTRA_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('tandem did not start');
  // 'close', not 'exit': its log is read to the end first (the tail in an error message is complete).
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  let stopping = false;
  let firstLogAt: number | null = null;
  let lines = 0;
  let warn = 0;
  let memoryAtStop: Record<string, number> | null = null;
  let commitsAtReady: number | null = null;
  let commitsAtStop: number | null = null;
  const sample: string[] = [];
  const tail: string[] = [];
  let onReady: (at: number) => void = () => {};
  const ready = new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tandem not ready after ${READY_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`)), READY_TIMEOUT_MS);
    onReady = (at) => {
      clearTimeout(timer);
      res(at);
    };
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`tandem exited with ${code} before it was ready:\n${tail.join('\n')}`));
    });
  });
  const died = new Promise<never>((_res, rej) => {
    void exited.then((code) => {
      if (!stopping) rej(new Error(`tandem exited with ${code} during the run:\n${tail.join('\n')}`));
    });
  });
  died.catch(() => {}); // a rejection nobody raced against is not an error
  createInterface({ input: child.stderr! }).on('line', (line) => {
    firstLogAt ??= performance.now();
    lines += 1;
    tail.push(line.slice(0, 500));
    if (tail.length > 20) tail.shift();
    let entry: { level?: number; msg?: string } | null = null;
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      // not pino JSON (a crash, a Node warning): counted as a warning
    }
    const commits = (entry as { sqliteCommits?: unknown } | null)?.sqliteCommits;
    if (entry?.msg === READY_MSG) {
      if (typeof commits === 'number') commitsAtReady = commits;
      onReady(performance.now());
    }
    if (entry?.msg === 'tandem stopped') {
      memoryAtStop = (entry as { memoryMb?: Record<string, number> }).memoryMb ?? null;
      if (typeof commits === 'number') commitsAtStop = commits;
    }
    if (!entry || (entry.level ?? 0) >= 40) {
      warn += 1;
      if (sample.length < 5) sample.push(line.slice(0, 300));
    }
  });
  return {
    pid: child.pid,
    spawnedAt,
    firstLogAt: () => firstLogAt,
    ready,
    died,
    logLines: () => lines,
    warnLines: () => warn,
    memoryAtStop: () => memoryAtStop,
    commitsInRun: () => (commitsAtReady === null || commitsAtStop === null ? null : commitsAtStop - commitsAtReady),
    warnSample: () => [...sample],
    tail: () => tail.join('\n'),
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
