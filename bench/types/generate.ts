/**
 * @module Writes the projects the type-checking benchmark measures, for N procedures, into a
 * directory outside the repository (by default under os.tmpdir()):
 *
 *   <dir>/wirecall/  contract.ts (defineContract: N procedures, N/10 events), server.ts (createServer,
 *                    every handler, every event emitted), client.ts (createClient: 100 calls, every
 *                    event subscribed), tsconfig.json
 *   <dir>/trpc/      router.ts (initTRPC: the same N procedures, the events as subscriptions),
 *                    client.ts (createTRPCClient<AppRouter>: the same 100 calls and subscriptions),
 *                    tsconfig.json
 *   <dir>/node_modules -> the repository's node_modules (the wirecall packages resolve to their dist)
 *
 * Both libraries get the same zod schemas. Procedure i uses one of four small shapes (i % 4), so
 * the contract is not one object literal repeated; event j has a payload, and every other event has
 * params (a room). The generated code reads input fields in the handlers and result fields in the
 * client, so that inference is exercised at both ends, as in an app.
 *
 *   npx tsx bench/types/generate.ts --procedures=400 [--out=/tmp/dir] [--only=wirecall,trpc]
 *          [--parts=contract,server,client] [--error]
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIBRARIES = ['wirecall', 'trpc'] as const;
export type Library = (typeof LIBRARIES)[number];

/** The parts of the wirecall project that go into its tsconfig (to isolate their cost). */
export const WIRECALL_PARTS = ['contract', 'server', 'client'] as const;
export type WirecallPart = (typeof WIRECALL_PARTS)[number];

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Procedures the client calls: 100, or all of them when there are fewer. */
export const CALLED = 100;

export interface GenerateOptions {
  procedures: number;
  /** Where to write; a fresh directory under os.tmpdir() when absent. */
  dir?: string;
  libraries?: readonly Library[];
  /** wirecall files the tsconfig includes (each one imports the contract). @default all three */
  wirecallParts?: readonly WirecallPart[];
  /** Add one deliberate type error to each client: proves the check really reads the code. */
  typeError?: boolean;
}

export interface GeneratedProject {
  library: Library;
  dir: string;
  tsconfig: string;
}

/** The zod schemas of procedure i, shared by both libraries (source text). */
function procedureSchemas(i: number): { input: string; output: string; result: string; read: string } {
  switch (i % 4) {
    case 0:
      return {
        input: 'z.object({ id: z.string(), n: z.number() })',
        output: 'z.object({ id: z.string(), total: z.number() })',
        result: '({ id: input.id, total: input.n + 1 })',
        read: 'total.toFixed(0)',
      };
    case 1:
      return {
        input: 'z.object({ id: z.string(), tags: z.array(z.string()) })',
        output: 'z.object({ id: z.string(), count: z.number(), ok: z.boolean() })',
        result: '({ id: input.id, count: input.tags.length, ok: true })',
        read: 'count.toFixed(0)',
      };
    case 2:
      return {
        input: "z.object({ id: z.string(), kind: z.enum(['a', 'b']), limit: z.number().optional() })",
        output: 'z.object({ id: z.string(), items: z.array(z.object({ name: z.string() })) })',
        result: '({ id: input.id, items: [{ name: input.kind + String(input.limit ?? 0) }] })',
        read: 'items.length.toFixed(0)',
      };
    default:
      return {
        input: 'z.object({ id: z.string(), text: z.string(), at: z.number() })',
        output: 'z.object({ id: z.string(), note: z.string().nullable() })',
        result: '({ id: input.id, note: input.text.length > input.at ? input.text : null })',
        read: "note?.toUpperCase() ?? ''",
      };
  }
}

/** A literal input for procedure i, as the client writes it. */
function procedureInput(i: number): string {
  switch (i % 4) {
    case 0:
      return `{ id: 'x${i}', n: ${i} }`;
    case 1:
      return `{ id: 'x${i}', tags: ['t'] }`;
    case 2:
      return `{ id: 'x${i}', kind: 'a' }`;
    default:
      return `{ id: 'x${i}', text: 'hi', at: ${i} }`;
  }
}

const EVENT_PAYLOAD = 'z.object({ seq: z.number(), text: z.string(), at: z.number() })';
const EVENT_PARAMS = 'z.object({ room: z.string() })';
const hasParams = (j: number): boolean => j % 2 === 1;

/** Events: N/10 (at least 1), e0, e1, ... */
function eventCount(procedures: number): number {
  return Math.max(1, Math.floor(procedures / 10));
}

/** The procedures the client calls: spread over the contract, 100 or all. */
function calledProcedures(procedures: number): number[] {
  const count = Math.min(CALLED, procedures);
  return Array.from({ length: count }, (_, k) => Math.floor((k * procedures) / count));
}

function tsconfig(files: string[]): string {
  // The repository's settings (tsconfig.base.json), without its source condition: the packages
  // resolve to their built .d.ts, as an app installing them from npm gets them.
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'],
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noUncheckedIndexedAccess: true,
        isolatedModules: true,
        verbatimModuleSyntax: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      files,
    },
    null,
    2,
  )}\n`;
}

function wirecallContract(procedures: number): string {
  const lines = [
    "import { defineContract } from '@wirecall/core';",
    "import { z } from 'zod';",
    '',
    'export const api = defineContract({',
    '  procedures: {',
  ];
  for (let i = 0; i < procedures; i++) {
    const { input, output } = procedureSchemas(i);
    lines.push(`    p${i}: { input: ${input}, output: ${output} },`);
  }
  lines.push('  },', '  events: {');
  for (let j = 0; j < eventCount(procedures); j++) {
    lines.push(
      hasParams(j)
        ? `    e${j}: { payload: ${EVENT_PAYLOAD}, params: ${EVENT_PARAMS} },`
        : `    e${j}: { payload: ${EVENT_PAYLOAD} },`,
    );
  }
  lines.push('  },', '});', '');
  return lines.join('\n');
}

function wirecallServer(procedures: number): string {
  const lines = [
    "import { createServer } from '@wirecall/server';",
    "import { api } from './contract.js';",
    '',
    'export const server = createServer(api, {',
    '  handlers: {',
  ];
  for (let i = 0; i < procedures; i++) lines.push(`    p${i}: ({ input }) => ${procedureSchemas(i).result},`);
  lines.push('  },', '});', '', 'export async function emitAll(seq: number): Promise<void> {');
  for (let j = 0; j < eventCount(procedures); j++) {
    lines.push(
      hasParams(j)
        ? `  await server.emit('e${j}', { seq, text: 'e${j}', at: Date.now() }, { params: { room: 'r' } });`
        : `  await server.emit('e${j}', { seq, text: 'e${j}', at: Date.now() });`,
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}

function wirecallClient(procedures: number, typeError: boolean): string {
  const lines = [
    "import { createClient } from '@wirecall/client';",
    "import { api } from './contract.js';",
    '',
    "const client = createClient(api, { url: 'ws://127.0.0.1:3000' });",
    '',
    'export async function callAll(): Promise<string[]> {',
    '  const out: string[] = [];',
  ];
  for (const i of calledProcedures(procedures)) {
    lines.push(`  out.push((await client.call.p${i}(${procedureInput(i)})).${procedureSchemas(i).read});`);
  }
  if (typeError) lines.push("  out.push((await client.call.p0({ id: 1, n: 'not a number' })).total);");
  lines.push('  return out;', '}', '', 'export function subscribeAll(seen: number[]): (() => void)[] {', '  return [');
  for (let j = 0; j < eventCount(procedures); j++) {
    lines.push(
      hasParams(j)
        ? `    client.on('e${j}', { room: 'r' }, (payload) => seen.push(payload.seq + payload.text.length)),`
        : `    client.on('e${j}', (payload) => seen.push(payload.seq + payload.at)),`,
    );
  }
  lines.push('  ];', '}', '');
  return lines.join('\n');
}

function trpcRouter(procedures: number): string {
  const lines = [
    "import { EventEmitter, on } from 'node:events';",
    "import { initTRPC } from '@trpc/server';",
    "import { z } from 'zod';",
    '',
    'const t = initTRPC.create();',
    'export const events = new EventEmitter();',
    '',
    'export const appRouter = t.router({',
  ];
  for (let i = 0; i < procedures; i++) {
    const { input, output, result } = procedureSchemas(i);
    // Half queries, half mutations, as an app has both; each with its input and output schema,
    // like wirecall's contract.
    const kind = i % 2 === 0 ? 'query' : 'mutation';
    lines.push(`  p${i}: t.procedure.input(${input}).output(${output}).${kind}(({ input }) => ${result}),`);
  }
  for (let j = 0; j < eventCount(procedures); j++) {
    // Events as v11 async-generator subscriptions (the pattern of tRPC's docs), the payload checked
    // by the same schema; params as the subscription's input.
    const input = hasParams(j) ? `.input(${EVENT_PARAMS})` : '';
    const filter = hasParams(j) ? 'if (payload.room !== input.room) continue; ' : '';
    lines.push(
      `  e${j}: t.procedure${input}.subscription(async function* ({ ${hasParams(j) ? 'input, ' : ''}signal }) {`,
      `    for await (const [payload] of on(events, 'e${j}', { signal })) { ${filter}yield ${EVENT_PAYLOAD}.parse(payload); }`,
      '  }),',
    );
  }
  lines.push('});', '', 'export type AppRouter = typeof appRouter;', '');
  return lines.join('\n');
}

function trpcClient(procedures: number, typeError: boolean): string {
  const lines = [
    "import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';",
    "import type { AppRouter } from './router.js';",
    '',
    "const wsClient = createWSClient({ url: 'ws://127.0.0.1:3000' });",
    'const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });',
    '',
    'export async function callAll(): Promise<string[]> {',
    '  const out: string[] = [];',
  ];
  for (const i of calledProcedures(procedures)) {
    const kind = i % 2 === 0 ? 'query' : 'mutate';
    lines.push(`  out.push((await client.p${i}.${kind}(${procedureInput(i)})).${procedureSchemas(i).read});`);
  }
  if (typeError) lines.push("  out.push((await client.p0.query({ id: 1, n: 'not a number' })).total);");
  lines.push('  return out;', '}', '', 'export function subscribeAll(seen: number[]): { unsubscribe(): void }[] {');
  lines.push('  return [');
  for (let j = 0; j < eventCount(procedures); j++) {
    lines.push(
      hasParams(j)
        ? `    client.e${j}.subscribe({ room: 'r' }, { onData: (payload) => seen.push(payload.seq + payload.text.length) }),`
        : `    client.e${j}.subscribe(undefined, { onData: (payload) => seen.push(payload.seq + payload.at) }),`,
    );
  }
  lines.push('  ];', '}', '');
  return lines.join('\n');
}

/** Writes the projects; returns where each one's tsconfig.json is. */
export function generate(options: GenerateOptions): GeneratedProject[] {
  const { procedures } = options;
  if (!Number.isInteger(procedures) || procedures < 1) throw new Error(`procedures must be a positive integer`);
  const dir = options.dir ?? mkdtempSync(join(os.tmpdir(), `wirecall-types-${procedures}-`));
  mkdirSync(dir, { recursive: true });
  // Packages resolve through the repository's node_modules: @wirecall/* are its workspace links,
  // whose exports point the import condition at dist/*.d.ts.
  rmSync(join(dir, 'node_modules'), { force: true });
  symlinkSync(join(ROOT_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  const projects: GeneratedProject[] = [];
  const typeError = options.typeError ?? false;
  for (const library of options.libraries ?? LIBRARIES) {
    const projectDir = join(dir, library);
    rmSync(projectDir, { recursive: true, force: true });
    mkdirSync(projectDir, { recursive: true });
    let files: string[];
    if (library === 'wirecall') {
      writeFileSync(join(projectDir, 'contract.ts'), wirecallContract(procedures));
      writeFileSync(join(projectDir, 'server.ts'), wirecallServer(procedures));
      writeFileSync(join(projectDir, 'client.ts'), wirecallClient(procedures, typeError));
      files = (options.wirecallParts ?? WIRECALL_PARTS).map((part) => `${part}.ts`);
    } else {
      writeFileSync(join(projectDir, 'router.ts'), trpcRouter(procedures));
      writeFileSync(join(projectDir, 'client.ts'), trpcClient(procedures, typeError));
      files = ['router.ts', 'client.ts'];
    }
    writeFileSync(join(projectDir, 'tsconfig.json'), tsconfig(files));
    projects.push({ library, dir: projectDir, tsconfig: join(projectDir, 'tsconfig.json') });
  }
  return projects;
}

function parseCli(argv: readonly string[]): GenerateOptions {
  const options: GenerateOptions = { procedures: 400 };
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2) as [string, string?];
    if (flag === '--procedures') options.procedures = Number(value);
    else if (flag === '--out') options.dir = resolve(value);
    else if (flag === '--only') options.libraries = value.split(',').filter(Boolean) as Library[];
    else if (flag === '--parts') options.wirecallParts = value.split(',').filter(Boolean) as WirecallPart[];
    else if (flag === '--error') options.typeError = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const project of generate(parseCli(process.argv.slice(2))))
    console.log(`${project.library}: ${project.tsconfig}`);
}
