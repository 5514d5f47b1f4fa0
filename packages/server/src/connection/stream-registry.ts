import { eventFrame as eventFrameText, type StreamKey } from '@wirecall/core';
import type { BrokerEvent } from '../broker/broker.js';

/** The part of a connection the registry talks to. */
export interface EventSink {
  /** Sends one event's ready-made frame; the sink may hold it back while it replays history. */
  deliver(frame: Buffer, event: BrokerEvent): void;
  /** Events of the stream were lost to this node; it goes on after `resumeFrom`. */
  gap(key: StreamKey, resumeFrom: string | undefined): void;
}

/**
 * Which local connections listen to which stream. An event is serialized once per node into one
 * frame that every subscriber receives as is: the frame names the stream, not the subscription.
 */
export class StreamRegistry {
  readonly #sinks = new Map<StreamKey, Set<EventSink>>();

  add(key: StreamKey, sink: EventSink): void {
    let sinks = this.#sinks.get(key);
    if (sinks === undefined) {
      sinks = new Set();
      this.#sinks.set(key, sinks);
    }
    sinks.add(sink);
  }

  remove(key: StreamKey, sink: EventSink): void {
    const sinks = this.#sinks.get(key);
    if (sinks === undefined) return;
    sinks.delete(sink);
    if (sinks.size === 0) this.#sinks.delete(key);
  }

  /** Fans one broker event out to this node's subscribers of its stream. */
  dispatch(event: BrokerEvent): void {
    const sinks = this.#sinks.get(event.key);
    if (sinks === undefined) return;
    const frame = eventFrame(event);
    for (const sink of sinks) sink.deliver(frame, event);
  }

  /** Tells this node's subscribers of a stream that events were lost (see `Broker.onGap`). */
  gap(key: StreamKey, resumeFrom: string | undefined): void {
    for (const sink of this.#sinks.get(key) ?? []) sink.gap(key, resumeFrom);
  }
}

/** The one serialization of an event, as UTF-8 bytes so `ws` does not re-encode it per socket. */
export function eventFrame(event: BrokerEvent): Buffer {
  return Buffer.from(eventFrameText(event.key, event.id, event.value));
}
