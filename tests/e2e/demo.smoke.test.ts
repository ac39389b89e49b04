/**
 * The first thing a new user runs: `npm start` with no configuration, in an empty directory.
 * It must show a copied order within 15 s — one message per leader order, edited in place as the
 * copy fills — and exit 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('demo (real process, no configuration)', () => {
  it('copies a simulated order onto the terminal chat and exits 0 on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tandem-demo-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: cwd, SIM_INTERVAL_MS: '1000' };
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/main.ts')], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    /** Resolves true when stdout matches, false after `ms`: driven by output events, no polling. */
    const waitForOutput = (re: RegExp, ms: number) =>
      new Promise<boolean>((done) => {
        if (re.test(out)) return done(true);
        const timer = setTimeout(() => {
          child.stdout.off('data', onData);
          done(false);
        }, ms);
        const onData = () => {
          if (!re.test(out)) return;
          clearTimeout(timer);
          child.stdout.off('data', onData);
          done(true);
        };
        child.stdout.on('data', onData);
      });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const copied = await waitForOutput(/demo BUY .* placed · order P/, 15_000);
    // The same message is edited when the copy fills (the terminal shows edits as "edited message N").
    const filled = await waitForOutput(/🤖 tandem \(edited message \d+\)\n  📋 Leader [^\n]* order SIM[0-9A-Z]+[^\n]*\n  ✅ demo filled /, 10_000);
    // The chat on the terminal answers typed commands.
    child.stdin.write('/status\n');
    const answered = await waitForOutput(/Engine: /, 5_000);
    // /pnl: the chart libraries load at the first chart; the terminal says a picture came and its size.
    child.stdin.write('/pnl\n');
    const pictured = await waitForOutput(/🤖 tandem 🖼 picture \(\d+ KB PNG\)\n  P&L/, 10_000);
    child.kill('SIGTERM');
    const code = await exited;
    expect(copied, `stdout:\n${out}\nstderr:\n${err}`).toBe(true);
    expect(filled, `stdout:\n${out}`).toBe(true);
    // One message per leader order: each order's header starts exactly one new message; the rest are edits of it.
    const orders = [...out.matchAll(/🤖 tandem\n  📋 Leader [^\n]* order (SIM[0-9A-Z]+)/g)].map((m) => m[1]);
    expect(orders.length).toBeGreaterThan(0);
    expect(new Set(orders).size).toBe(orders.length);
    expect(out).not.toMatch(/🤖 tandem\n  (✅|⏳) demo/);
    expect(answered).toBe(true);
    expect(out).toContain('Engine: ▶️ RUNNING');
    expect(pictured, `stdout:\n${out}`).toBe(true);
    expect(code).toBe(0);
    expect(existsSync(join(cwd, 'data/tandem.db'))).toBe(true);
  }, 30_000);
});
