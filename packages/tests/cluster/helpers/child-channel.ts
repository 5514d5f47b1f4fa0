/**
 * The child's end of the JSON-lines channel that json-child.ts drives: a child process started by
 * a test reads commands on stdin and answers on stdout, one JSON object per line.
 *
 * - stdin: `{ req, cmd, args }`; the child answers `{ re: req, ok: true, value }` or
 *   `{ re: req, ok: false, error }`.
 * - stdout: `{ ready: {...} }` once, when the child is ready; `{ log: {...} }` for each log line.
 * - When stdin ends (the test finished, or died), the child exits: no process outlives its test.
 */
import { createInterface } from 'node:readline';

export type CommandHandler = (args: never) => unknown;

export function tell(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** A wirecall server logger that forwards every line to the parent (the broker's status among them). */
export const channelLogger = {
  error: forward('error'),
  warn: forward('warn'),
  info: forward('info'),
  debug: (): void => {},
};

function forward(level: string) {
  return (details: object, message?: string): void => {
    const err = (details as { err?: unknown }).err;
    tell({ log: { level, message, err: err instanceof Error ? err.message : undefined } });
  };
}

/** Serves the parent's commands with `handlers`, then announces `ready`. */
export function serveCommands(handlers: Record<string, CommandHandler>, ready: object): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const { req, cmd, args } = JSON.parse(line) as { req: number; cmd: string; args?: unknown };
    const handler = handlers[cmd];
    void (async () => {
      try {
        if (handler === undefined) throw new Error(`unknown command ${cmd}`);
        const value = await handler(args as never);
        tell({ re: req, ok: true, value: value ?? null });
      } catch (error) {
        tell({ re: req, ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  process.stdin.on('end', () => process.exit(0));
  tell({ ready });
}
