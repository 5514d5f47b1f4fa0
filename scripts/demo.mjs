// `npm run demo`: the terminal quickstart (a server and a Node client in two processes), then the
// browser chat on the in-memory default with the URL to open. In a terminal the chat keeps running
// until Ctrl-C; without one (CI, a pipe) it checks the page is served and stops by itself.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const root = new URL('..', import.meta.url);
const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
const children = new Set();

function run(args, env = {}) {
  const child = spawn('npm', args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so stopping it stops npm, tsx and the server behind it together.
    detached: true,
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Resolves when the child has exited, including when it already had. */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

// 1. The terminal quickstart; it ends by itself.
const quickstart = run(['run', '--silent', 'start', '-w', 'examples/quickstart']);
quickstart.stdout.pipe(process.stdout);
await exited(quickstart);
const quickstartCode = quickstart.exitCode;
if (quickstartCode !== 0) {
  console.error(`quickstart failed with exit code ${quickstartCode}`);
  process.exit(1);
}

// 2. The browser chat: print the URL to open.
const chat = run(['run', '--silent', 'start', '-w', 'examples/chat'], {
  PORT: process.env.PORT ?? (interactive ? '5173' : '0'),
});
const lines = createInterface({ input: chat.stdout });
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the chat server did not start within 60 s')), 60_000);
  lines.on('line', (line) => {
    const match = /chat listening (\S+)/.exec(line);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  });
  chat.on('exit', (code) => reject(new Error(`the chat server exited with ${code}`)));
}).catch((error) => {
  console.error(String(error));
  stopAll();
  process.exit(1);
});

console.log(`\n[demo] browser chat: open ${url} in two tabs (rooms, reconnection, recovery).`);
if (interactive) {
  console.log('[demo] press Ctrl-C to stop.');
} else {
  const response = await fetch(url);
  console.log(`[demo] the chat page answers ${response.status}; not a terminal, so stopping now.`);
  stopAll();
  await exited(chat);
}
