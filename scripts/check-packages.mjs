// Checks each published package the way its consumers will meet it: publint for the package.json
// and exports map, and "are the types wrong" for type resolution under node10, node16 (CJS and
// ESM) and bundler; then an app compiled against the built types. Run after `npm run build`.
import { execFileSync } from 'node:child_process';

const packages = ['packages/core', 'packages/server', 'packages/client', 'packages/react'];
let failed = false;

function run(command, args) {
  try {
    execFileSync(command, args, { stdio: 'inherit' });
  } catch {
    failed = true;
  }
}

for (const dir of packages) {
  console.log(`\n== ${dir}`);
  run('npx', ['--no-install', 'publint', '--strict', dir]);
  // Every resolution, node10 included: it ignores `exports`, so `main`/`types` cover the root entry
  // and `typesVersions` the subpaths (`@wirecall/server/redis`, `@wirecall/client/streams`, ...).
  run('npx', ['--no-install', 'attw', '--pack', dir]);
}

// An app compiled against the dist .d.ts alone: the entry points' types must fit one another
// (each bundles its own copy of shared declarations).
console.log('\n== scripts/consumer (an app on the built types)');
run('npx', ['--no-install', 'tsc', '-p', 'scripts/consumer']);

if (failed) {
  console.error('\nPackage checks failed.');
  process.exit(1);
}
