/**
 * @module The type-checking benchmark: for generated contracts of 50, 200, 400 and 800 procedures,
 * runs `tsc --extendedDiagnostics` on the wirecall project (contract, server, client) and on the
 * same procedures as a tRPC 11 router with its client, one run at a time, and reports check time,
 * total time, types, instantiations and memory, with the ratio wirecall / tRPC. Times are the
 * median of the repetitions; counts are deterministic (the run says so when they are not).
 * Writes bench/results/types-<time>.md and .json.
 *
 *   npm run bench:types                           50, 200, 400, 800 procedures; median of 3
 *   npm run bench:types -- --sizes=50,400 --reps=1
 *   npm run bench:types -- --only=wirecall        one library
 *   npm run bench:types -- --keep                 keep the generated projects (printed) to trace them
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { median } from '../src/stats.js';
import { generate, LIBRARIES, ROOT_DIR, type GeneratedProject, type Library } from './generate.js';

const RESULTS_DIR = join(ROOT_DIR, 'bench', 'results');
const TSC = join(ROOT_DIR, 'node_modules', 'typescript', 'lib', 'tsc.js');
const DIST_FILES = ['core', 'server', 'client'].map((name) => join(ROOT_DIR, 'packages', name, 'dist', 'index.d.ts'));
const LABELS: Record<Library, string> = { wirecall: 'wirecall', trpc: 'tRPC' };
const USAGE = 'usage: npm run bench:types -- [--sizes=50,200,400,800] [--reps=3] [--only=wirecall,trpc] [--keep]';

interface Options {
  sizes: number[];
  reps: number;
  libraries: Library[];
  keep: boolean;
}

/**
 * What one `tsc --extendedDiagnostics` run reports (times in s, memory in MiB), and the CPU time
 * (user + system) of its process: tsc's times are wall-clock, the CPU time moves less when other
 * work shares the machine.
 */
interface Measure {
  checkTime: number;
  totalTime: number;
  cpuTime: number;
  types: number;
  instantiations: number;
  memoryMiB: number;
}

const METRICS: readonly { key: keyof Measure; label: string; digits: number; time: boolean }[] = [
  { key: 'checkTime', label: 'check time (s)', digits: 2, time: true },
  { key: 'totalTime', label: 'total time (s)', digits: 2, time: true },
  { key: 'cpuTime', label: 'CPU time (s)', digits: 2, time: true },
  { key: 'types', label: 'types', digits: 0, time: false },
  { key: 'instantiations', label: 'instantiations', digits: 0, time: false },
  { key: 'memoryMiB', label: 'memory (MiB)', digits: 0, time: false },
];

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { sizes: [50, 200, 400, 800], reps: 3, libraries: [...LIBRARIES], keep: false };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--sizes' && value) {
      options.sizes = value.split(',').map(Number);
      if (options.sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error(`bad --sizes\n${USAGE}`);
    } else if (flag === '--reps' && value && Number.isInteger(Number(value)) && Number(value) > 0) {
      options.reps = Number(value);
    } else if (flag === '--only' && value) {
      const wanted = value.split(',');
      for (const name of wanted) {
        if (!LIBRARIES.includes(name as Library)) throw new Error(`unknown library ${name}\n${USAGE}`);
      }
      options.libraries = LIBRARIES.filter((library) => wanted.includes(library));
    } else if (flag === '--keep') options.keep = true;
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return options;
}

function packageVersion(name: string): string {
  const file = join(ROOT_DIR, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'not found';
}

function gitRevision(): string {
  const result = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT_DIR, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

function environment() {
  const cpus = os.cpus();
  return {
    revision: gitRevision(),
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    versions: Object.fromEntries(
      ['typescript', 'zod', '@trpc/server', '@trpc/client', '@wirecall/core'].map((name) => [
        name,
        packageVersion(name),
      ]),
    ),
  };
}

/** Others may be rebuilding the packages (tsup empties dist first): wait for their .d.ts. */
async function waitForDist(): Promise<number> {
  for (let waited = 0; ; waited += 2) {
    if (DIST_FILES.every((file) => existsSync(file)))
      return Math.max(...DIST_FILES.map((file) => statSync(file).mtimeMs));
    if (waited >= 120) {
      throw new Error('packages/*/dist/index.d.ts is missing: run `npm run build` at the repository root');
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** Loaded into tsc's process (`--require`): prints its CPU time as it exits. */
const CPU_PRELOAD = `process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write('\\nCPU time: ' + ((user + system) / 1e6).toFixed(3) + '\\n');
});
`;

/** The newest modification time of the .ts files under `dir` (tests aside). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.includes('.test'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The run measures the packages' dist: say so when their sources are newer (not rebuilt yet). */
function staleDist(): string[] {
  return ['core', 'server', 'client'].flatMap((name, index) =>
    newestSource(join(ROOT_DIR, 'packages', name, 'src')) > statSync(DIST_FILES[index]!).mtimeMs
      ? [`packages/${name}/src is newer than its dist: this run measures the last build`]
      : [],
  );
}

function parseDiagnostics(output: string, errorOutput: string): Measure {
  const read = (label: string): number => {
    const match = new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(output);
    if (!match) throw new Error(`tsc printed no "${label}":\n${output}`);
    return Number(match[1]);
  };
  return {
    checkTime: read('Check time'),
    totalTime: read('Total time'),
    types: read('Types'),
    instantiations: read('Instantiations'),
    memoryMiB: read('Memory used') / 1024,
    cpuTime: Number(/^CPU time: ([\d.]+)/m.exec(errorOutput)?.[1] ?? Number.NaN),
  };
}

/** One `tsc -p` run; a type error in the generated code (or a dist being rebuilt) is retried, then fatal. */
async function check(project: GeneratedProject, preload: string): Promise<Measure> {
  for (let attempt = 1; ; attempt++) {
    await waitForDist();
    const result = spawnSync(
      process.execPath,
      ['--require', preload, TSC, '-p', project.tsconfig, '--extendedDiagnostics'],
      {
        cwd: project.dir,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (result.status === 0) return parseDiagnostics(result.stdout, result.stderr);
    const errors = result.stdout
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .slice(0, 5);
    if (attempt >= 3) throw new Error(`tsc failed on ${project.tsconfig}:\n${errors.join('\n') || result.stderr}`);
    console.log(`  tsc reported errors (a rebuild of dist in progress?), again in 5 s: ${errors[0] ?? result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}

function format(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

interface SizeOutcome {
  procedures: number;
  events: number;
  runs: Partial<Record<Library, Measure[]>>;
  combined: Partial<Record<Library, Measure>>;
  ratio?: Measure;
}

function combine(runs: Measure[]): { combined: Measure; varying: string[] } {
  const combined = {} as Measure;
  const varying: string[] = [];
  for (const { key, time } of METRICS) {
    const values = runs.map((run) => run[key]);
    combined[key] = median(values);
    if (!time && new Set(values).size > 1 && key !== 'memoryMiB') varying.push(key);
  }
  return { combined, varying };
}

function tableRows(outcomes: SizeOutcome[], libraries: readonly Library[]): string[][] {
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    for (const library of libraries) {
      const measure = outcome.combined[library];
      if (!measure) continue;
      rows.push([
        String(outcome.procedures),
        LABELS[library],
        ...METRICS.map(({ key, digits }) => format(measure[key], digits)),
      ]);
    }
    if (outcome.ratio) {
      const ratio = outcome.ratio;
      rows.push([
        String(outcome.procedures),
        'wirecall / tRPC',
        ...METRICS.map(({ key }) => `${format(ratio[key], 2)}×`),
      ]);
    }
  }
  return rows;
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (column < 2 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const env = environment();
  console.log(
    `wirecall type-checking benchmark: ${options.sizes.join(', ')} procedures, median of ${options.reps}, ${startedAt.toISOString()}`,
  );
  console.log(
    `node ${env.node} · ${env.cpu} · ${env.cores} cores · load average ${env.loadAverage.join(' ')} · wirecall ${env.revision} · ` +
      Object.entries(env.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(' · '),
  );
  const distAtStart = await waitForDist();
  const workDir = mkdtempSync(join(os.tmpdir(), 'wirecall-types-'));
  const preload = join(workDir, 'cpu-time.cjs');
  writeFileSync(preload, CPU_PRELOAD);
  const outcomes: SizeOutcome[] = [];
  const warnings: string[] = staleDist();
  for (const warning of warnings) console.log(`WARNING: ${warning}`);
  try {
    for (const procedures of options.sizes) {
      const projects = generate({ procedures, dir: join(workDir, String(procedures)), libraries: options.libraries });
      const outcome: SizeOutcome = {
        procedures,
        events: Math.max(1, Math.floor(procedures / 10)),
        runs: {},
        combined: {},
      };
      // Repetitions interleaved across libraries, so that the machine's noise hits both alike.
      for (let rep = 1; rep <= options.reps; rep++) {
        for (const project of projects) {
          const measure = await check(project, preload);
          (outcome.runs[project.library] ??= []).push(measure);
          console.log(
            `${String(procedures).padStart(4)} ${LABELS[project.library].padEnd(8)} #${rep}: check ${measure.checkTime.toFixed(2)} s, ` +
              `total ${measure.totalTime.toFixed(2)} s, CPU ${measure.cpuTime.toFixed(2)} s, ${format(measure.types, 0)} types, ` +
              `${format(measure.instantiations, 0)} instantiations, ${format(measure.memoryMiB, 0)} MiB`,
          );
        }
      }
      for (const library of options.libraries) {
        const { combined, varying } = combine(outcome.runs[library] ?? []);
        outcome.combined[library] = combined;
        if (varying.length > 0)
          warnings.push(`${procedures} ${LABELS[library]}: ${varying.join(', ')} varied between runs`);
      }
      const { wirecall, trpc } = outcome.combined;
      if (wirecall && trpc) {
        outcome.ratio = Object.fromEntries(
          METRICS.map(({ key }) => [key, trpc[key] > 0 ? wirecall[key] / trpc[key] : Number.NaN]),
        ) as unknown as Measure;
      }
      outcomes.push(outcome);
    }
  } finally {
    if (options.keep) console.log(`kept the generated projects in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  if ((await waitForDist()) !== distAtStart) {
    warnings.push('packages/*/dist changed during the run (a rebuild): runs may have measured different code');
  }

  const headers = ['procedures', 'library', ...METRICS.map((metric) => metric.label)];
  const rows = tableRows(outcomes, options.libraries);
  console.log(`\nmedian of ${options.reps}; counts are deterministic; wirecall / tRPC below each size\n`);
  printTable(headers, rows);
  for (const warning of warnings) console.log(`WARNING: ${warning}`);

  const finishedAt = new Date();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const setup =
    'Each size N: a wirecall contract of N procedures (small object input and output, one of four shapes) and ' +
    'N/10 events (payload; every other one with params), a server implementing every handler and emitting every ' +
    'event, a client calling 100 procedures (or N) and subscribing to every event; and the same N procedures as a ' +
    'tRPC 11 router (input and output schemas, half queries, half mutations; the events as async-generator ' +
    'subscriptions) with a createTRPCClient<AppRouter> making the same calls and subscriptions. ' +
    '`tsc -p <project> --extendedDiagnostics`, strict, skipLibCheck, the packages from their dist .d.ts.';
  const markdown = [
    `# Type-checking cost, ${startedAt.toISOString().slice(0, 10)}`,
    '',
    `wirecall ${env.revision}, node ${env.node}, ${env.cpu}, ${env.cores} cores, load average at start ` +
      `${env.loadAverage.join(' ')}; ${Object.entries(env.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ')}. Times: median of ${options.reps}. \`npm run bench:types -w bench\`.`,
    '',
    setup,
    '',
    markdownTable(headers, rows),
    '',
    ...warnings.map((warning) => `WARNING: ${warning}`),
  ].join('\n');
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    reps: options.reps,
    environment: env,
    setup,
    sizes: outcomes,
    warnings,
  };
  const base = join(RESULTS_DIR, `types-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown}\n`);
  console.log(`\nwrote ${relative(process.cwd(), base)}.md and .json`);
  console.log(`total ${((finishedAt.getTime() - startedAt.getTime()) / 1e3).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
