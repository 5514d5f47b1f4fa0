import type { StateChange } from '@wirecall/client';
import { describe, expect, it } from 'vitest';
import {
  backoffCap,
  chaosSeed,
  documentedBackoff,
  mulberry32,
  nextState,
  recordStates,
  recordingClientLogger,
  unusedPort,
  type BackoffSchedule,
} from '../helpers/chaos-kit.js';
import { connectClient } from '../helpers/test-server.js';
import { testApi } from '../helpers/fixtures.js';

const ATTEMPTS = 6;

/** Connects to a port nobody listens on until the client gives up; returns its state changes. */
async function failedAttempts(
  port: number,
  schedule: BackoffSchedule,
  random: () => number,
): Promise<{ retries: StateChange[]; final: StateChange }> {
  await using client = connectClient(testApi, `ws://127.0.0.1:${port}`, {
    reconnect: { ...schedule, maxAttempts: ATTEMPTS },
    random,
    logger: recordingClientLogger(),
  });
  const changes = recordStates(client);
  const final = await nextState(client, 'closed');
  changes.stop();
  return { retries: changes.filter((change) => change.state === 'reconnecting'), final };
}

describe('reconnect backoff (server down)', () => {
  it('grows exponentially up to the cap, is jittered, and replays exactly from a seed', async () => {
    const seed = chaosSeed();
    const why = (what: string): string => `${what} (seed ${seed}; replay with WIRECALL_SEED=${seed})`;
    const port = await unusedPort();
    const schedule: BackoffSchedule = { minDelayMs: 10, maxDelayMs: 200, factor: 2, jitter: 1 };

    const { retries, final } = await failedAttempts(port, schedule, mulberry32(seed));
    expect(
      retries.map(({ attempt, closeCode }) => ({ attempt, closeCode })),
      why('one reconnecting change per failed attempt'),
    ).toEqual(Array.from({ length: ATTEMPTS }, (_, i) => ({ attempt: i + 1, closeCode: 1006 })));
    const delays = retries.map((change) => change.delayMs!);

    for (const [index, delayMs] of delays.entries()) {
      expect(delayMs, why(`delay of attempt ${index + 1}`)).toBeGreaterThanOrEqual(0);
      expect(delayMs, why(`delay of attempt ${index + 1}`)).toBeLessThanOrEqual(backoffCap(index + 1, schedule));
    }
    // Caps: 10, 20, 40, 80, 160, then 200 (maxDelayMs) instead of 320.
    expect(Array.from({ length: ATTEMPTS }, (_, i) => backoffCap(i + 1, schedule))).toEqual([10, 20, 40, 80, 160, 200]);
    expect(new Set(delays).size, why(`jittered delays are not all equal: ${delays.join(', ')}`)).toBeGreaterThan(1);

    // The same seed gives the same sequence: the documented formula, fed the same random numbers...
    const reference = mulberry32(seed);
    expect(delays, why('delays follow the documented formula')).toEqual(
      Array.from({ length: ATTEMPTS }, (_, i) => documentedBackoff(i + 1, schedule, reference)),
    );
    // ...and a second client with the same seed.
    const replay = await failedAttempts(port, schedule, mulberry32(seed));
    expect(
      replay.retries.map((change) => change.delayMs),
      why('a second run with the seed replays the delays'),
    ).toEqual(delays);

    // maxAttempts: 6 retries, then the 7th failure ends in closed, with the error that ended it.
    expect(final).toMatchObject({
      state: 'closed',
      previous: 'reconnecting',
      attempt: ATTEMPTS + 1,
      closeCode: 1006,
      error: { code: 'CONNECTION_LOST' },
    });
  });

  it('without jitter, delays are exactly the capped exponential', async () => {
    const port = await unusedPort();
    const schedule: BackoffSchedule = { minDelayMs: 5, maxDelayMs: 100, factor: 3, jitter: 0 };
    const { retries } = await failedAttempts(port, schedule, mulberry32(1));
    expect(retries.map((change) => change.delayMs)).toEqual([5, 15, 45, 100, 100, 100]);
  });
});
