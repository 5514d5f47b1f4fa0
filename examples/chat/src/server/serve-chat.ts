/**
 * What a chat example's `main.ts` runs: builds its front-end if dist/ is missing or stale, serves it
 * and the WebSocket (`/ws`) on one HTTP server, prints `<name> listening http://127.0.0.1:<port>`
 * as its first line, and shuts down cleanly on SIGTERM or SIGINT. The React chat runs the same
 * server with its own page.
 *
 * Environment: PORT (0 picks a free one), HOST (default 127.0.0.1), CHAT_ORIGINS (comma-separated
 * extra origins allowed to open the WebSocket, e.g. behind a proxy).
 */
import { join } from 'node:path';
import { createChatServer } from './chat-server.js';
import { ensureFrontEnd } from './front-end.js';

export interface ServeChatOptions {
  /** What the first line says it is: `chat listening <url>`. */
  name: string;
  /** The example's folder (its package.json, index.html and src/client). */
  exampleDir: string;
  /** The port when PORT is not set. */
  defaultPort: number;
  /** Files outside the example that its page bundles (a contract it imports). */
  alsoBuiltFrom?: readonly string[];
}

function portFromEnv(value: string | undefined, defaultPort: number): number {
  if (value === undefined || value === '') return defaultPort;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return port;
}

export async function serveChat({
  name,
  exampleDir,
  defaultPort,
  alsoBuiltFrom = [],
}: ServeChatOptions): Promise<void> {
  const distDir = join(exampleDir, 'dist');
  const port = portFromEnv(process.env.PORT, defaultPort);
  const host = process.env.HOST ?? '127.0.0.1';
  const extraOrigins = (process.env.CHAT_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');

  try {
    await ensureFrontEnd(exampleDir, distDir, alsoBuiltFrom);
  } catch (error) {
    console.error('building the front-end failed:', error);
    process.exit(1);
  }

  const chat = createChatServer({ distDir, extraOrigins });
  const actualPort = await chat.listen(port, host);
  console.log(`${name} listening http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`);

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
}
