/**
 * The chat server: one node:http server that serves the built page and, on `/ws`, the wirecall
 * contract. Messages live in memory (the last ones per room, for `history`), and so does the
 * broker's event history the pages resume from after a dropped connection: a restart loses both,
 * which the pages report as a gap.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, WirecallError, type Logger, type WirecallServer } from '@wirecall/server';
import { api, ROOMS, type Api, type Message, type Room } from '../contract.js';
import { serveStatic } from './static-files.js';

/** Messages kept per room for `history`. */
const KEPT_PER_ROOM = 200;
/** How long the bot takes per word of its answer. */
const BOT_WORD_MS = 40;

/** The bot's canned answer: long enough to watch it stream. */
function botAnswer(question: string): string {
  return `You asked: "${question}". This answer streams to your page one word at a time, under flow control, and lands in the room once it is complete.`;
}

/**
 * Waits `ms`, or rejects with the signal's reason when the caller gives up. The abort listener goes
 * when the wait ends: one stream pauses once per word on the same signal, and listeners left behind
 * would pile up on it (Node warns past ten).
 */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ChatServerOptions {
  /** The built front-end (Vite's outDir). */
  distDir: string;
  /**
   * Origins allowed to open the WebSocket, besides this server's own (`http://127.0.0.1:<port>` and
   * `http://localhost:<port>`), e.g. the address it is reached at behind a proxy.
   */
  extraOrigins?: readonly string[];
  logger?: Logger;
}

export interface ChatServer {
  readonly http: HttpServer;
  readonly wirecall: WirecallServer<Api>;
  /** Listens on `port` (0: any free port) and resolves with the port. */
  listen(port: number, host: string): Promise<number>;
  /** Closes every WebSocket with 1001 (clients reconnect), then the HTTP server. */
  close(): Promise<void>;
}

export function createChatServer(options: ChatServerOptions): ChatServer {
  const rooms = new Map<Room, Message[]>(ROOMS.map((room) => [room, []]));
  /** Shared files by room and name (in memory, like the messages; the last one of a name wins). */
  const files = new Map<string, Uint8Array[]>();
  // Ids unique across restarts, so a page never confuses a message of this process with an older one.
  const boot = Date.now().toString(36);
  let sequence = 0;
  let origins = new Set<string>(options.extraOrigins);

  /** Stores a message and publishes it into the room's stream (and its history, for pages that resume). */
  async function post(input: Omit<Message, 'id' | 'at'>): Promise<Message> {
    const message: Message = { id: `${boot}-${++sequence}`, ...input, at: new Date() };
    const kept = rooms.get(input.room)!;
    kept.push(message);
    if (kept.length > KEPT_PER_ROOM) kept.splice(0, kept.length - KEPT_PER_ROOM);
    await wirecall.emit('message', message, { params: { room: input.room } });
    return message;
  }

  const http = createHttpServer(serveStatic(options.distDir));
  const wirecall = createServer(api, {
    handlers: {
      send: ({ input }) => post(input),
      history: ({ input }) => rooms.get(input.room)!.slice(-(input.limit ?? 100)),
      // The bot "thinks" one word at a time, as a model would; a page that leaves (or cancels)
      // aborts the signal and the answer stops there.
      ask: async function* ({ input, signal }) {
        let answer = '';
        for (const word of botAnswer(input.question).split(' ')) {
          await pause(BOT_WORD_MS, signal);
          const token = answer === '' ? word : ` ${word}`;
          answer += token;
          yield { token };
        }
        return post({ room: input.room, author: 'bot', text: answer.slice(0, 280) });
      },
      // The bytes arrive slice by slice, as the handler reads them; it never holds more than the
      // file's declared size (the contract bounds that), and a page that leaves cancels it.
      share: async ({ input, inputStream }) => {
        const slices: Uint8Array[] = [];
        let received = 0;
        for await (const slice of inputStream) {
          received += slice.length;
          if (received > input.size) throw new WirecallError('BAD_REQUEST', `${input.name} is larger than announced`);
          slices.push(slice);
        }
        if (received !== input.size) throw new WirecallError('BAD_REQUEST', `${input.name} ended early`);
        files.set(`${input.room}/${input.name}`, slices);
        return post({ room: input.room, author: input.author, text: `shared ${input.name} (${received} bytes)` });
      },
    },
    // A browser-facing server names the origins that may connect (cross-site WebSocket hijacking).
    allowedOrigins: (origin) => origins.has(origin),
    history: { maxEvents: 500 },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  wirecall.attach(http, { path: '/ws' });

  return {
    http,
    wirecall,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const actual = (http.address() as AddressInfo).port;
      origins = new Set([`http://127.0.0.1:${actual}`, `http://localhost:${actual}`, ...origins]);
      return actual;
    },
    async close() {
      await wirecall.close({ graceMs: 1_000 });
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
