import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * The quickstart doubles as a smoke test: run src/main.ts the way `npm start` does and check what a
 * reader of the README would see. Runs against the workspace sources (the `@wirecall/source`
 * condition, inherited by main.ts's children through NODE_OPTIONS), so no build is needed.
 */
async function runQuickstart(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const main = fileURLToPath(new URL('./src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: '--conditions=@wirecall/source', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A hang fails the test instead of stalling the suite.
    timeout: 25_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

it('runs the quickstart end to end and exits 0 by itself', { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await runQuickstart();
  expect(stderr).toBe('');
  expect(stdout).toMatch(/^\[server\] listening ws:\/\/127\.0\.0\.1:\d+$/m);
  expect(stdout).toContain('[client] add(1, 2) = 3');
  expect(stdout).toContain('[client] add in parallel = 20, 40, 60');
  expect(stdout).toContain('[client] getUser(u1) = Ada, created 2024-01-15T09:30:00.000Z (a Date: true)');
  expect(stdout).toContain('[client] error NOT_FOUND: no user with id nobody');
  const ticks = stdout.match(/^\[client\] tick \d+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(event \S+\)$/gm);
  expect(ticks).toHaveLength(5);
  expect(stdout).toMatch(/^\[client\] chat \[a\] tick \d+ says hi at /m);
  expect(stdout).toContain('[server] closed');
  expect(stdout).toContain('[main] client exited with 0, server with 0');
  expect(code).toBe(0);
});
