// What `import { createClient } from '@wirecall/client'` adds to a browser bundle, minified and
// gzipped the way an app's bundler would ship it. `npm run size` prints it; the size test in
// `npm test` holds the client to its budget.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Third-party code the client pulls, counted and reported on its own. */
export const THIRD_PARTY = ['zod', 'superjson', 'isomorphic-ws'];

/**
 * Minified + gzipped bytes of an entry's bundle for browsers, built from the packages' sources (what
 * their dist holds, before the app's bundler joins it). `external` stays out of the count.
 */
async function gzippedSize(contents, external) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: `${ROOT}packages/client`, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@wirecall/source'],
    external,
    write: false,
    logLevel: 'silent',
  });
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
}

const CLIENT_ENTRY = "export { createClient } from '@wirecall/client';";

/**
 * The client's own code, and with the parts of `@wirecall/core` it uses, and each third party; and
 * the anchors' WebSocket clients built the same way (their dependencies included, but no
 * serializer: tRPC's superjson transformer, like ours, is the app's), the budget wirecall stays under.
 */
export async function measureClientSize() {
  return {
    client: await gzippedSize(CLIENT_ENTRY, [...THIRD_PARTY, '@wirecall/core']),
    clientWithCore: await gzippedSize(CLIENT_ENTRY, THIRD_PARTY),
    superjson: await gzippedSize("export { SuperJSON } from 'superjson';", []),
    // What a contract of one object schema pulls from zod 4 (the app pays it for its schemas).
    zod: await gzippedSize("import { z } from 'zod'; export const schema = z.object({ a: z.number() });", []),
    trpcClient: await gzippedSize("export { createTRPCClient, createWSClient, wsLink } from '@trpc/client';", []),
    socketIoClient: await gzippedSize("export { io } from 'socket.io-client';", []),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await measureClientSize();
  for (const [name, bytes] of Object.entries(sizes)) {
    process.stdout.write(`${name.padEnd(16)} ${bytes.toLocaleString('en-US').padStart(7)} B min+gz\n`);
  }
}
