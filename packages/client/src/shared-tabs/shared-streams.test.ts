import { describe, expect, it } from 'vitest';
import type { ErrorEnvelope, EventEnvelope, GapEnvelope, RequestId, SubscribeEnvelope } from '@wirecall/core/internal';
import type { Lane } from './lane.js';
import { SharedStreams } from './shared-streams.js';

/** A frame as the test reads it back from the wire. */
type Frame = Record<string, unknown>;

/** A tab's virtual socket that records the frames the hub sends it. */
function tab(): Lane & { got: Frame[]; texts: string[] } {
  const got: Frame[] = [];
  const texts: string[] = [];
  return {
    got,
    texts,
    send: (text) => {
      texts.push(text);
      got.push(JSON.parse(text) as Frame);
    },
    close: () => {},
  };
}

/** The streams over a socket that records what goes upstream; the test plays the server. */
function setUp() {
  const upstream: Frame[] = [];
  let nextId = 0;
  const streams = new SharedStreams({
    send: (envelope) => upstream.push(JSON.parse(JSON.stringify(envelope)) as Frame),
    nextId: () => ++nextId,
  });
  const sub = (lane: Lane, id: RequestId, extra: Partial<SubscribeEnvelope> = {}): void =>
    streams.subscribe(lane, { t: 'sub', id, e: 'tick', ...extra });
  const subscribed = (id: number, k: string, last?: string): void =>
    streams.confirmed({ t: 'subscribed', id, k, ...(last === undefined ? {} : { last }) });
  /** An event as the server sends it: the same text goes to every lane. */
  const event = (k: string, eid: string | undefined): string => {
    const text = JSON.stringify({ t: 'event', k, v: { eid }, ...(eid === undefined ? {} : { eid }) });
    streams.toListeners(text, JSON.parse(text) as EventEnvelope);
    return text;
  };
  const gap = (k: string, last: string): void => {
    const text = JSON.stringify({ t: 'gap', k, last });
    streams.toListeners(text, JSON.parse(text) as GapEnvelope);
  };
  return { streams, upstream, sub, subscribed, event, gap };
}

/** What a lane got, in short: `subscribed:<id>:<last>`, `gap:<last>`, `event:<eid>`. */
const seen = (lane: { got: Frame[] }): string[] =>
  lane.got.map((frame) => {
    if (frame.t === 'subscribed') return `subscribed:${String(frame.id)}:${String(frame.last)}`;
    if (frame.t === 'gap') return `gap:${String(frame.last)}`;
    if (frame.t === 'event') return `event:${String(frame.eid)}`;
    return JSON.stringify(frame);
  });

describe('SharedStreams', () => {
  describe('one upstream subscription per stream', () => {
    it('subscribes once for every tab, answers each under its own id, and unsubscribes after the last', () => {
      const { streams, upstream, sub, subscribed, event } = setUp();
      const a = tab();
      const b = tab();
      sub(a, 1, { v: { room: 'x' } });
      sub(b, 7, { v: { room: 'x' } });
      expect(upstream).toEqual([{ t: 'sub', id: 1, e: 'tick', v: { room: 'x' } }]);
      expect(a.got).toEqual([]); // not confirmed yet

      subscribed(1, 'tick x', '3-0');
      expect(a.got).toEqual([{ t: 'subscribed', id: 1, k: 'tick x', last: '3-0' }]);
      expect(b.got).toEqual([{ t: 'subscribed', id: 7, k: 'tick x', last: '3-0' }]);
      const text = event('tick x', '4-0');
      expect(a.texts.at(-1)).toBe(text); // relayed as is
      expect(b.texts.at(-1)).toBe(text);

      streams.unsubscribe(a, 1);
      streams.unsubscribe(a, 1); // twice is harmless
      expect(upstream).toHaveLength(1);
      event('tick x', '5-0');
      expect(seen(a)).toEqual(['subscribed:1:3-0', 'event:4-0']);
      streams.unsubscribe(b, 7);
      expect(upstream.at(-1)).toEqual({ t: 'unsub', id: 1 });
    });

    it('tells streams apart by event and params; params the server reads alike share its key', () => {
      const { upstream, sub, subscribed, event } = setUp();
      const a = tab();
      const b = tab();
      sub(a, 1, { v: { room: 'x' } });
      sub(b, 1, { v: { room: 'x', lang: 'en' } }); // the server's default, made explicit
      sub(a, 2, { v: { room: 'y' } });
      sub(b, 2, { v: { room: 'x' } }); // b now listens to both streams the server keys 'tick x'
      expect(upstream.map((frame) => frame.id)).toEqual([1, 2, 3]);
      subscribed(1, 'tick x', undefined);
      subscribed(2, 'tick x', undefined);
      subscribed(3, 'tick y', undefined);

      event('tick x', '1-0');
      event('tick y', '2-0');
      expect(seen(a)).toEqual(['subscribed:1:undefined', 'subscribed:2:undefined', 'event:1-0', 'event:2-0']);
      // Each event once, though two of its streams have the key.
      expect(seen(b)).toEqual(['subscribed:2:undefined', 'subscribed:1:undefined', 'event:1-0']);
    });

    it('answers a tab that joins a confirmed stream at once, standing where the stream stands', () => {
      const { upstream, sub, subscribed, event } = setUp();
      const a = tab();
      const b = tab();
      sub(a, 1);
      subscribed(1, 'tick', '1-0');
      event('tick', '2-0');
      sub(b, 1);
      expect(upstream).toHaveLength(1);
      expect(seen(b)).toEqual(['subscribed:1:2-0']);
    });

    it('refuses every tab that asked when the server refuses, and forgets the stream', () => {
      const { streams, upstream, sub, subscribed } = setUp();
      const a = tab();
      const b = tab();
      sub(a, 1);
      sub(b, 2);
      const error: ErrorEnvelope = { t: 'error', id: 1, e: { code: 'FORBIDDEN', message: 'no' } };
      expect(streams.refused(1, error)).toBe(true);
      expect(a.got).toEqual([{ ...error, id: 1 }]);
      expect(b.got).toEqual([{ ...error, id: 2 }]);
      expect(streams.refused(1, error)).toBe(false);
      expect(streams.refused(42, error)).toBe(false); // a call's error, not a subscription's
      subscribed(1, 'tick'); // too late: nobody waits for it
      expect(a.got).toHaveLength(1);

      sub(a, 3); // asked again: a new upstream subscription
      streams.unsubscribe(b, 2); // b was refused: it holds nothing
      expect(upstream.map((frame) => [frame.t, frame.id])).toEqual([
        ['sub', 1],
        ['sub', 2],
      ]);
    });

    it('releases everything a tab held when it leaves; the last one out unsubscribes', () => {
      const { streams, upstream, sub, subscribed, event } = setUp();
      const a = tab();
      const b = tab();
      sub(a, 1, { v: 'x' });
      sub(a, 2, { v: 'y' });
      sub(b, 1, { v: 'x' });
      subscribed(1, 'tick x');
      subscribed(2, 'tick y');
      streams.leave(a);
      expect(upstream.filter((frame) => frame.t === 'unsub')).toEqual([{ t: 'unsub', id: 2 }]);
      const before = a.got.length;
      event('tick x', '1-0');
      expect(a.got).toHaveLength(before);
      expect(seen(b).at(-1)).toBe('event:1-0');
    });
  });

  describe('resuming a tab after a drop (the replay from recent events)', () => {
    /** Tab a resubscribes after `5-0`, the server replays 6-0..8-0, then tab b comes back. */
    function replayed() {
      const ctx = setUp();
      const a = tab();
      ctx.sub(a, 1, { after: '5-0' });
      expect(ctx.upstream).toEqual([{ t: 'sub', id: 1, e: 'tick', after: '5-0' }]);
      ctx.subscribed(1, 'tick', '8-0');
      for (const eid of ['6-0', '7-0', '8-0']) ctx.event('tick', eid);
      return { ...ctx, a };
    }

    it('the tab whose resume went upstream gets the server’s replay, standing where it asked', () => {
      const { a } = replayed();
      expect(seen(a)).toEqual(['subscribed:1:8-0', 'event:6-0', 'event:7-0', 'event:8-0']);
    });

    it('a tab that resumes from an event the stream still holds gets what came after it, in order', () => {
      const { upstream, sub, event } = replayed();
      const b = tab();
      sub(b, 4, { after: '6-0' });
      expect(seen(b)).toEqual(['subscribed:4:8-0', 'event:7-0', 'event:8-0']);
      event('tick', '9-0');
      expect(seen(b).at(-1)).toBe('event:9-0');
      expect(upstream).toHaveLength(1); // no second subscription upstream
    });

    it('a tab that resumes from the same point as the upstream subscription gets the whole replay', () => {
      const { sub } = replayed();
      const b = tab();
      sub(b, 1, { after: '5-0' });
      expect(seen(b)).toEqual(['subscribed:1:8-0', 'event:6-0', 'event:7-0', 'event:8-0']);
    });

    it('a tab that already has the newest event gets nothing replayed, and no gap', () => {
      const { sub } = replayed();
      const b = tab();
      sub(b, 1, { after: '8-0' });
      expect(seen(b)).toEqual(['subscribed:1:8-0']);
    });

    it('a tab that resumes from before what the stream holds gets a gap, standing at the newest event', () => {
      const { sub } = replayed();
      const b = tab();
      sub(b, 1, { after: '2-0' });
      expect(seen(b)).toEqual(['subscribed:1:8-0', 'gap:8-0']);
    });

    it('a fresh tab (no resume point) starts at the newest event, with nothing replayed', () => {
      const { sub } = replayed();
      const b = tab();
      sub(b, 1);
      expect(seen(b)).toEqual(['subscribed:1:8-0']);
    });

    it('events without an id (pushed to one connection) are relayed but never replayed', () => {
      const { sub, event } = replayed();
      event('tick', undefined);
      const b = tab();
      sub(b, 1, { after: '7-0' });
      expect(seen(b)).toEqual(['subscribed:1:8-0', 'event:8-0']);
    });

    it('a gap from the server moves where the stream stands: a tab resuming from there misses nothing', () => {
      const { sub, gap, a } = replayed();
      gap('tick', '20-0');
      expect(seen(a).at(-1)).toBe('gap:20-0');
      const b = tab();
      sub(b, 1, { after: '20-0' });
      expect(seen(b)).toEqual(['subscribed:1:20-0']);
    });

    it('keeps the latest 512 events: past that, a resume from older ones is a gap', () => {
      const { sub, subscribed, event } = setUp();
      sub(tab(), 1, { after: '0-0' });
      subscribed(1, 'tick', '600-0');
      for (let n = 1; n <= 600; n++) event('tick', `${n}-0`);

      const fromStart = tab();
      sub(fromStart, 1, { after: '0-0' }); // the replay no longer reaches back to the subscribe
      expect(seen(fromStart)).toEqual(['subscribed:1:600-0', 'gap:600-0']);
      const fromDropped = tab();
      sub(fromDropped, 1, { after: '88-0' }); // 89..600 are kept, 88 is not
      expect(seen(fromDropped)).toEqual(['subscribed:1:600-0', 'gap:600-0']);
      const fromOldestKept = tab();
      sub(fromOldestKept, 1, { after: '89-0' });
      expect(seen(fromOldestKept)).toHaveLength(1 + 511);
      expect(seen(fromOldestKept).slice(0, 2)).toEqual(['subscribed:1:600-0', 'event:90-0']);
      expect(seen(fromOldestKept).at(-1)).toBe('event:600-0');
    });
  });
});
