import { defineContract } from '@wirecall/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { SocketLike } from '../connection/connection-manager.js';
import { createClient, type ClientLogger } from '../create-client.js';
import { sharedTabs } from './index.js';
import { ALIVE_INTERVAL_MS, type HubMessage, type PortLike, type TabMessage } from './messages.js';
import { portSocketClass } from './port-socket.js';

const api = defineContract({
  procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
  events: {},
});

/**
 * The tab's end of its port to the shared worker; the test plays the hub. Like a real port, it
 * answers a moment later (a microtask), and what arrives while nobody listens is lost.
 */
class HubPort implements PortLike {
  onmessage: unknown = null;
  readonly posted: TabMessage[] = [];
  started = 0;
  /** Answers `open` and `hello`, `ping` and calls, as the hub over a welcoming server would. */
  answering = true;

  postMessage(message: unknown): void {
    const said = message as TabMessage;
    this.posted.push(said);
    if (!this.answering) return;
    if (said.op === 'open') this.reply({ op: 'open', sid: said.sid });
    if (said.op !== 'send') return;
    const frame = JSON.parse(said.data) as { t: string; id?: number; v?: { a: number; b: number } };
    const answer =
      frame.t === 'hello'
        ? { t: 'welcome', fp: api.fingerprint, hb: 10_000 }
        : frame.t === 'ping'
          ? { t: 'pong' }
          : frame.t === 'call'
            ? { t: 'result', id: frame.id, v: frame.v!.a + frame.v!.b }
            : undefined;
    if (answer !== undefined) this.reply({ op: 'message', sid: said.sid, data: JSON.stringify(answer) });
  }

  start(): void {
    this.started++;
  }

  reply(message: HubMessage): void {
    void Promise.resolve().then(() => this.deliver(message));
  }

  deliver(message: HubMessage): void {
    (this.onmessage as ((event: { data: unknown }) => void) | null)?.({ data: message });
  }

  /** What the tab said, by kind. */
  said(op: TabMessage['op']): TabMessage[] {
    return this.posted.filter((message) => message.op === op);
  }
}

/** The page's `pagehide` listeners (Node has no page: the test gives it one). */
function stubPage() {
  const listeners = new Set<() => void>();
  vi.stubGlobal('addEventListener', (type: string, listener: () => void) => {
    if (type === 'pagehide') listeners.add(listener);
  });
  vi.stubGlobal('removeEventListener', (type: string, listener: () => void) => {
    if (type === 'pagehide') listeners.delete(listener);
  });
  return { listeners, hide: () => [...listeners].forEach((listener) => listener()) };
}

const quietLogger: ClientLogger = { warn: () => {}, error: () => {} };

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the tab’s side of shared tabs', () => {
  it('client.close() leaves nothing of the tab scheduled or listening: no timer, no port or page listener', async () => {
    const page = stubPage();
    const port = new HubPort();
    const client = createClient(api, {
      url: 'ws://server.test',
      shareAcrossTabs: sharedTabs({ worker: () => ({ port }) }),
      logger: quietLogger,
    });
    await vi.waitFor(() => expect(client.state).toBe('open'));
    // (No call: an answered call leaves the request manager's deadline timer armed until its deadline.)
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
    expect(port.onmessage).toBeTypeOf('function');
    expect(page.listeners.size).toBe(1);
    vi.advanceTimersByTime(ALIVE_INTERVAL_MS);
    expect(port.said('alive')).toHaveLength(1);
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    await client.close();

    expect(vi.getTimerCount()).toBe(0);
    expect(port.onmessage).toBeNull();
    expect(page.listeners.size).toBe(0);
    expect(port.posted.at(-1)).toEqual({ op: 'close', sid: 1 });
    const said = port.posted.length;
    vi.advanceTimersByTime(10 * ALIVE_INTERVAL_MS);
    page.hide();
    expect(port.posted).toHaveLength(said); // no keep-alive, no `bye`
  });

  it('keeps the port, the page listener and the keep-alive only while it has a virtual socket', async () => {
    const page = stubPage();
    const port = new HubPort();
    const Socket = portSocketClass(port);
    expect([port.onmessage, page.listeners.size, vi.getTimerCount()]).toEqual([null, 0, 0]); // nothing before a socket

    const first: SocketLike = new Socket('ws://server.test', []);
    const opened = vi.fn();
    first.onopen = opened;
    expect(port.started).toBe(1);
    await Promise.resolve();
    expect(opened).toHaveBeenCalledOnce();
    expect([page.listeners.size, vi.getTimerCount()]).toEqual([1, 1]);
    page.hide();
    expect(port.said('bye')).toHaveLength(1);

    // The hub closes it (the shared socket went down): the tab goes quiet until it reconnects.
    const closed = vi.fn();
    first.onclose = closed;
    port.deliver({ op: 'close', sid: 1, code: 1001, reason: 'the page was hidden' });
    expect(closed).toHaveBeenCalledWith({ code: 1001, reason: 'the page was hidden' });
    expect([port.onmessage, page.listeners.size, vi.getTimerCount()]).toEqual([null, 0, 0]);

    const second = new Socket('ws://server.test', []);
    expect([typeof port.onmessage, page.listeners.size, vi.getTimerCount()]).toEqual(['function', 1, 1]);
    vi.advanceTimersByTime(ALIVE_INTERVAL_MS);
    expect(port.said('alive')).toHaveLength(1);
    second.close();
    expect(port.said('close')).toEqual([{ op: 'close', sid: 2 }]);
    expect([port.onmessage, page.listeners.size, vi.getTimerCount()]).toEqual([null, 0, 0]);
  });

  it('listens while any of several sockets on one port is open (two clients in one tab)', () => {
    const port = new HubPort();
    port.answering = false;
    const Socket = portSocketClass(port);
    const a = new Socket('ws://server.test', []);
    const b = new Socket('ws://server.test', []);
    a.close();
    expect([typeof port.onmessage, vi.getTimerCount()]).toEqual(['function', 1]);
    const got = vi.fn();
    b.onmessage = got;
    port.deliver({ op: 'open', sid: 2 });
    port.deliver({ op: 'message', sid: 2, data: '{"t":"pong"}' });
    expect(got).toHaveBeenCalledWith({ data: '{"t":"pong"}' });
    b.close(4000, 'reconnecting');
    expect([port.onmessage, vi.getTimerCount()]).toEqual([null, 0]);
  });
});

describe('sharedTabs()', () => {
  it('connects alone where the browser has no SharedWorker', () => {
    expect(typeof SharedWorker).toBe('undefined');
    expect(sharedTabs().socketClass()).toBeUndefined();
  });

  it('refuses the `true` of earlier versions with a pointer to sharedTabs()', () => {
    expect(() =>
      createClient(api, { url: 'ws://server.test', shareAcrossTabs: true as never, logger: quietLogger }),
    ).toThrow("shareAcrossTabs takes sharedTabs() from '@wirecall/client/shared-tabs'");
  });
});
