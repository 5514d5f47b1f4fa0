import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisSuite, requireRedis } from '../../packages/tests/cluster/helpers/redis.js';

/**
 * The cluster demo doubles as a smoke test: run src/main.ts the way `npm start` does and check the
 * summary a reader would see, for the events and for the lobby's presence. It needs Redis (REDIS_URL); without one it is skipped locally and fails
 * in CI, like the cluster suites. Runs against the workspace sources (the `@wirecall/source`
 * condition, which main.ts passes on to its nodes), so no build is needed.
 */
const redis = await requireRedis();

async function runCluster(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const main = fileURLToPath(new URL('./src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@wirecall/source', '--import', 'tsx', main], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A hang fails the test instead of stalling the suite.
    timeout: 40_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe.skipIf(!redis.available)(redisSuite('the cluster example', redis), () => {
  it(
    'runs 3 nodes, loses one mid-stream, and the client still gets every event once, in order, and stays present',
    { timeout: 45_000 },
    async () => {
      const { code, stdout, stderr } = await runCluster();
      expect(stderr).toBe('');
      for (const node of ['node-1', 'node-2', 'node-3']) {
        expect(stdout).toMatch(new RegExp(`^\\[${node}\\] listening ws://127\\.0\\.0\\.1:\\d+$`, 'm'));
      }
      const killed = /^\[main\] killing (node-\d) \(SIGKILL\), the node the client is on, mid-stream$/m.exec(
        stdout,
      )?.[1];
      expect(killed).toBeDefined();
      expect(stdout).toMatch(
        new RegExp(`^\\[client\\] lost ${killed} \\(close code 1006\\), reconnecting in \\d+ ms$`, 'm'),
      );
      expect(stdout).toMatch(
        /^\[client\] lobby #\d+ \(emitted by node-\d, emitted while the client was away: replayed from Redis\) via node-\d$/m,
      );
      expect(stdout).toMatch(
        new RegExp(
          `^\\[main\\] summary: 40 events emitted from 3 nodes \\(node-1: \\d+, node-2: \\d+, node-3: \\d+\\); ${killed} killed after event 15$`,
          'm',
        ),
      );
      const summary =
        /^\[main\] the client was on (\S+) -> (\S+) and received 40\/40 events: 0 missing, 0 duplicated, 0 out of order, 0 gaps; (\d+) of them were emitted while it was away and replayed from the history in Redis$/m.exec(
          stdout,
        );
      expect(summary, stdout).not.toBeNull();
      expect(summary![1]).toBe(killed);
      expect(summary![2]).not.toBe(killed);
      expect(Number(summary![3])).toBeGreaterThan(0);
      expect(stdout).toContain('[main] OK: every event arrived exactly once, in order');

      // Presence: alice (the client) and bob, on another node, see each other; bob never sees alice
      // leave while she moves off the killed node, even once her entry there has run out.
      const [, bobNode] =
        /^\[main\] the client is alice, in the lobby from node-\d; bob, a second client, is on (node-\d) only$/m.exec(
          stdout,
        ) ?? [];
      expect(bobNode, stdout).toBeDefined();
      expect([killed, summary![2]]).not.toContain(bobNode);
      const online = [...stdout.matchAll(/^\[bob\] online in lobby: (.*)$/gm)].map((match) => match[1]);
      expect(online).toEqual([
        `alice (on ${killed}), bob (on ${bobNode})`,
        `alice (on ${summary![2]}), bob (on ${bobNode})`,
      ]);
      expect(stdout).toMatch(/^\[alice\] bob is typing…$/m);
      expect(stdout).toMatch(/^\[bob\] alice is typing…$/m);
      expect(stdout).toContain(`[bob] alice is now on ${summary![2]}, still in the lobby: no leave, no join`);
      expect(stdout).toContain(
        `[main] ${bobNode} counts 1 connection for alice: her entry on ${killed} ran out with its lease`,
      );
      expect(stdout).not.toContain('left the lobby');
      expect(stdout).toMatch(
        new RegExp(
          `^\\[main\\] presence: bob saw alice join once and never leave while she moved ${killed} -> ${summary![2]}; typing seen across nodes$`,
          'm',
        ),
      );
      expect(code).toBe(0);
    },
  );
});
