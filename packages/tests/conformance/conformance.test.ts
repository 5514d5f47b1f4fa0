/**
 * The language-neutral conformance suite (`conformance/` at the repository root), run against the
 * reference server over real sockets: one test per vector, then the value and fingerprint vectors
 * against the server's encoder and decoder and core's fingerprint, and a check that the generated files are
 * what `conformance/generate-values.ts` would write today.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { WireValue } from '@wirecall/core/internal';
import { decodeValue, encodeValue } from '@wirecall/core/internal';
import type { Logger } from '@wirecall/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceApi } from '../../../conformance/contract.js';
import { FINGERPRINT_CASES, fingerprintOf, fingerprintText } from '../../../conformance/fingerprints.js';
import { comparable, generatedFiles, readGenerated } from '../../../conformance/generate-values.js';
import { startReferenceServer, type ReferenceServer } from '../../../conformance/reference-server.js';
import { CONFORMANCE_DIR, loadVectors, runVector, type Vector } from '../../../conformance/runner.js';
import { describeValue, VALUE_CASES } from '../../../conformance/values.js';

interface ValuesFile {
  cases: { name: string; note: string; describe: string; wire: WireValue }[];
}
interface FingerprintsFile {
  hashes: { text: string; fingerprint: string }[];
  conformance: { fingerprint: string; canonical: string };
  contracts: { name: string; fingerprint: string; canonical: string }[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(CONFORMANCE_DIR, file), 'utf8')) as T;
const valuesFile = readJson<ValuesFile>('values.json');
const fingerprintsFile = readJson<FingerprintsFile>('fingerprints.json');

/** The slowest vector waits about 0.5 s; each `expect` gives up after 2 s. */
const VECTOR_TIMEOUT_MS = 10_000;

/** Vectors by area (the part of the name before the slash), in file order. */
function byArea(vectors: Vector[]): Map<string, Vector[]> {
  const areas = new Map<string, Vector[]>();
  for (const vector of vectors) {
    const area = vector.name.split('/')[0]!;
    areas.set(area, [...(areas.get(area) ?? []), vector]);
  }
  return areas;
}

/** The handlers fail on purpose (INTERNAL, refused contexts): the server's log is kept, not printed. */
const logged: { level: string; message: string | undefined }[] = [];
const keepLog =
  (level: string) =>
  (_details: object, message?: string): void => {
    logged.push({ level, message });
  };
const logger: Logger = {
  error: keepLog('error'),
  warn: keepLog('warn'),
  info: keepLog('info'),
  debug: keepLog('debug'),
};

describe('conformance vectors against the reference server', () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    server = await startReferenceServer({ logger });
  });
  afterAll(async () => {
    await server.close();
  });

  it('the vectors target the contract the reference server serves', () => {
    expect(fingerprintsFile.conformance.fingerprint).toBe(conformanceApi.fingerprint);
  });

  for (const [area, vectors] of byArea(loadVectors())) {
    describe(area, () => {
      for (const vector of vectors) {
        it(
          vector.name.slice(area.length + 1),
          async () => {
            await runVector(vector, { baseUrl: server.url, fingerprint: fingerprintsFile.conformance.fingerprint });
          },
          VECTOR_TIMEOUT_MS,
        );
      }
    });
  }
});

describe('values.json against the server’s value codec', () => {
  it('has one entry per case of values.ts, in order', () => {
    expect(valuesFile.cases.map((entry) => entry.name)).toEqual(VALUE_CASES.map((entry) => entry.name));
  });

  for (const { name, value } of VALUE_CASES) {
    it(`${name}: encodeValue gives the wire form, decodeValue gives the value back`, () => {
      const entry = valuesFile.cases.find((candidate) => candidate.name === name)!;
      expect(JSON.parse(JSON.stringify(encodeValue(value)))).toEqual(entry.wire);
      // decodeValue works in place on a fresh JSON.parse result, as it does on a frame.
      const decoded = decodeValue(JSON.parse(JSON.stringify(entry.wire)) as WireValue);
      expect(decoded).toStrictEqual(value);
      expect(describeValue(decoded)).toBe(entry.describe);
    });
  }
});

describe('fingerprints.json against core', () => {
  it.each(fingerprintsFile.hashes)('the hash of $text is $fingerprint', ({ text, fingerprint }) => {
    expect(fingerprintOf(text)).toBe(fingerprint);
  });

  it('the conformance contract: its canonical text hashes to its fingerprint', () => {
    const { canonical, fingerprint } = fingerprintsFile.conformance;
    expect(fingerprintText(conformanceApi)).toBe(canonical);
    expect(fingerprintOf(canonical)).toBe(fingerprint);
  });

  for (const { name, build } of FINGERPRINT_CASES) {
    it(`${name}: core's fingerprint, and the hash of the canonical text`, () => {
      const entry = fingerprintsFile.contracts.find((candidate) => candidate.name === name)!;
      const contract = build();
      expect(contract.fingerprint).toBe(entry.fingerprint);
      expect(fingerprintText(contract)).toBe(entry.canonical);
      expect(fingerprintOf(entry.canonical)).toBe(entry.fingerprint);
    });
  }

  it('tells every small contract apart', () => {
    const fingerprints = fingerprintsFile.contracts.map((entry) => entry.fingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });
});

describe('generated files', () => {
  it.each(generatedFiles().map(({ file, value }) => ({ file: path.relative(CONFORMANCE_DIR, file), value })))(
    '$file is up to date (node --conditions=@wirecall/source --import tsx conformance/generate-values.ts)',
    ({ file, value }) => {
      expect(comparable(readGenerated(path.join(CONFORMANCE_DIR, file)))).toEqual(comparable(value));
    },
  );
});
