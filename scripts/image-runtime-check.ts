/**
 * The Docker image, checked without Docker (issue 13 §3): run by `.ci/run`, or by hand with
 * `node --import tsx scripts/image-runtime-check.ts [--keep] [--dockerfile <path>]`.
 *
 * It reads the Dockerfile and replays it into an empty temp folder, one folder per stage standing
 * for that stage's filesystem root: FROM (a stage inherits its base stage's files, ENV and
 * WORKDIR), WORKDIR, ENV, COPY (from the build context filtered by .dockerignore, or --from a
 * stage), RUN steps it knows how to reproduce, USER, VOLUME, CMD, HEALTHCHECK. Of RUN it runs
 * `npm run …` and `npm prune …` literally (offline), reproduces `npm ci` by copying this
 * checkout's node_modules after checking it is what the lockfile installs (CI has just run
 * `npm ci`; `npm ci --omit=dev` compiles better-sqlite3 from source: 132 s measured), does
 * `mkdir -p`, and skips apt-get. Owners (COPY --chown, chown, USER) are reproduced when this runs
 * as root, as CI does. Any other instruction or RUN step fails the check until it is taught here,
 * so the check cannot silently drift from the Dockerfile.
 *
 * Then, in the last stage's folder and nothing else (no node_modules above it, a clean
 * environment, as the image's USER when this runs as root, VOLUME paths mapped into the folder):
 * - every package that dist/ imports must be in the pruned node_modules, every relative import a
 *   shipped file;
 * - the image's CMD starts in demo mode (no accounts, no bot token), reaches "tandem is running",
 *   copies a demo order (the paper follower's order id shows in the terminal chat and is in the
 *   database), answers /pnl and /status, logs no error;
 * - the image's HEALTHCHECK says healthy while it runs, within its --timeout;
 * - SIGTERM stops it with exit code 0 within STOP_BOUND_MS, and the HEALTHCHECK then says unhealthy.
 * Exit code 0 when all of that held, 1 with the reasons otherwise (the folder is kept to look at).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';

const ROOT = resolve(import.meta.dirname, '..');
const CONTEXT = ROOT;
/** `--dockerfile <path>` replays another Dockerfile against this checkout (to see the check fail on a broken one). */
const dockerfileArg = process.argv.indexOf('--dockerfile');
const DOCKERFILE = dockerfileArg > 0 && process.argv[dockerfileArg + 1] ? resolve(process.argv[dockerfileArg + 1]!) : join(ROOT, 'Dockerfile');
/** Docker's default `docker stop` grace period; compose.yaml allows 30 s, the demo needs far less. */
const STOP_BOUND_MS = 10_000;
const START_BOUND_MS = 60_000;
const COPY_BOUND_MS = 20_000;
const REPLY_BOUND_MS = 10_000;
/** Users of the official node images. */
const KNOWN_USERS: Record<string, { uid: number; gid: number }> = { root: { uid: 0, gid: 0 }, node: { uid: 1000, gid: 1000 } };

const keep = process.argv.includes('--keep');
/** As root (CI containers), --chown, chown and USER are reproduced; otherwise everything runs as this user. */
const AS_ROOT = process.getuid?.() === 0;
const started = Date.now();
const failures: string[] = [];
const notes: string[] = [];
const fail = (why: string) => failures.push(why);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string): void => {
  process.stdout.write(`[image-check ${elapsed()}] ${line}\n`);
};

class CheckError extends Error {}

// ---------------------------------------------------------------------------------------------
// Dockerfile parsing

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let buf = '';
  let startLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    // Comment lines (parser directives included) are dropped, inside a continuation too.
    if (/^\s*#/.test(raw)) continue;
    if (buf === '' && raw.trim() === '') continue;
    if (buf === '') startLine = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += raw;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: startLine });
    buf = '';
  }
  return out;
}

/** Whitespace-separated words, honouring double and single quotes. */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_all, a: string | undefined, dflt: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? dflt ?? '');
}

/** The exec (JSON) form; a shell form would put `sh -c` in front of Node and SIGTERM would not reach it. */
function execForm(args: string, what: string): string[] {
  if (!args.startsWith('[')) throw new CheckError(`${what} is in shell form (${args}): use the exec form ["node", …] so SIGTERM reaches Node`);
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === 'string')) throw new CheckError(`${what} is not a JSON array of strings: ${args}`);
  return parsed as string[];
}

function durationMs(s: string): number {
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return ms;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

interface IgnoreRule {
  re: RegExp;
  negate: boolean;
}

function readDockerignore(): IgnoreRule[] {
  const file = join(CONTEXT, '.dockerignore');
  if (!existsSync(file)) return [];
  const rules: IgnoreRule[] = [];
  for (let line of readFileSync(file, 'utf8').split('\n')) {
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, '')).replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '*' && pattern[i + 1] === '*') {
        re += '.*';
        i++;
        if (pattern[i + 1] === '/') i++;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    rules.push({ re: new RegExp(`^${re}$`), negate });
  }
  return rules;
}

const ignoreRules = readDockerignore();

/** Whether the build context leaves this path (relative, posix) out: a rule on it or on a parent folder, last match wins. */
function ignored(rel: string): boolean {
  const parts = rel.split('/');
  let out = false;
  for (const rule of ignoreRules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        out = !rule.negate;
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stages

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  volumes: string[];
  cmd: string[] | null;
  health: { cmd: string[]; timeoutMs: number } | null;
  /** Paths (inside the stage) given an owner by COPY --chown, applied after the copy when running as root. */
  owned: { path: string; owner: string }[];
}

function inStage(stage: Stage, p: string): string {
  return join(stage.root, posix.resolve(stage.workdir, p));
}

function ownerIds(spec: string): { uid: number; gid: number } {
  const [u, g] = spec.split(':');
  const user = KNOWN_USERS[u!] ?? (/^\d+$/.test(u!) ? { uid: Number(u), gid: Number(u) } : null);
  if (!user) throw new CheckError(`unknown user "${u}" (the check knows ${Object.keys(KNOWN_USERS).join(', ')} and numeric ids)`);
  const group = g === undefined ? user.gid : (KNOWN_USERS[g]?.gid ?? (/^\d+$/.test(g) ? Number(g) : null));
  if (group === null) throw new CheckError(`unknown group "${g}"`);
  return { uid: user.uid, gid: group };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

/** Copy one source (file or folder, Docker semantics: a folder's contents go into dest) into dest; returns what it wrote. */
function copyInto(src: string, dest: string, destIsDir: boolean, filter: (abs: string) => boolean): string {
  if (statSync(src).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true, filter: (s) => filter(s) });
    return dest;
  }
  const target = destIsDir ? join(dest, basename(src)) : dest;
  mkdirSync(dirname(target), { recursive: true });
  cpSync(src, target);
  return target;
}

function runCopy(stage: Stage, args: string, stages: Map<string, Stage>, line: number): void {
  let tokens = words(args);
  const flags: Record<string, string> = {};
  while (tokens[0]?.startsWith('--')) {
    const [k, v] = tokens.shift()!.slice(2).split('=', 2);
    if (!['from', 'chown', 'chmod', 'link'].includes(k!)) throw new CheckError(`line ${line}: COPY --${k} is not reproduced by this check: teach scripts/image-runtime-check.ts`);
    flags[k!] = v ?? '';
  }
  if (tokens[0]?.startsWith('[')) tokens = execForm(tokens.join(' '), `COPY on line ${line}`);
  if (tokens.length < 2) throw new CheckError(`line ${line}: COPY needs a source and a destination: ${args}`);
  const dest = tokens.pop()!;
  const destPath = inStage(stage, substitute(dest, stage.env));
  const destIsDir = dest.endsWith('/') || tokens.length > 1 || (existsSync(destPath) && statSync(destPath).isDirectory());
  const from = flags.from !== undefined ? stages.get(flags.from) : undefined;
  if (flags.from !== undefined && !from) throw new CheckError(`line ${line}: COPY --from=${flags.from}: no such stage (images are not reproduced)`);
  for (const s of tokens) {
    if (/[*?[]/.test(s)) throw new CheckError(`line ${line}: COPY source with a wildcard (${s}) is not reproduced by this check: teach scripts/image-runtime-check.ts`);
    let src: string;
    let filter: (abs: string) => boolean = () => true;
    if (from) {
      src = inStage(from, s);
    } else {
      const rel = posix.normalize(s).replace(/^\/+|\/+$/g, '') || '.';
      if (rel.startsWith('..')) throw new CheckError(`line ${line}: COPY ${s} is outside the build context`);
      if (rel !== '.' && ignored(rel)) throw new CheckError(`line ${line}: COPY ${s}: not in the build context (.dockerignore leaves it out), so docker build fails`);
      src = join(CONTEXT, rel);
      filter = (abs) => {
        const r = relative(CONTEXT, abs).split(sep).join('/');
        return r === '' || !ignored(r);
      };
    }
    if (!existsSync(src)) throw new CheckError(`line ${line}: COPY ${from ? `--from=${flags.from} ` : ''}${s}: not found${from ? ` in stage ${from.name}` : ' in the build context'}, so docker build fails`);
    const written = copyInto(src, destPath, destIsDir, filter);
    if (flags.chown) stage.owned.push({ path: written, owner: flags.chown });
  }
}

/** `npm ci` is reproduced by this checkout's node_modules, provided it is what the lockfile installs. */
function installFromLockfile(cwd: string): void {
  const lock = join(cwd, 'package-lock.json');
  if (!existsSync(lock)) throw new CheckError('RUN npm ci: no package-lock.json in the stage (COPY it first)');
  if (readFileSync(lock, 'utf8') !== readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) throw new CheckError("RUN npm ci: the stage's package-lock.json differs from this checkout's");
  const hidden = join(ROOT, 'node_modules/.package-lock.json');
  if (!existsSync(hidden)) throw new CheckError('RUN npm ci: this checkout has no node_modules from npm (run npm ci first)');
  const want = (JSON.parse(readFileSync(lock, 'utf8')) as { packages: Record<string, { version?: string; optional?: boolean }> }).packages;
  const have = (JSON.parse(readFileSync(hidden, 'utf8')) as { packages: Record<string, { version?: string }> }).packages;
  const extra = Object.keys(have).filter((k) => !want[k] || want[k].version !== have[k]!.version);
  const missing = Object.keys(want).filter((k) => k !== '' && !want[k]!.optional && !have[k]);
  if (extra.length || missing.length) {
    throw new CheckError(`RUN npm ci: this checkout's node_modules is not what package-lock.json installs (${[...extra.slice(0, 3).map((k) => `extra or other version: ${k}`), ...missing.slice(0, 3).map((k) => `missing: ${k}`)].join('; ')}): run npm ci first`);
  }
  cpSync(join(ROOT, 'node_modules'), join(cwd, 'node_modules'), { recursive: true, verbatimSymlinks: true });
}

function runStep(stage: Stage, step: string, line: number): void {
  const cwd = inStage(stage, '.');
  mkdirSync(cwd, { recursive: true });
  if (/^apt-get\b/.test(step) || /^rm -rf \/var\/lib\/apt\/lists\/?\*?$/.test(step)) return void notes.push(`line ${line}: skipped \`${step.slice(0, 60)}\` (system packages)`);
  const chown = /^chown (-R )?(\S+) ((?:\S+\s*)+)$/.exec(step);
  if (chown) {
    if (!AS_ROOT) return void notes.push(`line ${line}: skipped \`${step}\` (not root)`);
    const { uid, gid } = ownerIds(chown[2]!);
    for (const p of words(chown[3]!)) (chown[1] ? chownTree : chownSync)(inStage(stage, p), uid, gid);
    return;
  }
  if (/^npm ci\b/.test(step)) {
    const t = Date.now();
    installFromLockfile(cwd);
    return say(`RUN ${step}: copied this checkout's node_modules (matches package-lock.json) in ${Date.now() - t} ms`);
  }
  const mkdir = /^mkdir -p ((?:\S+\s*)+)$/.exec(step);
  if (mkdir) {
    for (const p of words(mkdir[1]!)) mkdirSync(inStage(stage, p), { recursive: true });
    return;
  }
  if (/^npm (run [\w:-]+|prune)\b[^;&|`$<>]*$/.test(step)) {
    const t = Date.now();
    // Offline: these steps need no registry; a step that tried would fail here rather than reach out.
    const r = spawnSync(step, {
      cwd,
      shell: '/bin/sh',
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: inStage(stage, '/root'), ...stage.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
    if (r.status !== 0) throw new CheckError(`line ${line}: RUN ${step} failed (exit ${r.status}):\n${(r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n')}`);
    return say(`RUN ${step}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  throw new CheckError(`line ${line}: RUN step \`${step}\` is not reproduced by this check: teach scripts/image-runtime-check.ts how (or why to skip it)`);
}

function buildStages(work: string): Stage {
  const text = readFileSync(DOCKERFILE, 'utf8');
  const args: Record<string, string> = {};
  const stages = new Map<string, Stage>();
  let stage: Stage | null = null;
  let n = 0;
  for (const ins of parseDockerfile(text)) {
    const vars = { ...args, ...(stage?.env ?? {}) };
    switch (ins.keyword) {
      case 'ARG': {
        const [k, v] = ins.args.split('=', 2);
        if (!(k! in args)) args[k!.trim()] = v?.trim() ?? '';
        break;
      }
      case 'FROM': {
        const [image, as, name] = words(substitute(ins.args.replace(/--platform=\S+\s*/, ''), args));
        const base = stages.get(image!);
        const stageName = as?.toUpperCase() === 'AS' && name ? name : String(n);
        n++;
        const root = join(work, 'stages', stageName);
        mkdirSync(root, { recursive: true });
        if (base) cpSync(base.root, root, { recursive: true, verbatimSymlinks: true });
        stage = base
          ? { ...base, name: stageName, root, env: { ...base.env }, volumes: [...base.volumes], owned: [...base.owned] }
          : { name: stageName, root, workdir: '/', env: {}, user: 'root', volumes: [], cmd: null, health: null, owned: [] };
        stages.set(stageName, stage);
        break;
      }
      default: {
        if (!stage) throw new CheckError(`line ${ins.line}: ${ins.keyword} before FROM`);
        const s: Stage = stage;
        switch (ins.keyword) {
          case 'WORKDIR':
            s.workdir = posix.resolve(s.workdir, substitute(ins.args, vars));
            mkdirSync(inStage(s, '.'), { recursive: true });
            break;
          case 'ENV': {
            const w = words(ins.args);
            if (w.length && !w[0]!.includes('=')) s.env[w[0]!] = substitute(w.slice(1).join(' '), vars);
            else for (const kv of w) s.env[kv.slice(0, kv.indexOf('='))] = substitute(kv.slice(kv.indexOf('=') + 1), vars);
            break;
          }
          case 'COPY':
            runCopy(s, ins.args, stages, ins.line);
            break;
          case 'ADD':
            throw new CheckError(`line ${ins.line}: ADD is not reproduced by this check (use COPY)`);
          case 'RUN': {
            if (ins.args.startsWith('--') || ins.args.startsWith('[')) throw new CheckError(`line ${ins.line}: RUN flags or exec form are not reproduced by this check: ${ins.args}`);
            for (const step of ins.args.split(/\s*&&\s*/)) runStep(s, step.trim(), ins.line);
            break;
          }
          case 'USER':
            ownerIds(ins.args);
            s.user = ins.args;
            break;
          case 'VOLUME':
            s.volumes.push(...(ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : words(ins.args)));
            break;
          case 'CMD':
            s.cmd = execForm(ins.args, `CMD on line ${ins.line}`);
            break;
          case 'HEALTHCHECK': {
            const m = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(.*)$/s.exec(ins.args);
            if (!m) throw new CheckError(`line ${ins.line}: HEALTHCHECK is not \`[--options] CMD [...]\`: ${ins.args}`);
            const timeout = /--timeout=(\S+)/.exec(m[1]!);
            s.health = { cmd: execForm(m[2]!, `HEALTHCHECK on line ${ins.line}`), timeoutMs: timeout ? durationMs(timeout[1]!) : 30_000 };
            break;
          }
          case 'ENTRYPOINT':
            throw new CheckError(`line ${ins.line}: ENTRYPOINT is not reproduced by this check`);
          case 'EXPOSE':
          case 'LABEL':
          case 'STOPSIGNAL':
          case 'SHELL':
            notes.push(`line ${ins.line}: ${ins.keyword} noted, nothing to reproduce`);
            break;
          default:
            throw new CheckError(`line ${ins.line}: ${ins.keyword} is not reproduced by this check`);
        }
      }
    }
  }
  if (!stage) throw new CheckError('the Dockerfile has no FROM');
  return stage;
}

// ---------------------------------------------------------------------------------------------
// The runtime stage, statically: what dist/ imports is shipped

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function checkImports(app: string): number {
  const dist = join(app, 'dist');
  if (!existsSync(dist)) {
    fail('the runtime stage has no dist/');
    return 0;
  }
  const builtins = new Set(builtinModules);
  let count = 0;
  const re = /\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*\(\s*(['"])([^'"\n]+)\3\s*\)|\bimport\s*(['"])([^'"\n]+)\5|\brequire(?:\.resolve)?\s*\(\s*(['"])([^'"\n]+)\7\s*\)/g;
  for (const file of filesUnder(dist).filter((f) => /\.(m|c)?js$/.test(f))) {
    for (const m of readFileSync(file, 'utf8').matchAll(re)) {
      const spec = m[2] ?? m[4] ?? m[6] ?? m[8]!;
      count++;
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        if (!existsSync(resolve(dirname(file), spec))) fail(`${relative(app, file)} imports ${spec}: not shipped in the image`);
        continue;
      }
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!existsSync(join(app, 'node_modules', pkg, 'package.json'))) fail(`${relative(app, file)} imports ${spec}: package ${pkg} is not in the image's node_modules (a devDependency?)`);
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// The runtime stage, running

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** "exited with code N after T ms" once it has, else null. */
  gone(): string | null;
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, ms: number): Promise<RegExpExecArray | null>;
}

function start(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, ids: { uid: number; gid: number } | null): Running {
  if (cmd[0] !== 'node') throw new CheckError(`the command does not start with node: ${JSON.stringify(cmd)}`);
  const child = spawn(process.execPath, cmd.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], ...(ids ? { uid: ids.uid, gid: ids.gid } : {}) });
  const buf = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (buf.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (buf.stderr += d.toString()));
  const t0 = Date.now();
  let gone: string | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => {
      gone = `exited with ${code === null ? `signal ${signal}` : `code ${code}`} after ${Date.now() - t0} ms`;
      r({ code, signal });
    }),
  );
  return {
    child,
    out: () => buf.stdout,
    err: () => buf.stderr,
    exited,
    gone: () => gone,
    // Driven by output events (and the exit), never by polling.
    waitFor: (stream, re, ms) =>
      new Promise((done) => {
        const s = child[stream]!;
        let timer: NodeJS.Timeout | undefined;
        const finish = (m: RegExpExecArray | null) => {
          clearTimeout(timer);
          s.off('data', onData);
          done(m);
        };
        const onData = () => {
          const m = re.exec(buf[stream]);
          if (m) finish(m);
        };
        const first = re.exec(buf[stream]);
        if (first) return done(first);
        timer = setTimeout(() => finish(null), ms);
        s.on('data', onData);
        void exited.then(() => finish(re.exec(buf[stream])));
      }),
  };
}

async function runHealth(stage: Stage, cwd: string, env: NodeJS.ProcessEnv, ids: { uid: number; gid: number } | null): Promise<{ code: number | null; line: string; ms: number }> {
  const t = Date.now();
  const h = start(stage.health!.cmd, cwd, env, ids);
  h.child.stdin!.end();
  const timer = setTimeout(() => h.child.kill('SIGKILL'), stage.health!.timeoutMs);
  const { code } = await h.exited;
  clearTimeout(timer);
  const ms = Date.now() - t;
  if (ms >= stage.health!.timeoutMs) fail(`HEALTHCHECK took longer than its --timeout (${stage.health!.timeoutMs} ms) and was killed`);
  const text = (h.out() + h.err()).trim();
  if (text.split('\n').length !== 1) fail(`HEALTHCHECK printed ${text.split('\n').length} lines, not one:\n${text}`);
  return { code, line: text, ms };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tandem-image-'));
  chmodSync(work, 0o755);
  let running: Running | null = null;
  try {
    say(`replaying ${relative(ROOT, DOCKERFILE)} into ${work}`);
    const image = buildStages(work);
    const app = inStage(image, '.');
    say(`runtime stage "${image.name}": ${readdirSync(app).sort().join(', ')} in ${image.workdir}`);
    for (let d = dirname(image.root); d !== dirname(d); d = dirname(d)) {
      if (existsSync(join(d, 'node_modules'))) throw new CheckError(`${join(d, 'node_modules')} exists above the runtime folder: Node would resolve packages from it that the image does not have`);
    }
    const imports = checkImports(app);
    say(`dist/ imports checked: ${imports} import sites`);
    if (!image.cmd) throw new CheckError('the runtime stage has no CMD');
    if (!image.health) fail('the runtime stage has no HEALTHCHECK');

    // Ownership and user, as in the image, when this runs as root (CI containers do).
    const ids = AS_ROOT ? ownerIds(image.user) : null;
    if (AS_ROOT) {
      for (const o of image.owned) chownTree(o.path, ownerIds(o.owner).uid, ownerIds(o.owner).gid);
    } else {
      notes.push(`not root: the process runs as this user, not as the image's USER ${image.user}`);
    }
    // VOLUME folders map into the stage's folder (a new named volume starts as the image's folder: same owner).
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(image.root, 'home'), SIM_INTERVAL_MS: '1000' };
    mkdirSync(env.HOME!, { recursive: true });
    if (ids) chownSync(env.HOME!, ids.uid, ids.gid);
    for (const v of image.volumes) mkdirSync(join(image.root, v), { recursive: true });
    for (const [k, v] of Object.entries(image.env)) {
      const vol = image.volumes.find((vp) => v === vp || v.startsWith(`${vp.replace(/\/$/, '')}/`));
      env[k] = vol ? join(image.root, v) : v;
    }
    if (!env.DATABASE_PATH || !image.volumes.some((v) => image.env.DATABASE_PATH?.startsWith(`${v.replace(/\/$/, '')}/`))) fail(`the image's DATABASE_PATH (${image.env.DATABASE_PATH ?? 'unset'}) is not on a VOLUME: the database would be lost with the container`);
    if (image.env.NODE_ENV !== 'production') fail(`the image's NODE_ENV is ${image.env.NODE_ENV ?? 'unset'}, not production`);

    // Demo mode: no accounts, no bot token — nothing else in the environment.
    say(`starting ${JSON.stringify(image.cmd)} as ${ids ? image.user : 'this user'} (NODE_ENV=${env.NODE_ENV}, DATABASE_PATH=${env.DATABASE_PATH})`);
    const t0 = Date.now();
    running = start(image.cmd, app, env, ids);
    const r = running;
    if (!(await r.waitFor('stderr', /"msg":"tandem is running"/, START_BOUND_MS))) throw new CheckError(`no "tandem is running": ${r.gone() ?? `not within ${START_BOUND_MS / 1000} s`}`);
    say(`"tandem is running" after ${Date.now() - t0} ms`);
    const copied = await r.waitFor('stdout', /\b(PDEMO[A-Z0-9]*\d{4})\b/, COPY_BOUND_MS);
    if (!copied) throw new CheckError(`no demo order copied (no paper follower order id in the chat): ${r.gone() ?? `not within ${COPY_BOUND_MS / 1000} s`}`);
    say(`demo order copied: follower order ${copied[1]} after ${Date.now() - t0} ms`);
    // Commands through the terminal chat: /pnl renders the chart (its libraries and files must ship), /status answers.
    r.child.stdin!.write('/pnl\n/status\n');
    if (!(await r.waitFor('stdout', /Engine: /, REPLY_BOUND_MS))) fail(`/status got no answer: ${r.gone() ?? `not within ${REPLY_BOUND_MS / 1000} s`}`);
    // The chart libraries load at the first chart (not at start-up): the picture must come.
    const picture = await r.waitFor('stdout', /🖼 picture \((\d+) KB PNG\)/, REPLY_BOUND_MS);
    if (!picture) fail(`/pnl sent no chart: ${r.gone() ?? `not within ${REPLY_BOUND_MS / 1000} s`}`);
    else say(`/pnl chart rendered: ${picture[1]} KB PNG`);

    if (image.health) {
      const h = await runHealth(image, app, env, ids);
      say(`HEALTHCHECK while running: exit ${h.code} in ${h.ms} ms: ${h.line}`);
      if (h.code !== 0 || !/^healthy/.test(h.line)) fail(`HEALTHCHECK while running: exit ${h.code}, "${h.line}" (expected exit 0, healthy)`);
    }

    const t1 = Date.now();
    r.child.kill('SIGTERM');
    const stopTimer = setTimeout(() => r.child.kill('SIGKILL'), STOP_BOUND_MS);
    const exit = await r.exited;
    clearTimeout(stopTimer);
    running = null;
    const stopMs = Date.now() - t1;
    say(`SIGTERM: exit ${exit.code ?? exit.signal} after ${stopMs} ms`);
    if (exit.code !== 0) fail(`SIGTERM: ${exit.code === null ? `killed by ${exit.signal} after ${STOP_BOUND_MS} ms` : `exit code ${exit.code}`}, expected 0 within ${STOP_BOUND_MS} ms`);

    if (image.health) {
      const h = await runHealth(image, app, env, ids);
      say(`HEALTHCHECK after the stop: exit ${h.code}: ${h.line}`);
      if (h.code !== 1) fail(`HEALTHCHECK after the stop: exit ${h.code}, "${h.line}" (expected exit 1, unhealthy)`);
    }

    // The copy is in the database the image wrote (migrations shipped and applied).
    const db = new Database(env.DATABASE_PATH!, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('select follower_id, state from copies where follower_order_id = ?').get(copied[1]) as { follower_id: string; state: string } | undefined;
      if (!row) fail(`follower order ${copied[1]} is not in the copies table`);
      else say(`database: copy ${copied[1]} for ${row.follower_id}, state ${row.state}`);
    } finally {
      db.close();
    }

    // Errors in the log (a file or package missing on a path the demo took shows here).
    const logLines = r.err().split('\n').filter(Boolean);
    for (const l of logLines) {
      let rec: { level?: number; msg?: string } | null = null;
      try {
        rec = JSON.parse(l) as { level?: number; msg?: string };
      } catch {
        notes.push(`stderr, not a log line: ${l.slice(0, 200)}`);
      }
      if (rec && (rec.level ?? 0) >= 50) fail(`error logged: ${l.slice(0, 500)}`);
    }
    say(`${logLines.length} log lines, ${r.out().split('\n').length} chat lines`);
  } catch (e) {
    if (!(e instanceof CheckError)) throw e;
    fail(e.message);
    if (running) fail(`process output so far:\n--- stdout\n${running.out().slice(-3000)}\n--- stderr\n${running.err().slice(-3000)}`);
  } finally {
    if (running) running.child.kill('SIGKILL');
    for (const n of notes) say(`note: ${n}`);
    if (failures.length === 0 && !keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`the replayed image is kept in ${work}\n`);
  }
  if (failures.length) {
    for (const f of failures) process.stderr.write(`image check FAILED: ${f}\n`);
    process.exitCode = 1;
  } else {
    say('image check passed');
  }
}

await main();
