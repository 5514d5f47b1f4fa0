/**
 * Prints the functions with the most self time in V8 CPU profiles (`node --cpu-prof`, which
 * `npm run bench -- --cpu-prof` turns on for the children of chosen peers):
 *
 *   npx tsx src/profile-top.ts results/prof/<stamp>/C-wirecall-server-4 [--top=25] [--hide-startup]
 *
 * Every .cpuprofile under the given files or directories is summed. Percentages are of the busy
 * time: `(idle)` (waiting in the event loop) is left out of them. `--hide-startup` also leaves out
 * the frames of loading modules (Node's loaders, tsx), which a short child spends much of its life in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function profilesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => profilesUnder(join(path, entry)));
}

const args = process.argv.slice(2);
const top = Number(args.find((arg) => arg.startsWith('--top='))?.slice(6) ?? 25);
const hideStartup = args.includes('--hide-startup');
/** Frames that only run while modules load. */
const STARTUP_FRAME =
  /node:internal\/(modules|bootstrap|main|deps\/cjs-module-lexer|source_map|url|fs\/)|tsx\/dist|^(compileFunction|wrapSafe) /;
const files = args
  .filter((arg) => !arg.startsWith('--'))
  .flatMap(profilesUnder)
  .filter((file) => file.endsWith('.cpuprofile'));
if (files.length === 0) {
  console.error('usage: tsx src/profile-top.ts <profile files or directories> [--top=25]');
  process.exit(1);
}

const selfUs = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, index) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where =
      url === '' ? '' : ` ${url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    const delta = profile.timeDeltas[index] ?? 0;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    totalUs += delta;
  });
}

console.log(`${files.length} profile(s): ${files.map((file) => relative(process.cwd(), file)).join(', ')}`);
let hiddenUs = selfUs.get('(idle)') ?? 0;
selfUs.delete('(idle)');
if (hideStartup) {
  for (const [key, us] of selfUs) {
    if (STARTUP_FRAME.test(key)) {
      hiddenUs += us;
      selfUs.delete(key);
    }
  }
}
const busyUs = totalUs - hiddenUs;
console.log(
  `${(totalUs / 1e3).toFixed(0)} ms sampled, ${(busyUs / 1e3).toFixed(0)} ms busy (not idle${hideStartup ? ', not loading modules' : ''})\n`,
);
console.log(' self ms  % busy  function');
for (const [key, us] of [...selfUs].sort((x, y) => y[1] - x[1]).slice(0, top)) {
  console.log(`${(us / 1e3).toFixed(1).padStart(8)}  ${((us / busyUs) * 100).toFixed(1).padStart(6)}%  ${key}`);
}
