/**
 * Runs the React chat: the chat example's server (examples/chat: the contract's handlers, static
 * files, `/ws`), serving this example's front-end. Builds the front-end if dist/ is missing or
 * stale, prints `react-chat listening http://127.0.0.1:<port>` as its first line, and shuts down
 * cleanly on SIGTERM or SIGINT.
 *
 *   npm run start -w examples/react-chat          (from the repository root), then open the URL
 *   PORT=0 npm run start -w examples/react-chat   (any free port)
 *
 * Environment: PORT (default 5174; 0 picks a free one), HOST (default 127.0.0.1), CHAT_ORIGINS.
 */
import { fileURLToPath } from 'node:url';
import { serveChat } from '../../../chat/src/server/serve-chat.js';

await serveChat({
  name: 'react-chat',
  exampleDir: fileURLToPath(new URL('../../', import.meta.url)),
  defaultPort: 5174,
  // The page bundles the chat's contract, which lives in examples/chat.
  alsoBuiltFrom: [fileURLToPath(new URL('../../../chat/src/contract.ts', import.meta.url))],
});
