// API reports: one api/<name>.api.md per public entry point, made by API Extractor from the built
// .d.ts (run `npm run build` first). Every `exports` entry of the published packages gets one,
// named <package> for "." and <package>-<subpath> otherwise (api/server-redis.api.md).
//
//   node scripts/api-report.mjs           check: fails when a report differs, is missing or is stale
//   node scripts/api-report.mjs --update  writes the reports (commit them with the API change)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['packages/core', 'packages/server', 'packages/client', 'packages/react'];
const reportFolder = path.join(root, 'api');
const tempFolder = path.join(root, 'node_modules/.cache/api-report');
const update = process.argv.includes('--update');

/** Each entry point's ESM declaration file, from the package's `exports` map. */
function entryPoints() {
  const entries = [];
  for (const dir of packages) {
    const packageJsonPath = path.join(root, dir, 'package.json');
    const packageJson = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
    const unscoped = packageJson.name.replace(/^@[^/]+\//, '');
    for (const [subpath, target] of Object.entries(packageJson.exports)) {
      const types = target?.import?.types;
      if (typeof types !== 'string') continue; // ./package.json
      const name = subpath === '.' ? unscoped : `${unscoped}-${subpath.slice(2).replaceAll('/', '-')}`;
      const dts = path.join(root, dir, types);
      entries.push({
        name,
        specifier: `${packageJson.name}${subpath.slice(1)}`,
        dir,
        dts,
        packageJson,
        packageJsonPath,
      });
    }
  }
  return entries;
}

/** The config of one entry point: an API report only (no doc model, no .d.ts rollup). */
function prepare(entry, allDts) {
  return ExtractorConfig.prepare({
    configObjectFullPath: undefined,
    packageJsonFullPath: entry.packageJsonPath,
    packageJson: entry.packageJson,
    configObject: {
      projectFolder: path.join(root, entry.dir),
      mainEntryPointFilePath: entry.dts,
      newlineKind: 'lf',
      compiler: {
        // The built declarations as a consumer resolves them: @wirecall/* through their `exports`
        // (dist), not the @wirecall/source condition the repo's tsconfig uses.
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023', 'DOM'],
            module: 'ESNext',
            moduleResolution: 'Bundler',
            strict: true,
            types: ['node'],
            // tsup's declaration build and check:packages already type-check these files; checking
            // them again with every dependency's .d.ts (zod, ioredis, @types/node) costs ~10 s.
            skipLibCheck: true,
          },
          files: allDts,
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: entry.name,
        reportFolder,
        reportTempFolder: tempFolder,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning },
          // No release tags (@public/@beta) in this project: everything exported is public.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          // Undocumented members are marked `(undocumented)` in the report; no console noise.
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
          // {@link} to a name the entry point does not export: a doc matter, not an API one.
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None },
          // Types users reach (a parameter, a return type) but cannot import by name: written into
          // the report as `// Warning: (ae-forgotten-export)`, so they show in its diff.
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        },
        // The comments are prose, not TSDoc.
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
  });
}

const entries = entryPoints();
const missing = entries.filter((entry) => !existsSync(entry.dts));
if (missing.length > 0) {
  for (const entry of missing) console.error(`Missing ${path.relative(root, entry.dts)} (${entry.specifier}).`);
  console.error('Run `npm run build` first.');
  process.exit(1);
}

mkdirSync(reportFolder, { recursive: true });
mkdirSync(tempFolder, { recursive: true });
const allDts = entries.map((entry) => entry.dts);
const configs = entries.map((entry) => prepare(entry, allDts));
// One TypeScript program for every entry point: the packages' declarations load once.
const compilerState = CompilerState.create(configs[0], { additionalEntryPoints: allDts });

const quiet = new Set(['console-api-report-not-copied', 'console-api-report-copied', 'console-api-report-created']);
const quietLevels = new Set([ExtractorLogLevel.Info, ExtractorLogLevel.Verbose]);
const failures = [];
for (const [index, entry] of entries.entries()) {
  const report = `api/${entry.name}.api.md`;
  const result = Extractor.invoke(configs[index], {
    localBuild: update,
    compilerState,
    printApiReportDiff: !update,
    messageCallback(message) {
      // Keep the output to what needs attention: API Extractor's progress lines and its advice to
      // copy files go (this script says what to do); the diff of a changed report stays.
      if (message.messageId === 'console-api-report-diff') {
        console.log(message.text);
        message.handled = true;
      } else if (quiet.has(message.messageId) || quietLevels.has(message.logLevel)) {
        message.logLevel = ExtractorLogLevel.None;
        message.handled = true;
      }
    },
  });
  if (!result.succeeded || (!update && result.apiReportChanged)) {
    failures.push({ entry, report, changed: result.apiReportChanged });
    console.log(`✗ ${entry.specifier}: ${report}`);
  } else if (result.apiReportChanged) {
    console.log(`↻ ${entry.specifier}: ${report} updated`);
  } else {
    console.log(`✓ ${entry.specifier}: ${report}`);
  }
}

// A report whose entry point is gone (removed or renamed) is a public change too.
const expected = new Set(entries.map((entry) => `${entry.name}.api.md`));
const stale = readdirSync(reportFolder).filter((file) => file.endsWith('.api.md') && !expected.has(file));
for (const file of stale) {
  if (update) {
    rmSync(path.join(reportFolder, file));
    console.log(`↻ api/${file} removed (no such entry point)`);
  } else {
    console.log(`✗ api/${file}: no entry point has this report any more`);
  }
}

if (!update && (failures.length > 0 || stale.length > 0)) {
  console.error('\nThe public API differs from the committed reports:');
  for (const { entry, report, changed } of failures) {
    const actual = path.relative(root, path.join(tempFolder, `${entry.name}.api.md`));
    const committed = existsSync(path.join(root, report));
    const reason = !changed
      ? 'see the messages above'
      : committed
        ? `${report} (committed) vs ${actual} (this build)`
        : `${report} is missing; this build's is ${actual}`;
    console.error(`  ${entry.specifier}: ${reason}`);
  }
  for (const file of stale) console.error(`  api/${file}: stale`);
  console.error(
    '\nIf the change is intended, run `npm run api:update` and commit the api/ diff with it; if not, fix the exports.',
  );
  process.exit(1);
}
if (update && failures.length > 0) {
  console.error(`\n${failures.length} entry point(s) failed; see the messages above.`);
  process.exit(1);
}
