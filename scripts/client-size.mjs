// What `import { createClient } from '@wirecall/client'` adds to a browser bundle, minified and
// gzipped the way an app's bundler would ship it, what each optional feature adds when an app
// imports it, and the anchors' clients measured the same way. `npm run size` prints it; the size
// test in `npm test` holds the client with its core below every anchor's client, and checks that
// the features an app does not import stay out of its bundle.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Third-party code the client pulls, counted and reported on its own. */
export const THIRD_PARTY = ['zod', 'isomorphic-ws'];

/** An app that makes calls and listens to events: `createClient` and nothing else. */
export const CLIENT_ENTRY = "export { createClient } from '@wirecall/client';";

/**
 * The optional features, each imported from its own entry point: what an app adds to
 * {@link CLIENT_ENTRY} to use it, the source folder whose modules it brings (less `hooks`, the
 * module of it that `createClient` itself imports: the option's shape and its check), and a text
 * of its minified code (for shared tabs, the worker's file name: a bundle that holds it makes Vite
 * and webpack 5 build and emit the worker).
 */
export const FEATURES = {
  streams: {
    entry: "export { streams } from '@wirecall/client/streams';",
    folder: 'packages/client/src/streams/',
    marker: 'than it was granted',
  },
  binary: {
    entry: "export { binaryFrames } from '@wirecall/client/binary';",
    folder: 'packages/client/src/binary/',
    marker: 'bytes outside the body',
  },
  presence: {
    entry: "export { presence } from '@wirecall/client/presence';",
    folder: 'packages/client/src/presence/',
    marker: 'This presence was closed',
  },
  messages: {
    entry: "export { messages } from '@wirecall/client/messages';",
    folder: 'packages/client/src/messages/',
    marker: 'Invalid payload for',
  },
  sharedTabs: {
    entry: "export { sharedTabs } from '@wirecall/client/shared-tabs';",
    folder: 'packages/client/src/shared-tabs/',
    hooks: ['packages/client/src/shared-tabs/shared-socket.ts'],
    marker: 'shared-worker.js',
  },
  react: {
    entry: "export { createWirecallContext, createWirecallOptions, useStream } from '@wirecall/react';",
    folder: 'packages/react/src/',
    marker: 'WirecallContext',
    // React and TanStack Query are the app's own (peers of @wirecall/react): not counted.
    external: ['react', 'react-dom', '@tanstack/react-query'],
  },
};

/**
 * An entry's bundle for browsers, built from the packages' sources (what their dist holds, before
 * the app's bundler joins it), minified: its min+gz bytes, its text, and the repository-relative
 * paths of the modules in it. `external` stays out.
 */
export async function bundle(contents, external) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: `${ROOT}packages/client`, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@wirecall/source'],
    external,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  const [{ inputs }] = Object.values(result.metafile.outputs);
  return {
    bytes: gzipSync(output.contents, { level: 9 }).length,
    text: output.text,
    // esbuild names them relative to the working directory; made relative to the repository here.
    modules: Object.keys(inputs).map((input) => relativeToRoot(input)),
  };
}

function relativeToRoot(input) {
  const absolute = fileURLToPath(new URL(input, `file://${process.cwd()}/`));
  return absolute.startsWith(ROOT) ? absolute.slice(ROOT.length) : absolute;
}

async function gzippedSize(contents, external) {
  return (await bundle(contents, external)).bytes;
}

/**
 * The client's own code, and with the parts of `@wirecall/core` it uses; what each feature adds
 * to that when used; each third party; and the anchors' WebSocket clients built the same way
 * (their dependencies included), the budget wirecall stays under; and tRPC's with the superjson
 * transformer it needs to carry the values wirecall's own codec carries.
 */
export async function measureClientSize() {
  const clientWithCore = await gzippedSize(CLIENT_ENTRY, THIRD_PARTY);
  /** What a feature adds to `createClient` with core, when the app imports it. */
  const added = async (feature) =>
    (await gzippedSize(`${CLIENT_ENTRY}\n${feature.entry}`, [...THIRD_PARTY, ...(feature.external ?? [])])) -
    clientWithCore;
  return {
    client: await gzippedSize(CLIENT_ENTRY, [...THIRD_PARTY, '@wirecall/core']),
    clientWithCore,
    streams: await added(FEATURES.streams),
    binary: await added(FEATURES.binary),
    presence: await added(FEATURES.presence),
    messages: await added(FEATURES.messages),
    sharedTabs: await added(FEATURES.sharedTabs),
    react: await added(FEATURES.react),
    // tRPC sends Dates, Maps and bigints only through a transformer, superjson in its docs: the
    // same values as wirecall's own codec (which is counted in clientWithCore).
    trpcClientWithSuperjson: await gzippedSize(
      "export { createTRPCClient, createWSClient, wsLink } from '@trpc/client'; export { SuperJSON } from 'superjson';",
      [],
    ),
    // What a contract of one object schema pulls from zod 4 (the app pays it for its schemas).
    zod: await gzippedSize("import { z } from 'zod'; export const schema = z.object({ a: z.number() });", []),
    trpcClient: await gzippedSize("export { createTRPCClient, createWSClient, wsLink } from '@trpc/client';", []),
    phoenixClient: await gzippedSize("export { Socket, Channel, Presence } from 'phoenix';", []),
    socketIoClient: await gzippedSize("export { io } from 'socket.io-client';", []),
  };
}

/** The anchors' clients, by key of {@link measureClientSize}'s result. */
export const ANCHORS = {
  trpcClient: 'tRPC client (createTRPCClient + createWSClient + wsLink)',
  phoenixClient: 'Phoenix client (Socket + Channel + Presence)',
  socketIoClient: 'socket.io-client (io)',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = await measureClientSize();
  const bytes = (value) => `${value.toLocaleString('en-US').padStart(7)} B`;
  const rows = [
    ['createClient, calls and events (min+gz)', ''],
    ['  client alone (core external)', bytes(size.client)],
    ['  client + core: the budget', bytes(size.clientWithCore)],
    ['what each feature adds when used', ''],
    ['  + streams (@wirecall/client/streams)', `+${bytes(size.streams).trimStart()}`],
    ['  + binary frames (@wirecall/client/binary)', `+${bytes(size.binary).trimStart()}`],
    ['  + presence (@wirecall/client/presence)', `+${bytes(size.presence).trimStart()}`],
    ['  + messages (@wirecall/client/messages)', `+${bytes(size.messages).trimStart()}`],
    ['  + shared tabs (@wirecall/client/shared-tabs)', `+${bytes(size.sharedTabs).trimStart()}`],
    ['  + React (@wirecall/react; its peers not counted)', `+${bytes(size.react).trimStart()}`],
    ['anchors (their dependencies included)', ''],
    ...Object.entries(ANCHORS).map(([key, name]) => [`  ${name}`, bytes(size[key])]),
    ['  tRPC client + superjson (Date, Map, BigInt as wirecall)', bytes(size.trpcClientWithSuperjson)],
    ["the app's own, not counted", ''],
    ['  zod (one object schema)', bytes(size.zod)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  for (const [name, value] of rows)
    process.stdout.write(`${name.padEnd(width)}${value.padStart(9)}\n`.trimEnd() + '\n');
  const over = Object.keys(ANCHORS).filter((key) => size.clientWithCore >= size[key]);
  process.stdout.write(
    over.length === 0
      ? `\nclient + core is below every anchor's client.\n`
      : `\nclient + core is NOT below: ${over.map((key) => ANCHORS[key]).join('; ')}.\n`,
  );
}
