/**
 * Runs the chat: builds the front-end if dist/ is missing or stale, serves it and the WebSocket
 * (`/ws`) on one HTTP server, prints `chat listening http://127.0.0.1:<port>` as its first line, and
 * shuts down cleanly on SIGTERM or SIGINT.
 *
 *   npm run start -w examples/chat          (from the repository root), then open the URL
 *   PORT=0 npm run start -w examples/chat   (any free port)
 *
 * Environment: PORT (default 5173; 0 picks a free one), HOST (default 127.0.0.1), CHAT_ORIGINS
 * (comma-separated extra origins allowed to open the WebSocket, e.g. behind a proxy).
 */
import { fileURLToPath } from 'node:url';
import { createChatServer } from './chat-server.js';
import { ensureFrontEnd } from './front-end.js';

const exampleDir = fileURLToPath(new URL('../../', import.meta.url));
const distDir = fileURLToPath(new URL('../../dist', import.meta.url));

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 5173;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return port;
}

const port = portFromEnv(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const extraOrigins = (process.env.CHAT_ORIGINS ?? '')
  .split(',')
  .map((origin) => origin.trim())
  .filter((origin) => origin !== '');

try {
  await ensureFrontEnd(exampleDir, distDir);
} catch (error) {
  console.error('building the front-end failed:', error);
  process.exit(1);
}

const chat = createChatServer({ distDir, extraOrigins });
const actualPort = await chat.listen(port, host);
console.log(`chat listening http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`);

let closing = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  // A second signal (Ctrl-C reaches the whole process group, then the runner sends SIGTERM) is ignored.
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing`);
  await chat.close();
  console.log('closed');
}

process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));
