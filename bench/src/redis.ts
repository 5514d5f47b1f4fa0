/**
 * Just enough of the Redis protocol for the orchestrator: is Redis there (PING), and delete the
 * keys a run created (DEL). Speaks RESP over a plain socket, so the benchmark needs no Redis client
 * of its own (the wirecall nodes use ioredis through @wirecall/server/redis).
 */
import { connect } from 'node:net';

/**
 * Sends `commands` (after AUTH / SELECT from the URL) and resolves with one reply line per command:
 * `+PONG`, `:1`, `-ERR ...`. Handles only single-line replies, which is all PING and DEL give.
 */
export function redisCommands(url: string, commands: readonly string[][], timeoutMs = 2_000): Promise<string[]> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:')
    return Promise.reject(new Error(`only redis:// URLs are supported, not ${parsed.protocol}`));
  const preamble: string[][] = [];
  if (parsed.password) {
    const password = decodeURIComponent(parsed.password);
    preamble.push(parsed.username ? ['AUTH', decodeURIComponent(parsed.username), password] : ['AUTH', password]);
  }
  const db = parsed.pathname.slice(1);
  if (db !== '') preamble.push(['SELECT', db]);
  const all = [...preamble, ...commands];
  const payload = all
    .map((args) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 6379) });
    const timer = setTimeout(() => fail(new Error(`no answer from ${parsed.host} within ${timeoutMs} ms`)), timeoutMs);
    let buffered = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(payload));
    socket.on('error', fail);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\r\n').slice(0, -1);
      if (lines.length < all.length) return;
      clearTimeout(timer);
      socket.end();
      const failedPreamble = lines.slice(0, preamble.length).find((line) => line.startsWith('-'));
      if (failedPreamble) reject(new Error(failedPreamble.slice(1)));
      else resolve(lines.slice(preamble.length, all.length));
    });
  });
}

/** Whether Redis at `url` answers PING; the reason when it does not. */
export async function redisAvailable(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const [reply] = await redisCommands(url, [['PING']]);
    return reply === '+PONG' ? { ok: true } : { ok: false, reason: `PING answered ${reply}` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
