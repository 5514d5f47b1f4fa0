import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsBroker, type NatsBroker } from '@wirecall/server/nats';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closing, unusedPort } from '../helpers/chaos-kit.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { inCi } from './helpers/redis.js';
import { clusterApi } from './helpers/cluster-api.js';
import { checkSequence, perfectSequence } from './helpers/sequence.js';

/**
 * A NATS outage, on a nats-server of the test's own (JetStream on disk, so its history survives a
 * restart): emits reject at once while it is down, calls keep working, and once it is back the
 * subscribers get every event that was published, once and in order.
 */
const binary = spawnSync('nats-server', ['--version']).status === 0;
if (!binary && inCi()) throw new Error('nats-server is not installed; CI is set, so this fails instead of skipping');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A nats-server with JetStream on `port`, its store in `dir`; resolves once it accepts connections. */
async function startNats(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer): void => {
      output += data.toString();
      if (output.includes('Server is ready')) resolve();
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`nats-server exited:\n${output}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!binary)('NATS broker through a NATS outage', () => {
  it('rejects emits while NATS is down, keeps calls working, and delivers everything published once it is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wirecall-nats-'));
    const port = await unusedPort();
    let nats = await startNats(port, dir);
    cleanups.push(async () => {
      await stop(nats);
      await rm(dir, { recursive: true, force: true });
    });
    const brokers: NatsBroker[] = [];
    const node = async (name: string) => {
      const broker = natsBroker({ servers: `127.0.0.1:${port}`, prefix: 'outage' });
      brokers.push(broker);
      await broker.ready();
      cleanups.push(() => broker.close());
      const server = await startTestServer(clusterApi, {
        broker,
        handlers: { whoami: () => name, ping: ({ input }) => input, charge: () => 0 },
      });
      cleanups.push(() => server.server.close({ graceMs: 0 }));
      return server;
    };
    const emitter = await node('emitter');
    const relay = await node('relay');
    await using client = closing(connectClient(clusterApi, relay.url));
    const seqs: number[] = [];
    let gaps = 0;
    client.on('tick', { room: 'o' }, (tick) => seqs.push(tick.seq), { onGap: () => gaps++ });
    await vi.waitFor(() => expect(relay.server.stats().subscriptions).toBe(1));
    const emit = (seq: number) => emitter.server.emit('tick', { room: 'o', seq }, { params: { room: 'o' } });
    for (let seq = 1; seq <= 10; seq++) await emit(seq);
    await vi.waitFor(() => expect(seqs).toHaveLength(10));

    await stop(nats);
    await vi.waitFor(() => expect(emitter.server.stats().broker.connected).toBe(false), { timeout: 10_000 });
    await expect(emit(99)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await client.call.ping(7)).toBe(7);

    nats = await startNats(port, dir);
    await vi.waitFor(() => expect(emitter.server.stats().broker.connected).toBe(true), { timeout: 15_000 });
    for (let seq = 11; seq <= 20; seq++) await emit(seq);
    await vi.waitFor(() => expect(seqs).toHaveLength(20), { timeout: 15_000 });
    expect(checkSequence(seqs, 20)).toEqual(perfectSequence(20));
    expect(gaps).toBe(0);
  }, 60_000);
});
