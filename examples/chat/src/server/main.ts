/**
 * Runs the chat (see serve-chat.ts): builds the front-end if dist/ is missing or stale, serves it
 * and the WebSocket (`/ws`) on one HTTP server, prints `chat listening http://127.0.0.1:<port>` as
 * its first line, and shuts down cleanly on SIGTERM or SIGINT.
 *
 *   npm run start -w examples/chat          (from the repository root), then open the URL
 *   PORT=0 npm run start -w examples/chat   (any free port)
 *
 * Environment: PORT (default 5173; 0 picks a free one), HOST (default 127.0.0.1), CHAT_ORIGINS
 * (comma-separated extra origins allowed to open the WebSocket, e.g. behind a proxy).
 */
import { fileURLToPath } from 'node:url';
import { serveChat } from './serve-chat.js';

await serveChat({ name: 'chat', exampleDir: fileURLToPath(new URL('../../', import.meta.url)), defaultPort: 5173 });
