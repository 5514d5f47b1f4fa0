import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServerMainConfig } from './server-main.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverMainPath = fileURLToPath(new URL('server-main.ts', import.meta.url));

export interface ServerProcessOptions extends ServerMainConfig {
  /** How long the child may take to print its ready line. @default 20_000 */
  readyTimeoutMs?: number;
}

/** One `tick` the child emitted: its event id and the seq in its payload. */
export interface EmittedTick {
  id: string;
  seq: number;
}

/** A wirecall server (testApi, test-handlers.ts) running in a child process; see server-main.ts. */
export interface ServerProcess extends AsyncDisposable {
  readonly pid: number;
  readonly port: number;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every tick emitted so far, in emission order. */
  readonly ticks: readonly EmittedTick[];
  /** Counted handler runs (`getUser:<id>`, `sleep:<tag>`) reported so far. */
  readonly runs: ReadonlyMap<string, number>;
  /** stderr and unexpected stdout, for failure messages. */
  readonly output: string;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Starts (everyMs > 0) or stops (0) the tick stream; resolves with the last seq emitted. */
  setTicks(everyMs: number): Promise<number>;
  /** Sends `signal` and resolves once the process has exited and its output is read to the end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ServerProcess>();

/** Kills every child still running; call it in afterEach so a failed test leaves none behind. */
export async function killAllServerProcesses(): Promise<void> {
  await Promise.all([...live].map((child) => child.kill('SIGKILL')));
}

/**
 * Starts server-main.ts in a child process, with `process.execPath`, the workspace-source export
 * condition and tsx, and resolves once it listens. Pass the port of a killed one to restart in its
 * place.
 */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const { readyTimeoutMs = 20_000, ...config } = options;
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--conditions=@wirecall/source', '--import', 'tsx', serverMainPath],
    {
      cwd: repoRoot,
      env: { ...process.env, WIRECALL_SERVER_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const ticks: EmittedTick[] = [];
  const runs = new Map<string, number>();
  let output = '';
  let port = 0;
  let exited = false;
  let onReady: (() => void) | undefined;
  const ackWaiters: { resolve: (lastSeq: number) => void; reject: (error: Error) => void }[] = [];

  child.stdin.on('error', () => {}); // EPIPE once the child is gone
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (output += text));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: { type?: string; [field: string]: unknown };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      output += `${line}\n`;
      return;
    }
    switch (message.type) {
      case 'ready':
        port = message.port as number;
        onReady?.();
        return;
      case 'emit':
        ticks.push({ id: message.id as string, seq: message.seq as number });
        return;
      case 'run': {
        const key = message.key as string;
        runs.set(key, (runs.get(key) ?? 0) + 1);
        return;
      }
      case 'ticks':
        ackWaiters.shift()?.resolve(message.lastSeq as number);
        return;
      default:
        output += `${line}\n`;
    }
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      live.delete(handle);
      for (const waiter of ackWaiters.splice(0)) waiter.reject(new Error('the server process exited'));
      resolve();
    });
  });

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (!exited) child.kill(signal);
    await closed;
  };
  const handle: ServerProcess = {
    pid: child.pid ?? -1,
    get port() {
      return port;
    },
    get url() {
      return `ws://127.0.0.1:${port}`;
    },
    ticks,
    runs,
    get output() {
      return output;
    },
    get exited() {
      return exited;
    },
    setTicks(everyMs) {
      return new Promise<number>((resolve, reject) => {
        if (exited) {
          reject(new Error('the server process has exited'));
          return;
        }
        ackWaiters.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify({ cmd: 'ticks', everyMs })}\n`);
      });
    },
    kill,
    [Symbol.asyncDispose]: () => kill('SIGKILL'),
  };
  live.add(handle);

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      timer = setTimeout(
        () => reject(new Error(`server process not ready after ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      );
      void closed.then(() => reject(new Error('server process exited before it was ready')));
    });
  } catch (error) {
    await kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- output ---\n${output}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return handle;
}
