/**
 * Prints the functions with the most self time in V8 CPU profiles (`node --cpu-prof`, which
 * `npm run bench -- --cpu-prof` turns on for the children of chosen peers):
 *
 *   npx tsx src/profile-top.ts results/prof/<stamp>/C-wirecall-server-4 [--top=25] [--hide-startup]
 *       [--window=FROM-TO] [--by-origin]
 *
 * Every .cpuprofile under the given files or directories is summed. Percentages are of the busy
 * time: `(idle)` (waiting in the event loop) is left out of them. `--hide-startup` also leaves out
 * the frames of loading modules (Node's loaders, tsx), which a short child spends much of its life in.
 *
 * `--window=FROM-TO` keeps the samples taken between two readings of the monotonic clock, in
 * microseconds (V8 stamps samples with CLOCK_MONOTONIC, as `process.hrtime` reads it): a profiled
 * run prints the window of its measured part (`window …`), so startup, connecting and warm-up drop
 * out. `--by-origin` also sums the self time by where the code comes from: wirecall's packages,
 * superjson, zod, ws, the benchmark, Node's own JavaScript, native functions (system calls, whose
 * time includes the kernel's), the garbage collector, and V8's own work (`(program)`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from, for `--by-origin`. */
function originOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8 and native, not attributed (program)';
  if (functionName === '(idle)') return 'idle';
  if (url === '') return 'native functions (system calls: includes kernel time)';
  if (/\/packages\/(core|server|client)\//.test(url))
    return `wirecall ${/\/packages\/(core|server|client)\//.exec(url)![1]}`;
  if (url.includes('node_modules/superjson/')) return 'superjson';
  if (url.includes('node_modules/zod/')) return 'zod';
  if (url.includes('node_modules/ws/')) return 'ws';
  if (/node_modules\/(@trpc|socket\.io|engine\.io|socket\.io-parser|socket\.io-client|engine\.io-client)/.test(url))
    return 'peer library (tRPC, Socket.IO)';
  if (url.includes('/bench/')) return 'benchmark harness';
  if (url.startsWith('node:')) return "Node's JavaScript (streams, events, net)";
  return 'other';
}

function profilesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => profilesUnder(join(path, entry)));
}

const args = process.argv.slice(2);
const top = Number(args.find((arg) => arg.startsWith('--top='))?.slice(6) ?? 25);
const hideStartup = args.includes('--hide-startup');
const byOrigin = args.includes('--by-origin');
const windowArg = args.find((arg) => arg.startsWith('--window='))?.slice(9);
const [windowFrom, windowTo] = windowArg
  ? windowArg.split('-').map(Number)
  : [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
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
const originUs = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < windowFrom! || at > windowTo!) return;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where =
      url === '' ? '' : ` ${url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    const origin = originOf(functionName, url);
    originUs.set(origin, (originUs.get(origin) ?? 0) + delta);
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
if (byOrigin) {
  originUs.delete('idle');
  const originBusyUs = [...originUs.values()].reduce((sum, us) => sum + us, 0);
  console.log('\n self ms  % busy  origin (every frame of the window but idle, startup frames included)');
  for (const [origin, us] of [...originUs].sort((x, y) => y[1] - x[1])) {
    console.log(
      `${(us / 1e3).toFixed(1).padStart(8)}  ${((us / originBusyUs) * 100).toFixed(1).padStart(6)}%  ${origin}`,
    );
  }
}
