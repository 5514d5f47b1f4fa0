/**
 * The quickstart server. Listens on 127.0.0.1 and the port in $PORT (any free port when unset),
 * prints `listening <url>` as its first line of output, pushes a `tick` every 200 ms and a
 * `chatMessage` to room "a" every third tick, and shuts down cleanly on SIGTERM or SIGINT.
 *
 *   npx tsx src/server.ts
 */
import { createServer, WirecallError } from '@wirecall/server';
import { api, type User } from './contract.js';

const users = new Map<string, User>([
  ['u1', { id: 'u1', name: 'Ada', createdAt: new Date(Date.UTC(2024, 0, 15, 9, 30)) }],
  ['u2', { id: 'u2', name: 'Grace', createdAt: new Date(Date.UTC(2024, 5, 1, 17, 0)) }],
]);

const server = createServer(api, {
  // Runs once per connection, when its `hello` has arrived; what it returns is every handler's `ctx`.
  context: ({ request }) => ({ remoteAddress: request.socket.remoteAddress ?? 'unknown' }),
  handlers: {
    add: ({ input }) => input.a + input.b,
    getUser: ({ input, ctx }) => {
      const user = users.get(input.id);
      console.log(`getUser ${input.id} from ${ctx.remoteAddress}: ${user ? 'found' : 'not found'}`);
      // A WirecallError reaches the caller with its code and message; anything else becomes INTERNAL.
      if (user === undefined) throw new WirecallError('NOT_FOUND', `no user with id ${input.id}`);
      return user;
    },
  },
});

const { url } = await server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`listening ${url}`);

let seq = 0;
const ticker = setInterval(() => {
  seq++;
  const at = new Date();
  // emit() validates the payload against the contract and throws synchronously if it does not match.
  void server.emit('tick', { seq, at });
  if (seq % 3 === 0) {
    void server.emit('chatMessage', { room: 'a', text: `tick ${seq} says hi`, at }, { params: { room: 'a' } });
  }
}, 200);

let closing = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  // A second signal (Ctrl-C reaches the whole process group, then the runner sends SIGTERM) is ignored.
  if (closing) return;
  closing = true;
  clearInterval(ticker);
  console.log(`${signal}: closing`);
  // Lets in-flight calls finish (up to graceMs), then closes every connection with 1001. Nothing
  // is left to keep the process alive afterwards, so it exits by itself.
  await server.close({ graceMs: 1_000 });
  console.log('closed');
}

process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));
