// ARCHITECTURE.md against the tree: every package source module, test folder, example and doc page
// has its entry in the section that describes it, and no entry names something that is gone.
//
// An entry is the first code span of a table row's first cell (`| \`contract/types.ts\` | … |`) or
// of a list item (`- \`examples/chat\`: …`), in the `##` section whose heading names its place:
//
//   packages/<pkg>/src/<path>.ts  a row `<path>.ts` (or the full path) under `## … (\`packages/<pkg>\`)`
//   packages/tests/<folder>/      a row `<folder>/` or `<folder>/<file>` under `## … (\`packages/tests\` …)`
//   examples/<name>/              an entry `examples/<name>` under `## \`examples/\``
//   docs/<page>.md                an entry `<page>.md` (or `docs/<page>.md`) under `## \`docs/\``
//
// Test files (*.test.ts, *.test-d.ts) are not modules. The tree is what git tracks plus untracked
// files it does not ignore, so new modules count before anyone commits them.
//
//   node scripts/check-architecture.mjs   (npm run check:architecture; part of npm test)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = 'ARCHITECTURE.md';

/** Repository-relative paths (with `/`) of the files in the tree. */
function treeFiles() {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    // --cached still lists files deleted from the work tree but not from the index.
    return out.split('\0').filter((file) => file !== '' && existsSync(path.join(root, file)));
  } catch {
    return walk();
  }
}

/** Without git (an exported tree): every file, less dependencies, builds and the root .gitignore's folders. */
function walk() {
  const ignoredFolders = new Set(
    readFileSync(path.join(root, '.gitignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.endsWith('/') && !/[*!?[]/.test(line))
      .map((line) => line.replace(/^\/|\/$/g, '')),
  );
  const skip = (name, rel) => name.startsWith('.') || ignoredFolders.has(name) || ignoredFolders.has(rel);
  const files = [];
  const visit = (rel) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!skip(entry.name, child)) visit(child);
      } else if (entry.isFile()) {
        files.push(child);
      }
    }
  };
  for (const top of ['packages', 'examples', 'docs']) if (existsSync(path.join(root, top))) visit(top);
  return files;
}

/** What ARCHITECTURE.md must describe, read from the tree. */
function itemsOf(files) {
  const modules = new Map(); // package -> paths relative to its src/
  const testFolders = new Set();
  const examples = new Set();
  const docs = new Set();
  for (const file of files) {
    let match;
    if ((match = /^packages\/([^/]+)\/src\/(.+\.[cm]?tsx?)$/.exec(file))) {
      const [, pkg, rel] = match;
      if (/\.test(-d)?\.[cm]?tsx?$/.test(rel)) continue;
      if (!modules.has(pkg)) modules.set(pkg, new Set());
      modules.get(pkg).add(rel);
    } else if ((match = /^packages\/tests\/([^/]+)\//.exec(file))) {
      testFolders.add(match[1]);
    } else if ((match = /^examples\/([^/]+)\//.exec(file))) {
      examples.add(match[1]);
    } else if ((match = /^docs\/([^/]+\.md)$/.exec(file))) {
      docs.add(match[1]);
    }
  }
  return { modules, testFolders, examples, docs };
}

/** The `##` sections of the document: heading text and the entries listed under it. */
function sectionsOf(markdown) {
  const sections = [];
  let current;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    if (line.startsWith('## ')) {
      current = { heading: line.slice(3), entries: [] };
      sections.push(current);
      continue;
    }
    if (!current) continue;
    let first;
    if (line.startsWith('|')) {
      if (/^\|[\s:|-]+\|?\s*$/.test(line)) continue; // the separator row
      first = line.slice(1).split('|')[0];
    } else if (/^\s*[-*] /.test(line)) {
      first = line.replace(/^\s*[-*] /, '');
      if (!first.startsWith('`')) continue; // a list item that does not start with a path
    } else {
      continue;
    }
    const span = /`([^`]+)`/.exec(first);
    if (span) current.entries.push(span[1].trim());
  }
  return sections;
}

/** The section whose heading names `place` as a code span, e.g. `packages/core` or `docs/`. */
function sectionNaming(sections, place) {
  const bare = place.replace(/\/$/, '');
  return sections.find((section) =>
    [...section.heading.matchAll(/`([^`]+)`/g)].some((span) => span[1].replace(/\/$/, '') === bare),
  );
}

const markdown = readFileSync(path.join(root, DOC), 'utf8');
const sections = sectionsOf(markdown);
const files = treeFiles();
const fileSet = new Set(files);
const { modules, testFolders, examples, docs } = itemsOf(files);

const missing = []; // [section, path in the tree, the entry it needs]
const stale = []; // [section, entry]
const missingSections = [];

function requireSection(place, heading) {
  const section = sectionNaming(sections, place);
  if (!section) missingSections.push(`a section for ${place} (a heading such as "## ${heading}")`);
  return section;
}

for (const [pkg, rels] of [...modules].sort(([a], [b]) => a.localeCompare(b))) {
  const place = `packages/${pkg}`;
  const section = requireSection(place, `\`@wirecall/${pkg}\` (\`${place}\`)`);
  if (!section) continue;
  const entries = new Set(section.entries);
  for (const rel of [...rels].sort()) {
    if (!entries.has(rel) && !entries.has(`${place}/src/${rel}`)) missing.push([place, `${place}/src/${rel}`, rel]);
  }
  for (const entry of entries) {
    if (!/\.[cm]?tsx?$/.test(entry)) continue;
    const rel = entry.startsWith(`${place}/src/`) ? entry.slice(`${place}/src/`.length) : entry;
    if (!rels.has(rel)) stale.push([place, entry]);
  }
}

if (testFolders.size > 0) {
  const place = 'packages/tests';
  const section = requireSection(place, `\`@wirecall/tests\` (\`${place}\`)`);
  if (section) {
    const entries = section.entries.map((entry) => entry.replace(/^packages\/tests\//, ''));
    for (const folder of [...testFolders].sort()) {
      if (!entries.some((entry) => entry.startsWith(`${folder}/`)))
        missing.push([place, `${place}/${folder}/`, `${folder}/`]);
    }
    for (const entry of entries) {
      if (!entry.includes('/')) continue;
      const target = `${place}/${entry}`;
      const exists = entry.endsWith('/') ? files.some((file) => file.startsWith(target)) : fileSet.has(target);
      if (!exists) stale.push([place, entry]);
    }
  }
}

if (examples.size > 0) {
  const section = requireSection('examples/', '`examples/`');
  if (section) {
    const names = section.entries
      .map((entry) => (/^examples\/([^/\s]+)\/?$/.exec(entry) ?? /^([^/\s]+)\/$/.exec(entry))?.[1])
      .filter((name) => name !== undefined);
    for (const name of [...examples].sort()) {
      if (!names.includes(name)) missing.push(['examples/', `examples/${name}/`, `examples/${name}`]);
    }
    for (const name of names) if (!examples.has(name)) stale.push(['examples/', `examples/${name}`]);
  }
}

if (docs.size > 0) {
  const section = requireSection('docs/', '`docs/`');
  if (section) {
    const pages = section.entries.filter((entry) => entry.endsWith('.md')).map((entry) => entry.replace(/^docs\//, ''));
    for (const page of [...docs].sort()) {
      if (!pages.includes(page)) missing.push(['docs/', `docs/${page}`, page]);
    }
    for (const page of pages) if (!docs.has(page)) stale.push(['docs/', `docs/${page}`]);
  }
}

if (missingSections.length === 0 && missing.length === 0 && stale.length === 0) {
  const perPackage = [...modules]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pkg, rels]) => `${pkg} ${rels.size}`)
    .join(', ');
  const moduleCount = [...modules.values()].reduce((sum, rels) => sum + rels.size, 0);
  console.log(
    `${DOC} describes the tree: ${moduleCount} source modules (${perPackage}), ${testFolders.size} test folders, ` +
      `${examples.size} examples, ${docs.size} doc pages.`,
  );
} else {
  console.error(`${DOC} does not match the tree.`);
  if (missingSections.length > 0) {
    console.error(`\nMissing sections:`);
    for (const text of missingSections) console.error(`  - ${text}`);
  }
  if (missing.length > 0) {
    console.error(`\nNot described (add an entry, a table row or list item starting with the code span shown):`);
    for (const [place, file, entry] of missing) console.error(`  - ${file}: \`${entry}\` in the ${place} section`);
  }
  if (stale.length > 0) {
    console.error(`\nDescribed but not in the tree (renamed or removed? update or drop the entry):`);
    for (const [place, entry] of stale) console.error(`  - \`${entry}\` in the ${place} section`);
  }
  process.exit(1);
}
