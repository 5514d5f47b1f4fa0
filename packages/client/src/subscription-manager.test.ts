import { defineContract, WirecallError, type EventDef } from '@wirecall/core/internal';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SubscriptionManager, type EventMeta, type Listener } from './subscription-manager.js';

const api = defineContract({
  events: {
    tick: { payload: z.object({ seq: z.number() }) },
    chat: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string(), lang: z.string().default('en') }),
    },
  },
});
const events = api.events as Record<string, EventDef>;
type EventName = 'tick' | 'chat';

interface SubFrame {
  t: 'sub' | 'unsub';
  id: number;
  e?: string;
  after?: string;
  v?: unknown;
}

/** A handler that records what it got. */
function recorder() {
  const got: { payload: unknown; meta: EventMeta }[] = [];
  const handler = (payload: never, meta: EventMeta): void => {
    got.push({ payload, meta });
  };
  return { got, handler, seqs: () => got.map(({ payload }) => (payload as { seq: number }).seq) };
}

/** The manager over a socket the test opens and drops; the test plays the server's part. */
function setUp() {
  const link = { open: true };
  const frames: SubFrame[] = [];
  let nextId = 0;
  const reportError = vi.fn<(error: unknown, context: string) => void>();
  const manager = new SubscriptionManager({
    send: (text) => {
      if (!link.open) return false;
      frames.push(JSON.parse(text) as SubFrame);
      return true;
    },
    nextId: () => ++nextId,
    reportError,
  });
  const on = (event: EventName, params: unknown, listener: Partial<Listener> = {}): (() => void) =>
    manager.add({ event, def: events[event]!, params }, { handler: () => {}, ...listener });
  const subs = (): SubFrame[] => frames.filter((frame) => frame.t === 'sub');
  const unsubs = (): number[] => frames.filter((frame) => frame.t === 'unsub').map((frame) => frame.id);
  const event = (k: string, payload: unknown, eid?: string): void =>
    manager.event({ t: 'event', k, v: payload, ...(eid === undefined ? {} : { eid }) });
  /** The socket drops, and a new one opens. */
  const reconnect = (): void => {
    link.open = false;
    manager.connectionLost();
    link.open = true;
    manager.resubscribeAll();
  };
  return { manager, link, frames, subs, unsubs, on, event, reconnect, reportError };
}

describe('SubscriptionManager', () => {
  describe('one server subscription per stream', () => {
    it('subscribes once however many listeners, and unsubscribes when the last one leaves', () => {
      const { manager, on, subs, unsubs } = setUp();
      const offFirst = on('tick', undefined);
      const offSecond = on('tick', undefined);
      expect(subs()).toEqual([{ t: 'sub', id: 1, e: 'tick' }]);
      expect(manager.size).toBe(2);

      offFirst();
      expect(unsubs()).toEqual([]);
      offFirst(); // twice is harmless
      expect(manager.size).toBe(1);
      offSecond();
      expect(unsubs()).toEqual([1]);
      expect(manager.size).toBe(0);
    });

    it('shares a stream between params the schema reads alike; other params get their own', () => {
      const { on, subs } = setUp();
      on('chat', { room: 'a' });
      on('chat', { room: 'a', lang: 'en' }); // the default made explicit: the same stream
      on('chat', { room: 'a', lang: 'fr' });
      on('chat', { room: 'b' });
      expect(subs().map((frame) => [frame.id, frame.e, (frame.v as { room: string; lang?: string }).room])).toEqual([
        [1, 'chat', 'a'],
        [2, 'chat', 'a'],
        [3, 'chat', 'b'],
      ]);
      expect((subs()[1]!.v as { lang: string }).lang).toBe('fr');
    });

    it('refuses bad params without a round trip: BAD_REQUEST a moment later, nothing sent', async () => {
      const { manager, on, frames, reportError } = setUp();
      const onError = vi.fn<(error: WirecallError) => void>();
      const handler = vi.fn();
      const off = on('chat', { room: 42 }, { handler, onError });
      on('chat', { lang: 'en' }); // no onError: the error goes to the logger
      expect(onError).not.toHaveBeenCalled(); // not while on() is still running
      await Promise.resolve();

      expect(onError).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ code: 'BAD_REQUEST' }));
      expect(reportError).toHaveBeenCalledExactlyOnceWith(
        expect.objectContaining({ code: 'BAD_REQUEST', message: 'Invalid params for chat' }),
        'subscription',
      );
      expect(frames).toEqual([]);
      expect(manager.size).toBe(0);
      off();
      expect(frames).toEqual([]);
      expect(handler).not.toHaveBeenCalled();
    });
  });

  describe('events', () => {
    it('delivers each event of its stream, checked against the contract, with its id', () => {
      const { manager, on, event } = setUp();
      const tick = recorder();
      on('tick', undefined, { handler: tick.handler });
      event('tick', { seq: 0 }, '0-1'); // before `subscribed`: the stream has no key yet
      expect(manager.subscribed(1, 'tick', undefined)).toBe(true);
      event('tick', { seq: 1 }, '1-1');
      event('other', { seq: 2 }, '2-1'); // another stream's key
      event('tick', { seq: 3 }); // pushed to this connection alone: no id

      expect(tick.got).toEqual([
        { payload: { seq: 1 }, meta: { id: '1-1', event: 'tick' } },
        { payload: { seq: 3 }, meta: { id: undefined, event: 'tick' } },
      ]);
    });

    it('reports a payload that breaks the contract to every listener as INTERNAL, never to the handlers', () => {
      const { manager, on, event } = setUp();
      const handler = vi.fn();
      const errors: WirecallError[] = [];
      on('tick', undefined, { handler, onError: (error) => errors.push(error) });
      on('tick', undefined, { handler, onError: (error) => errors.push(error) });
      manager.subscribed(1, 'tick', undefined);
      event('tick', { seq: 'one' }, '1-1');

      expect(handler).not.toHaveBeenCalled();
      expect(errors.map((error) => [error.code, error.message])).toEqual([
        ['INTERNAL', 'Payload of tick does not match the contract'],
        ['INTERNAL', 'Payload of tick does not match the contract'],
      ]);
    });

    it('reports a listener that throws, and still calls the others', () => {
      const { manager, on, event, reportError } = setUp();
      const after = recorder();
      const boom = new Error('listener bug');
      on('tick', undefined, {
        handler: () => {
          throw boom;
        },
      });
      on('tick', undefined, { handler: after.handler });
      manager.subscribed(1, 'tick', undefined);
      event('tick', { seq: 1 }, '1-1');

      expect(after.seqs()).toEqual([1]);
      expect(reportError).toHaveBeenCalledExactlyOnceWith(boom, 'listener of tick');
    });

    it('does not hand the event being delivered to a listener added while it is delivered', () => {
      const { manager, on, event } = setUp();
      const late = recorder();
      let added = false;
      const addOnce = (): void => {
        if (added) return;
        added = true;
        on('tick', undefined, { handler: late.handler });
      };
      on('tick', undefined, { handler: addOnce });
      on('tick', undefined);
      manager.subscribed(1, 'tick', undefined);
      event('tick', { seq: 1 }, '1-1');
      expect(late.seqs()).toEqual([]);
      event('tick', { seq: 2 }, '1-2');
      expect(late.seqs()).toEqual([2]);
    });

    it('stops delivering once the listener is off, even before the server has the unsub', () => {
      const { manager, on, event } = setUp();
      const tick = recorder();
      const off = on('tick', undefined, { handler: tick.handler });
      manager.subscribed(1, 'tick', undefined);
      off();
      event('tick', { seq: 1 }, '1-1');
      expect(tick.got).toEqual([]);
    });
  });

  describe('a dropped connection', () => {
    it('restores each stream once on the new socket, resuming after the last event id seen', () => {
      const { manager, on, event, subs, reconnect } = setUp();
      const tick = recorder();
      on('tick', undefined, { handler: tick.handler });
      on('tick', undefined);
      on('chat', { room: 'a' });
      manager.subscribed(1, 'tick', undefined);
      manager.subscribed(2, 'chat {"lang":"en","room":"a"}', undefined);
      event('tick', { seq: 1 }, '1-1');
      event('tick', { seq: 2 }, '1-2');

      reconnect();
      manager.resubscribeAll(); // a second call restores nothing twice
      expect(subs().slice(2)).toEqual([
        { t: 'sub', id: 3, e: 'tick', after: '1-2' },
        expect.objectContaining({ t: 'sub', id: 4, e: 'chat' }),
      ]);
      expect(subs()[3]!.after).toBeUndefined(); // no event seen: nothing to resume after

      event('tick', { seq: 3 }, '1-3'); // not subscribed again yet
      expect(manager.subscribed(1, 'tick', undefined)).toBe(false); // the old socket's id means nothing now
      expect(manager.subscribed(3, 'tick', '1-2')).toBe(true);
      event('tick', { seq: 3 }, '1-3');
      expect(tick.seqs()).toEqual([1, 2, 3]);
    });

    it('an event without an id (pushed to this connection alone) moves no resume position', () => {
      const { manager, on, event, subs, reconnect } = setUp();
      on('tick', undefined);
      manager.subscribed(1, 'tick', undefined);
      event('tick', { seq: 1 }, '1-1');
      event('tick', { seq: 2 });
      reconnect();
      expect(subs().at(-1)).toMatchObject({ id: 2, after: '1-1' });
    });

    it('resumes from `subscribed.last` before the first event, but never moves back from an id it saw', () => {
      const { manager, on, event, subs, reconnect } = setUp();
      on('tick', undefined);
      manager.subscribed(1, 'tick', '5-0'); // where the stream stood when we subscribed
      reconnect();
      expect(subs().at(-1)).toMatchObject({ id: 2, after: '5-0' });

      manager.subscribed(2, 'tick', '9-0'); // the replay of 6-0..9-0 is still to come
      reconnect(); // dropped before any of it arrived: 6-0..9-0 are still owed
      expect(subs().at(-1)).toMatchObject({ id: 3, after: '5-0' });

      manager.subscribed(3, 'tick', '9-0');
      event('tick', { seq: 6 }, '6-0');
      reconnect(); // dropped in the middle of the replay
      expect(subs().at(-1)).toMatchObject({ id: 4, after: '6-0' });
    });

    it('sends nothing while the socket is down; a stream made meanwhile is subscribed once when it opens', () => {
      const { link, manager, on, subs, unsubs } = setUp();
      link.open = false;
      manager.connectionLost();
      on('tick', undefined);
      const offChat = on('chat', { room: 'a' });
      manager.resubscribeAll(); // still down: nothing goes
      expect(subs()).toEqual([]);
      offChat(); // never reached the server: nothing to unsubscribe
      expect(unsubs()).toEqual([]);

      link.open = true;
      manager.resubscribeAll();
      manager.resubscribeAll();
      expect(subs().map((frame) => [frame.t, frame.e])).toEqual([['sub', 'tick']]);
    });
  });

  describe('gaps', () => {
    it('tells every listener, and resumes from where the server says the stream now stands', () => {
      const { manager, on, event, subs, reconnect, reportError } = setUp();
      const onGap = vi.fn();
      on('tick', undefined, {
        onGap: () => {
          throw new Error('onGap bug');
        },
      });
      on('tick', undefined, { onGap });
      manager.subscribed(1, 'tick', undefined);
      event('tick', { seq: 1 }, '1-1');
      manager.gap('tick', '7-0');
      manager.gap('other', '8-0'); // not ours

      expect(onGap).toHaveBeenCalledOnce();
      expect(reportError).toHaveBeenCalledExactlyOnceWith(expect.any(Error), 'onGap of tick');
      reconnect();
      expect(subs().at(-1)).toMatchObject({ after: '7-0' });
      manager.subscribed(2, 'tick', '7-0');
      manager.gap('tick', undefined); // a gap that says nothing of where it stands keeps the position
      reconnect();
      expect(subs().at(-1)).toMatchObject({ after: '7-0' });
    });
  });

  describe('a refused subscription', () => {
    it('reaches every listener, and the stream is forgotten: a later on() subscribes anew', () => {
      const { manager, on, subs, unsubs, event } = setUp();
      const errors: WirecallError[] = [];
      const handler = vi.fn();
      on('chat', { room: 'secret' }, { handler, onError: (error) => errors.push(error) });
      on('chat', { room: 'secret' }, { handler, onError: (error) => errors.push(error) });

      expect(manager.refused(1, { code: 'FORBIDDEN', message: 'not your room', data: { room: 'secret' } })).toBe(true);
      expect(errors.map((error) => [error.code, error.message, error.data])).toEqual([
        ['FORBIDDEN', 'not your room', { room: 'secret' }],
        ['FORBIDDEN', 'not your room', { room: 'secret' }],
      ]);
      expect(errors[0]).toBeInstanceOf(WirecallError);
      expect(manager.size).toBe(0);
      expect(manager.refused(1, { code: 'FORBIDDEN', message: 'again' })).toBe(false);
      expect(manager.subscribed(1, 'chat', undefined)).toBe(false);
      event('chat', { text: 'leak' }, '1-1');
      expect(handler).not.toHaveBeenCalled();

      on('chat', { room: 'secret' });
      expect(subs().map((frame) => frame.id)).toEqual([1, 2]);
      expect(unsubs()).toEqual([]);
    });

    it('keeps a newer stream when a refused listener calls its off() late', () => {
      const { manager, on, subs, reconnect } = setUp();
      const offRefused = on('chat', { room: 'a' });
      manager.refused(1, { code: 'FORBIDDEN', message: 'not yet' });
      on('chat', { room: 'a' }); // allowed now: a new stream under the same local key
      expect(manager.subscribed(2, 'chat:a', undefined)).toBe(true);
      offRefused();
      expect(manager.size).toBe(1);
      reconnect();
      expect(subs().map((frame) => frame.id)).toEqual([1, 2, 3]); // the live stream is restored
    });

    it('answers false for an id that is not a subscription (a call’s error)', () => {
      const { manager } = setUp();
      expect(manager.refused(99, { code: 'INTERNAL', message: 'not ours' })).toBe(false);
    });
  });
});
