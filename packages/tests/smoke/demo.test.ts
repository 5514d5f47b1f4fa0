import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The README's first promise: `npm run demo` (here its script, after the build `npm test` already
 * ran) shows the terminal quickstart, serves the browser chat, and ends by itself without a terminal.
 */
describe('npm run demo', () => {
  it('runs the quickstart, serves the chat page, and stops by itself', async () => {
    const child = spawn(process.execPath, ['scripts/demo.mjs'], {
      cwd: root,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      // A hang must end the test with the output so far, not a bare timeout.
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(output, output).toContain('add(1, 2) = 3');
    expect(output).toMatch(/error NOT_FOUND/);
    expect(output).toMatch(/\[demo\] browser chat: open http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('the chat page answers 200');
    expect(code, output).toBe(0);
  }, 120_000);
});
