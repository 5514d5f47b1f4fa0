import { afterEach, beforeEach } from 'vitest';

/**
 * A test that prints through console.* is either leaking a warning the library should have
 * reported through its logger, or debugging output left behind: both fail the test (zod's
 * fail-on-console). Tests that expect output pass their own logger.
 */
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
let printed: string[] = [];
const originals = new Map<string, (...args: unknown[]) => void>();

beforeEach(() => {
  printed = [];
  for (const method of methods) {
    originals.set(method, console[method]);
    console[method] = (...args: unknown[]) => {
      printed.push(`console.${method}: ${args.map(String).join(' ')}`);
    };
  }
});

afterEach(() => {
  for (const method of methods) console[method] = originals.get(method)!;
  if (printed.length > 0) throw new Error(`Unexpected console output:\n${printed.join('\n')}`);
});
