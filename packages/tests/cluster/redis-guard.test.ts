import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unusedPort } from '../helpers/chaos-kit.js';
import { inCi, REDIS_URL, requireRedis, START_REDIS, suiteTitle } from './helpers/redis.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs one cluster suite in a vitest of its own, against `redisUrl`, with or without CI set. */
async function runSuite(redisUrl: string, ci: boolean): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  // A clean environment for the inner vitest: none of this run's VITEST_* state, CI only if asked.
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VITEST') && name !== 'CI' && name !== 'NODE_OPTIONS') env[name] = value;
  }
  Object.assign(env, { REDIS_URL: redisUrl, NO_COLOR: '1' }, ci ? { CI: 'true' } : {});
  const vitest = fileURLToPath(new URL('node_modules/vitest/vitest.mjs', `file://${repoRoot}`));
  const child = spawn(
    process.execPath,
    [vitest, 'run', 'packages/tests/cluster/fan-out.test.ts', '--typecheck.enabled=false'],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 40_000, killSignal: 'SIGKILL' },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

describe('the Redis guard of the cluster suites', () => {
  it('answers available when Redis PINGs back', async () => {
    const check = await requireRedis(REDIS_URL, {}).catch(() => undefined);
    // Without a Redis here the positive case cannot be shown; the negative ones below still run.
    if (check === undefined || !check.available) return;
    expect(check).toEqual({ available: true, url: REDIS_URL, reason: '' });
    expect(suiteTitle('suite', check)).toBe('suite');
  });

  it('locally, a missing Redis skips with the reason and the command that starts one', async () => {
    const url = `redis://127.0.0.1:${await unusedPort()}`;
    const check = await requireRedis(url, {});
    expect(check.available).toBe(false);
    expect(check.reason).toContain(url);
    expect(check.reason).toContain(START_REDIS);
    expect(START_REDIS).toBe('redis-server --daemonize yes');
    expect(suiteTitle('suite', check)).toBe(`suite [skipped: ${check.reason}]`);
  });

  it('in CI, a missing Redis is a hard failure that says how to start one', async () => {
    const url = `redis://127.0.0.1:${await unusedPort()}`;
    await expect(requireRedis(url, { CI: 'true' })).rejects.toThrow(
      /not reachable at .*redis-server --daemonize yes.*CI is set/s,
    );
  });

  it('gives up within its timeout on a host that never answers', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): nothing routes there, connects hang until they time out.
    const started = Date.now();
    const check = await requireRedis('redis://192.0.2.1:6379', {}, 300);
    expect(check.available).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reads CI the way CI services set it', () => {
    expect(inCi({ CI: 'true' })).toBe(true);
    expect(inCi({ CI: '1' })).toBe(true);
    expect(inCi({})).toBe(false);
    expect(inCi({ CI: '' })).toBe(false);
    expect(inCi({ CI: 'false' })).toBe(false);
    expect(inCi({ CI: '0' })).toBe(false);
  });

  it(
    'end to end: without Redis a suite is skipped locally and fails in CI, each with a clear message',
    { timeout: 60_000 },
    async () => {
      const url = `redis://127.0.0.1:${await unusedPort()}`;
      const [local, ci] = await Promise.all([runSuite(url, false), runSuite(url, true)]);

      expect(local.code, local.output).toBe(0);
      expect(local.output).toContain(
        `skipping "fan-out across 3 nodes sharing one Redis": Redis is not reachable at ${url}`,
      );
      expect(local.output).toContain(START_REDIS);
      expect(local.output).toMatch(/1 skipped/);

      expect(ci.code, ci.output).not.toBe(0);
      expect(ci.output).toContain(`Redis is not reachable at ${url}`);
      expect(ci.output).toContain(START_REDIS);
      expect(ci.output).toContain('CI is set, so a missing Redis fails the run instead of skipping it');
    },
  );
});
