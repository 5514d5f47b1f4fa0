import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** A log line a child forwarded (see child-channel.ts `channelLogger`). */
export interface ChildLog {
  level: string;
  message?: string;
  err?: string;
}

/** A child process speaking the JSON-lines channel of child-channel.ts. */
export interface JsonChild<TReady> extends AsyncDisposable {
  readonly pid: number;
  /** What the child announced when it became ready. */
  readonly ready: TReady;
  readonly exited: boolean;
  /** Log lines the child forwarded, in order. */
  readonly logs: readonly ChildLog[];
  /** stderr and stray stdout, for failure messages. */
  readonly output: string;
  /** Runs a command in the child; rejects with the child's error, or if the child exits first. */
  request<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Sends `signal` (SIGKILL by default) and resolves once the child has exited and its output ended. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<JsonChild<unknown>>();

/** Kills every child still running: call it in afterEach/afterAll, so a failed test leaves none behind. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => child.kill('SIGKILL')));
}

/**
 * Starts `script` (a .ts file next to this one) as `node --conditions=@wirecall/source --import tsx`
 * (workspace sources, no build), with `config` as JSON in the environment variable `WIRECALL_CHILD_CONFIG`,
 * and resolves once it prints its ready line.
 */
export async function startJsonChild<TReady>(
  script: string,
  config: object,
  { readyTimeoutMs = 20_000 }: { readyTimeoutMs?: number } = {},
): Promise<JsonChild<TReady>> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--conditions=@wirecall/source', '--import', 'tsx', path],
    {
      cwd: repoRoot,
      env: { ...process.env, WIRECALL_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let ready: TReady | undefined;
  let onReady: (() => void) | undefined;
  let output = '';
  let exited = false;
  let nextReq = 0;
  const logs: ChildLog[] = [];
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  child.stdin.on('error', () => {}); // EPIPE once the child is gone
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (output += text));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: { re?: number; ok?: boolean; value?: unknown; error?: string; ready?: TReady; log?: ChildLog };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      output += `${line}\n`;
      return;
    }
    if (message.re !== undefined) {
      const waiter = waiting.get(message.re);
      waiting.delete(message.re);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error ?? 'the command failed'));
    } else if (message.log !== undefined) {
      logs.push(message.log);
    } else if (message.ready !== undefined) {
      ready = message.ready;
      onReady?.();
    } else {
      output += `${line}\n`;
    }
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      live.delete(handle);
      for (const waiter of waiting.values()) waiter.reject(new Error(`the child ${script} exited`));
      waiting.clear();
      resolve();
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (!exited) child.kill(signal);
    await closed;
  };
  const handle: JsonChild<TReady> = {
    pid: child.pid ?? -1,
    get ready() {
      return ready as TReady;
    },
    get exited() {
      return exited;
    },
    logs,
    get output() {
      return output;
    },
    request<T>(cmd: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`the child ${script} has exited`));
      const req = ++nextReq;
      return new Promise<T>((resolve, reject) => {
        waiting.set(req, { resolve: resolve as (value: unknown) => void, reject });
        child.stdin.write(`${JSON.stringify({ req, cmd, args })}\n`);
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
      timer = setTimeout(() => reject(new Error(`${script} not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      void closed.then(() => reject(new Error(`${script} exited before it was ready`)));
    });
  } catch (error) {
    await kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- output ---\n${output}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return handle;
}
