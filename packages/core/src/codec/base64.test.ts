import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Base64 from './base64.js';
import { base64ToBytes, bytesToBase64 } from './base64.js';

type Base64Module = typeof Base64;

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

/** The module as a browser sees it: loaded while the runtime has no `Buffer`. */
async function loadWithoutBuffer(): Promise<Base64Module> {
  vi.resetModules();
  vi.stubGlobal('Buffer', undefined);
  try {
    return await import('./base64.js');
  } finally {
    vi.unstubAllGlobals();
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const implementations: [string, () => Promise<Base64Module>][] = [
  ['with Buffer (Node)', () => Promise.resolve({ base64ToBytes, bytesToBase64 })],
  ['without Buffer (browser)', loadWithoutBuffer],
];

describe.each(implementations)('base64 %s', (_label, load) => {
  it('encodes known vectors (RFC 4648 section 10)', async () => {
    const { bytesToBase64: encode } = await load();
    const text = new TextEncoder();
    expect(encode(text.encode(''))).toBe('');
    expect(encode(text.encode('f'))).toBe('Zg==');
    expect(encode(text.encode('fo'))).toBe('Zm8=');
    expect(encode(text.encode('foo'))).toBe('Zm9v');
    expect(encode(text.encode('foob'))).toBe('Zm9vYg==');
    expect(encode(text.encode('fooba'))).toBe('Zm9vYmE=');
    expect(encode(text.encode('foobar'))).toBe('Zm9vYmFy');
  });

  it('round-trips every byte value', async () => {
    const { base64ToBytes: decode, bytesToBase64: encode } = await load();
    const text = encode(allBytes);
    expect(text).toBe(Buffer.from(allBytes).toString('base64'));
    expect(decode(text)).toEqual(allBytes);
  });

  it('round-trips more bytes than one String.fromCharCode chunk', async () => {
    const { base64ToBytes: decode, bytesToBase64: encode } = await load();
    const big = Uint8Array.from({ length: 0x8000 * 2 + 3 }, (_, i) => (i * 31) % 256);
    const back = decode(encode(big));
    // Buffer.equals: toEqual on 64 KiB element by element is slow.
    expect(back.length).toBe(big.length);
    expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
  });

  it('encodes only the bytes of a view', async () => {
    const { bytesToBase64: encode } = await load();
    const view = new Uint8Array(new Uint8Array([7, 7, 1, 2, 3, 7]).buffer, 2, 3);
    expect(encode(view)).toBe('AQID');
  });

  it.each([
    ['a character outside the alphabet', 'AQ*D'],
    ['url-safe characters', 'AQ-_'],
    ['whitespace', 'AQ ID'],
    ['a newline', 'AQID\nAQID'],
    ['a length that is not a multiple of 4', 'AQI'],
    ['three padding characters', 'A==='],
    ['padding in the middle', 'AQ==AQID'],
    ['non-ASCII text', 'AQ\u00e9D'],
  ])('refuses %s', async (_case, text) => {
    const { base64ToBytes: decode } = await load();
    expect(() => decode(text)).toThrow(new TypeError('invalid base64'));
  });

  it('decodes padded input', async () => {
    const { base64ToBytes: decode } = await load();
    expect(decode('Zg==')).toEqual(new Uint8Array([0x66]));
    expect(decode('Zm8=')).toEqual(new Uint8Array([0x66, 0x6f]));
    expect(decode('')).toEqual(new Uint8Array(0));
  });
});

describe('base64 without Buffer', () => {
  it('falls back to btoa and atob', async () => {
    const btoa = vi.spyOn(globalThis, 'btoa');
    const atob = vi.spyOn(globalThis, 'atob');
    try {
      const { base64ToBytes: decode, bytesToBase64: encode } = await loadWithoutBuffer();
      expect(encode(new Uint8Array([1, 2, 3]))).toBe('AQID');
      expect(decode('AQID')).toEqual(new Uint8Array([1, 2, 3]));
      expect(btoa).toHaveBeenCalledTimes(1);
      expect(atob).toHaveBeenCalledTimes(1);
    } finally {
      btoa.mockRestore();
      atob.mockRestore();
    }
  });
});

describe('base64ToBytes result', () => {
  it('is a plain Uint8Array that owns its memory, not a view into a Buffer pool', () => {
    const bytes = base64ToBytes('AQID');
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(3);
  });
});
