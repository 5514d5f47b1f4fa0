/**
 * The quickstart client: connects to the URL given as its first argument, makes a few typed calls,
 * shows a typed error, prints five ticks and a chat message, then closes.
 *
 *   npx tsx src/client.ts ws://127.0.0.1:3000
 */
import { createClient, isWirecallError } from '@wirecall/client';
import { api } from './contract.js';

const url = process.argv[2];
if (url === undefined) {
  console.error('usage: tsx src/client.ts <ws://host:port>');
  process.exit(2);
}

const client = createClient(api, { url });
client.onStateChange(({ previous, state }) => console.log(`state ${previous} -> ${state}`));

// Calls made before the socket is open wait for it. Inputs and outputs are typed by the contract.
const sum = await client.call.add({ a: 1, b: 2 });
console.log(`add(1, 2) = ${sum}`);

// Many calls in flight on one socket at once; each settles with its own result.
const sums = await Promise.all([10, 20, 30].map((n) => client.call.add({ a: n, b: n })));
console.log(`add in parallel = ${sums.join(', ')}`);

// Per-call options: a deadline (the server's handler sees it too) and an AbortSignal.
const controller = new AbortController();
const user = await client.call.getUser({ id: 'u1' }, { timeoutMs: 5_000, signal: controller.signal });
console.log(
  `getUser(u1) = ${user.name}, created ${user.createdAt.toISOString()} (a Date: ${user.createdAt instanceof Date})`,
);

// A handler's WirecallError arrives as a WirecallError with the same code.
try {
  await client.call.getUser({ id: 'nobody' });
} catch (error) {
  if (!isWirecallError(error)) throw error;
  console.log(`error ${error.code}: ${error.message}`);
}

// Subscriptions: `tick` has no params; `chatMessage` picks its stream by room.
const TICKS = 5;
const watchdog = setTimeout(() => {
  console.error('no events within 10 s; is the server emitting?');
  process.exit(1);
}, 10_000);
await new Promise<void>((resolve) => {
  let ticks = 0;
  let chats = 0;
  const done = (): void => {
    if (ticks < TICKS || chats < 1) return;
    offTick();
    offChat();
    resolve();
  };
  const offTick = client.on('tick', (tick, meta) => {
    if (ticks >= TICKS) return;
    ticks++;
    console.log(`tick ${tick.seq} at ${tick.at.toISOString()} (event ${meta.id})`);
    done();
  });
  const offChat = client.on('chatMessage', { room: 'a' }, (message) => {
    if (chats++ === 0) console.log(`chat [${message.room}] ${message.text} at ${message.at.toISOString()}`);
    done();
  });
});

clearTimeout(watchdog);
await client.close();
