/**
 * Makes sure dist/ holds a build of the current front-end: builds it with Vite (programmatically)
 * when it is missing, or older than any of its sources (index.html, src/client, the contract, the
 * Vite config, and the wirecall packages the page bundles). Several processes may start at once
 * (parallel tests): each builds into a directory of its own and renames it into place, so a server
 * never serves a half-written dist/.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Newest modification time (ms) of `path`, or of any file below it; 0 when it does not exist. */
async function newestMtime(path: string, depth = 0): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  if (depth > 8) return 0;
  const entries = await readdir(path, { withFileTypes: true });
  let newest = 0;
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestMtime(join(path, entry.name), depth + 1));
  }
  return newest;
}

/**
 * The directories (sources and builds) of the wirecall packages the page bundles: every
 * `@wirecall/*` dependency of the example but the server.
 */
async function libraryDirs(exampleDir: string): Promise<string[]> {
  const manifest = join(exampleDir, 'package.json');
  const { dependencies = {} } = JSON.parse(await readFile(manifest, 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const require = createRequire(manifest);
  const bundled = Object.keys(dependencies).filter(
    (name) => name.startsWith('@wirecall/') && name !== '@wirecall/server',
  );
  return bundled.flatMap((name) => {
    try {
      const root = dirname(require.resolve(`${name}/package.json`));
      return [join(root, 'src'), join(root, 'dist')];
    } catch {
      return [];
    }
  });
}

/**
 * Whether dist/ is missing or older than what it is built from: the example's page, its contract,
 * its wirecall packages, and `alsoBuiltFrom` (files it imports from elsewhere).
 */
export async function frontEndIsStale(
  exampleDir: string,
  distDir: string,
  alsoBuiltFrom: readonly string[] = [],
): Promise<boolean> {
  const built = await newestMtime(join(distDir, 'index.html'));
  if (built === 0) return true;
  const sources = [
    join(exampleDir, 'index.html'),
    join(exampleDir, 'vite.config.ts'),
    join(exampleDir, 'src', 'client'),
    join(exampleDir, 'src', 'contract.ts'),
    ...(await libraryDirs(exampleDir)),
    ...alsoBuiltFrom,
  ];
  const times = await Promise.all(sources.map((source) => newestMtime(source)));
  return Math.max(...times) > built;
}

/** Moves the fresh build `next` to `distDir`; if another process got there first, keeps theirs. */
async function swapIn(next: string, distDir: string, tag: string): Promise<void> {
  const old = join(dirname(distDir), `.dist-old-${tag}`);
  try {
    await rename(distDir, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    await rename(next, distDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    await rm(next, { recursive: true, force: true }); // same sources, same result: theirs will do
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Builds the front-end into `distDir` if it is stale (see {@link frontEndIsStale}); resolves with
 * whether it built.
 */
export async function ensureFrontEnd(
  exampleDir: string,
  distDir: string,
  alsoBuiltFrom: readonly string[] = [],
): Promise<boolean> {
  if (!(await frontEndIsStale(exampleDir, distDir, alsoBuiltFrom))) return false;
  // Imported only when needed: Vite is large, and a server with a fresh dist/ starts without it.
  const { build } = await import('vite');
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const next = join(exampleDir, `.dist-next-${tag}`);
  try {
    await build({
      root: exampleDir,
      configFile: join(exampleDir, 'vite.config.ts'),
      // Quiet on success: the server's first line of output is its URL.
      logLevel: 'warn',
      build: {
        outDir: next,
        emptyOutDir: true,
        rollupOptions: {
          // zod's sources carry comments Rollup calls misplaced annotations: noise about a
          // dependency, not about this app. Every other warning is printed.
          onwarn(warning, print) {
            if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/') === true) return;
            print(warning);
          },
        },
      },
    });
    await swapIn(next, distDir, tag);
  } finally {
    await rm(next, { recursive: true, force: true });
  }
  return true;
}
