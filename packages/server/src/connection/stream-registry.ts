import { eventFrame as eventFrameText, packFrame, takeBytes, type StreamKey } from '@wirecall/core/internal';
import type { Broker, BrokerEvent } from '../broker/broker.js';
import { allocateUnsafe } from './value-frame.js';

/** The part of a connection the registry talks to. */
export interface EventSink {
  /** Sends one event's ready-made frame; the sink may hold it back while it replays history. */
  deliver(frames: EventFrames, event: BrokerEvent): void;
  /** Events of the stream were lost to this node; it goes on after `resumeFrom`. */
  gap(key: StreamKey, resumeFrom: string | undefined): void;
}

/** The streams this node takes from its broker: see {@link Broker.follow}. */
export type StreamInterest = Pick<Broker, 'follow' | 'unfollow'>;

/**
 * Which local connections listen to which stream. An event is serialized once per node into one
 * frame that every subscriber receives as is: the frame names the stream, not the subscription.
 *
 * It also tells the broker which streams this node wants (interest routing): the first local
 * subscriber of a stream makes the node follow it, the last one leaving stops that.
 */
export class StreamRegistry {
  readonly #sinks = new Map<StreamKey, Set<EventSink>>();
  /** Per followed stream whose subscription the broker has not confirmed yet: resolves when it has. */
  readonly #following = new Map<StreamKey, Promise<void>>();
  readonly #interest: StreamInterest;

  constructor(interest: StreamInterest = {}) {
    this.#interest = interest;
  }

  /**
   * Adds a subscriber. Returns undefined when live events of the stream already reach this node;
   * otherwise a promise that resolves once they do (and rejects when the broker cannot subscribe
   * now): what was published before that is only in history.
   */
  add(key: StreamKey, sink: EventSink): Promise<void> | undefined {
    let sinks = this.#sinks.get(key);
    if (sinks === undefined) {
      sinks = new Set();
      this.#sinks.set(key, sinks);
      const following = this.#interest.follow?.(key);
      if (following !== undefined) {
        this.#following.set(key, following);
        const settled = (): void => {
          if (this.#following.get(key) === following) this.#following.delete(key);
        };
        following.then(settled, settled);
      }
    }
    sinks.add(sink);
    return this.#following.get(key);
  }

  remove(key: StreamKey, sink: EventSink): void {
    const sinks = this.#sinks.get(key);
    if (sinks === undefined) return;
    sinks.delete(sink);
    if (sinks.size > 0) return;
    this.#sinks.delete(key);
    this.#following.delete(key);
    this.#interest.unfollow?.(key);
  }

  /** Fans one broker event out to this node's subscribers of its stream. */
  dispatch(event: BrokerEvent): void {
    const sinks = this.#sinks.get(event.key);
    if (sinks === undefined) return;
    const frames = eventFrames(event);
    for (const sink of sinks) sink.deliver(frames, event);
  }

  /** Tells this node's subscribers of a stream that events were lost (see `Broker.onGap`). */
  gap(key: StreamKey, resumeFrom: string | undefined): void {
    for (const sink of this.#sinks.get(key) ?? []) sink.gap(key, resumeFrom);
  }
}

/**
 * An event's frames, each serialized at most once per node: as text (UTF-8 bytes, so `ws` does not
 * re-encode it per socket), and, for the connections that read binary frames, as a binary frame
 * when its payload holds bytes (made on first use).
 */
export interface EventFrames {
  readonly text: Buffer;
  /** The binary frame, or undefined when the payload has no bytes. */
  binary(): Uint8Array | undefined;
}

export function eventFrames(event: BrokerEvent): EventFrames {
  let binary: Uint8Array | undefined | null = null; // null: not made yet
  return {
    text: Buffer.from(eventFrameText(event.key, event.id, event.value)),
    binary() {
      if (binary === null) {
        const taken = takeBytes(event.value);
        binary = taken && packFrame(eventFrameText(event.key, event.id, taken.value), taken.blobs, allocateUnsafe);
      }
      return binary;
    },
  };
}

/** The frame of `frames` a connection gets: binary where it reads binary frames and there is one. */
export function frameFor(frames: EventFrames, acceptsBinary: boolean): Buffer | Uint8Array {
  return (acceptsBinary ? frames.binary() : undefined) ?? frames.text;
}
