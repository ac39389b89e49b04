/**
 * One floor run: the floor (floor-child.ts, its own process) against the taped fake Dhan in this
 * process, driven with the same plan (order counts, pace) as the tandem run it is compared with;
 * its CPU read from /proc like tandem's.
 */
import { once } from 'node:events';
import { LEADER_CLIENT, followerClient, startTapedFake } from './fake-tape.js';
import { floorTag, type FloorSetup } from './floor-child.js';
import { forkBench } from './fork.js';
import type { ClientName } from './http-clients.js';
import { probeOf } from './proc.js';
import { drive, type Follower, type Plan, type RunResult, type Workload } from './workload.js';

export async function runFloor(n: number, w: Workload, plan: Plan, client: Exclude<ClientName, 'tandem'>): Promise<RunResult> {
  const { fake, tape } = await startTapedFake();
  const setup: FloorSetup = { apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, leader: { clientId: LEADER_CLIENT, token: fake.addAccount(LEADER_CLIENT) }, followers: [], client };
  const followers: Follower[] = [];
  for (let k = 0; k < n; k += 1) {
    const clientId = followerClient(k);
    const token = fake.addAccount(clientId);
    setup.followers.push({ clientId, token });
    followers.push({ clientId, token, tag: (leaderOrderId) => floorTag(leaderOrderId, k) });
  }
  const child = forkBench('floor-child.ts');
  const exited = once(child, 'exit');
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`the floor said ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`the floor exited with ${code} before it was ready`)));
  });
  try {
    child.send(setup);
    await ready;
    await fake.waitForLogin(LEADER_CLIENT, { ok: true });
    return (await drive(fake, tape, followers, w, plan, probeOf(child.pid!))).result;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await fake.close();
  }
}
