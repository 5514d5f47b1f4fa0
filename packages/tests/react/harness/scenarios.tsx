/**
 * The components the Chromium suite mounts, one per hook (and the server-rendered card): each
 * reports what it renders to `report`, which the page keeps for the test to read. Bundled into the
 * harness page, and imported by Node to render the card on the server.
 */
import { skipToken, useQuery } from '@tanstack/react-query';
import { createWirecallContext, useStream } from '@wirecall/react';
import { useEffect, type ReactNode } from 'react';
import type { AuctionApi } from '../helpers/auction-api.js';

export const { WirecallProvider, useWirecall, useEvent, useEventToQuery, usePresence, useConnection } =
  createWirecallContext<AuctionApi>();

/** Where a scenario reports: set by the page (a no-op on the server). */
export interface Reporter {
  report(name: string, value: unknown): void;
  /** Functions a test calls in the page (a stream's start, a presence's join). */
  action(name: string, run: (...args: never[]) => void): void;
}

export interface EventsProps {
  reporter: Reporter;
  /** The auction whose changes to follow; undefined: none (skipToken). */
  id?: string;
  /** Changes every render's handler; the subscription must not change with it. */
  label: string;
}

/** `useEvent` with params (and skipToken), and without. */
export function Events({ reporter, id, label }: EventsProps): ReactNode {
  useEvent('auctions.changed', id === undefined ? skipToken : { id }, (auction) =>
    reporter.report('changed', `${label}:${auction.id}:${auction.highest}`),
  );
  useEvent('tick', (tick) => reporter.report('tick', `${label}:${tick.seq}`));
  return <p>following {id ?? 'nothing'}</p>;
}

export interface CacheProps {
  reporter: Reporter;
  id: string;
  /** `update`: the event is the new data; `invalidate`: the event refetches. */
  mode: 'update' | 'invalidate';
}

/** `useEventToQuery` before `useQuery`, so the subscription is sent before the fetch. */
export function Cache({ reporter, id, mode }: CacheProps): ReactNode {
  const wc = useWirecall();
  useEventToQuery(
    'auctions.changed',
    { id },
    mode === 'update'
      ? { queryKey: wc.auctions.get.queryKey({ id }), update: (_auction, changed) => changed }
      : { queryKey: wc.auctions.get.queryKey({ id }) },
  );
  const auction = useQuery(wc.auctions.get.queryOptions({ id }));
  useEffect(() => {
    reporter.report(
      'auction',
      auction.data === undefined ? null : { highest: auction.data.highest, ends: auction.data.endsAt instanceof Date },
    );
  }, [reporter, auction.data]);
  return <p data-testid="highest">{auction.data?.highest ?? 'loading'}</p>;
}

export interface StreamProps {
  reporter: Reporter;
  /** Start on mount with this input; undefined: wait for the `start` action. */
  from?: number;
  everyMs: number;
}

export function Stream({ reporter, from, everyMs }: StreamProps): ReactNode {
  const wc = useWirecall();
  const countdown = useStream(wc.countdown.streamOptions(from === undefined ? skipToken : { from, everyMs }));
  reporter.action('start', (input: { from: number; everyMs: number }) => countdown.start(input));
  reporter.action('cancel', () => countdown.cancel());
  useEffect(() => {
    reporter.report('stream', {
      status: countdown.status,
      items: countdown.items,
      result: countdown.result ?? null,
      error: countdown.error?.code ?? null,
    });
  }, [reporter, countdown.status, countdown.items, countdown.result, countdown.error]);
  return <p>{countdown.items.join(' ')}</p>;
}

export interface PresenceProps {
  reporter: Reporter;
  room: string;
  /** Joins with this name; undefined: observes only. */
  name?: string;
  /** A second component observing the same room (shares the presence). */
  observer: boolean;
}

function Observer({ reporter, room }: { reporter: Reporter; room: string }): ReactNode {
  const presence = usePresence('room', { params: { room } });
  useEffect(() => reporter.report('observed', presence.count), [reporter, presence.count]);
  return null;
}

export function Presence({ reporter, room, name, observer }: PresenceProps): ReactNode {
  const presence = usePresence('room', { params: { room }, join: name === undefined ? undefined : { name } });
  reporter.action('join', (data: { name: string; typing: boolean }) => presence.join(data));
  useEffect(() => {
    reporter.report('presence', {
      count: presence.count,
      joined: presence.joined,
      me: presence.me !== undefined,
      names: presence.members.map((member) => member.data.name).sort(),
    });
  }, [reporter, presence.count, presence.joined, presence.me, presence.members]);
  return observer ? <Observer reporter={reporter} room={room} /> : null;
}

export interface ConnectionProps {
  reporter: Reporter;
  /** The auction to show: its query is invalidated by a gap in its events. */
  id: string;
}

/** A "reconnecting…" banner over an auction kept fresh by its events. */
export function Connection({ reporter, id }: ConnectionProps): ReactNode {
  const connection = useConnection({ rttIntervalMs: 200 });
  useEffect(() => {
    reporter.report('connection', {
      state: connection.state,
      attempt: connection.attempt,
      retrying: connection.retryAt !== undefined,
      rtt: typeof connection.rttMs,
    });
  }, [reporter, connection.state, connection.attempt, connection.retryAt, connection.rttMs]);
  return (
    <>
      {connection.state === 'reconnecting' && <p role="status">reconnecting…</p>}
      <Cache reporter={reporter} id={id} mode="update" />
    </>
  );
}

export interface HangProps {
  reporter: Reporter;
  id: string;
}

/** A query the server never answers: unmounting the component cancels it there. */
export function Hang({ id }: HangProps): ReactNode {
  const wc = useWirecall();
  const hung = useQuery(wc.hang.queryOptions({ key: id }));
  return <p>{hung.status}</p>;
}

export interface CardProps {
  reporter: Reporter;
  id: string;
}

/** Rendered on the server with prefetched data, hydrated in the page, then kept fresh by events. */
export function Card({ reporter, id }: CardProps): ReactNode {
  const wc = useWirecall();
  useEventToQuery(
    'auctions.changed',
    { id },
    { queryKey: wc.auctions.get.queryKey({ id }), update: (_old, next) => next },
  );
  const auction = useQuery(wc.auctions.get.queryOptions({ id }, { staleTime: 60_000 }));
  useEffect(() => reporter.report('card', auction.data?.highest ?? null), [reporter, auction.data]);
  return (
    <article>
      <h1>{auction.data?.title ?? 'loading'}</h1>
      <p data-testid="card-highest">{auction.data?.highest}</p>
    </article>
  );
}

export const SCENARIOS = { Events, Cache, Stream, Presence, Connection, Hang, Card } as const;
export type ScenarioName = keyof typeof SCENARIOS;
