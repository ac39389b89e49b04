/**
 * Where tandem's main-thread CPU goes, from a V8 CPU profile (`--cpu-prof`): self time grouped by
 * stage — the module a function lives in (tandem's own folders; a dependency by package name) —
 * with GC, the program (native, outside JS) and idle apart, and the top functions by self time.
 *
 *   BENCH_TANDEM_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --followers 20 --no-market --neighbour-followers 0
 *   npx tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile [per-order divisor]
 *
 * With a divisor (the leader orders of the run), each group is also given per leader order, ms.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The stage a function's file belongs to. */
export function stageOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native, outside JS)';
  if (!url) return `native: ${fn || '(anonymous)'}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dep: ${dep[1]}`;
  const own = /\/(?:dist|src)\/((?:brokers\/[^/]+)|[^/]+)\//.exec(url);
  if (own) return `tandem: ${own[1]}`;
  if (/\/(?:dist|src)\/[^/]+\.js$/.test(url)) return 'tandem: top';
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return 'other';
}

export function summarizeProfile(p: Profile): { totalMs: number; idleMs: number; groups: [string, number][]; top: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i += 1) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const g = stageOf(n.callFrame.url, n.callFrame.functionName);
    if (g === 'idle') {
      idle += ms;
      continue;
    }
    total += ms;
    groups.set(g, (groups.get(g) ?? 0) + ms);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, idleMs: idle, groups: sorted(groups), top: sorted(fns).slice(0, 25) };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [leader orders]');
    process.exit(2);
  }
  const orders = Number(process.argv[3] ?? 0);
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const per = (ms: number) => (orders > 0 ? ` · ${(ms / orders).toFixed(3)} ms/order` : '');
  console.log(`on CPU ${s.totalMs.toFixed(0)} ms (idle ${s.idleMs.toFixed(0)} ms)${per(s.totalMs)}`);
  for (const [g, ms] of s.groups) console.log(`${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${g}${per(ms)}`);
  console.log('\ntop functions by self time');
  for (const [f, ms] of s.top) console.log(`${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%  ${f}`);
}
