import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A chat example's server (examples/chat, or examples/react-chat: the same server with the page
 * written in React) in a child process, started the way its README does, against the workspace
 * sources (`@wirecall/source`), so no build of the packages is needed. It builds the front-end
 * first when dist/ is missing or stale.
 */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The chat examples: each prints `<name> listening <url>` as its first line. */
export type ChatExample = 'chat' | 'react-chat';

export interface ChatProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the page. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws`: for Node clients. */
  readonly wsUrl: string;
  /** Everything the process printed (stdout and stderr), for failure messages. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, or null while running (and after a signal). */
  readonly exitCode: number | null;
  readonly exited: boolean;
  /** Sends `signal` (SIGKILL by default) and resolves once the process is gone and its output read. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartChatOptions {
  /** 0 for a free port; a killed server's port to restart in its place. */
  port: number;
  /** A first start may build the front-end with Vite. @default 60_000 */
  readyTimeoutMs?: number;
  /** Which page it serves. @default 'chat' */
  example?: ChatExample;
}

const live = new Set<ChatProcess>();

/** Kills every chat server still running; call it in afterAll/afterEach so a failure leaves none behind. */
export async function killAllChatProcesses(): Promise<void> {
  await Promise.all([...live].map((child) => child.kill('SIGKILL')));
}

/** Starts a chat server and resolves once it printed `<example> listening <url>` as its first line. */
export async function startChatProcess({
  port,
  readyTimeoutMs = 60_000,
  example = 'chat',
}: StartChatOptions): Promise<ChatProcess> {
  const readyLine = new RegExp(`^${example} listening (http://127\\.0\\.0\\.1:(\\d+))$`);
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--conditions=@wirecall/source', '--import', 'tsx', `examples/${example}/src/server/main.ts`],
    { cwd: repoRoot, env: { ...process.env, PORT: String(port) }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  let output = '';
  let listeningPort = 0;
  let exited = false;
  let onFirstLine: ((line: string) => void) | undefined;
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    output += text;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (stdout === '') onFirstLine?.(line);
    stdout += `${line}\n`;
    output += `${line}\n`;
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      live.delete(handle);
      resolve();
    });
  });
  const handle: ChatProcess = {
    pid: child.pid ?? -1,
    get port() {
      return listeningPort;
    },
    get url() {
      return `http://127.0.0.1:${listeningPort}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${listeningPort}/ws`;
    },
    get output() {
      return output;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get exitCode() {
      return child.exitCode;
    },
    get exited() {
      return exited;
    },
    async kill(signal = 'SIGKILL') {
      if (!exited) child.kill(signal);
      await closed;
    },
  };
  live.add(handle);

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      onFirstLine = resolve;
      timer = setTimeout(() => reject(new Error(`no first line within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      void closed.then(() => reject(new Error(`exited (code ${child.exitCode}) before it was listening`)));
    });
    const ready = readyLine.exec(firstLine);
    if (ready === null) {
      throw new Error(`expected "${example} listening http://127.0.0.1:<port>" first, got: ${firstLine}`);
    }
    listeningPort = Number(ready[2]);
    if (port !== 0 && listeningPort !== port) throw new Error(`asked for port ${port}, got ${listeningPort}`);
  } catch (error) {
    await handle.kill('SIGKILL');
    throw new Error(`${example} server: ${(error as Error).message}\n--- output ---\n${output}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return handle;
}
