import type {
  CallEnvelope,
  CreditEnvelope,
  EndEnvelope,
  ErrorEnvelope,
  ItemEnvelope,
  RequestId,
  ResultEnvelope,
} from '@wirecall/core/internal';
import type { Lane, UpstreamLink } from './lane.js';

/**
 * How long a call the server refused for its in-flight limit waits before it is sent again: the
 * limit still counts cancelled calls whose handlers have not returned, which the server does not
 * announce.
 */
const WINDOW_RETRY_MS = 25;

/** A call on the shared socket: whose it is, and under which id its tab knows it. */
interface SharedCall {
  /** Undefined once its lane is gone: an idempotent call left running for its retry. */
  lane: Lane | undefined;
  tabId: RequestId;
  idempotent: boolean;
  /** Waiting in the worker for room in the server's window, not sent yet. */
  queued: boolean;
  /** The tab's call under its socket id. */
  envelope: CallEnvelope;
}

/** Whose a call is: the lane to answer (undefined once it is gone) and the id its tab knows it by. */
export interface CallOwner {
  lane: Lane | undefined;
  tabId: RequestId;
}

/**
 * The calls of every tab on the shared socket: ids rewritten to ones unique on the socket, at most
 * the server's `maxInFlightCalls` in flight (the rest wait here, in order), answers routed back.
 */
export class SharedCalls {
  readonly #link: UpstreamLink;
  readonly #calls = new Map<number, SharedCall>();
  /** Per lane: its tab's call ids to socket ids, for `cancel` and for leaving. */
  readonly #idsOf = new Map<Lane, Map<RequestId, number>>();
  readonly #queue: number[] = [];
  #window = Infinity;
  #inFlight = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(link: UpstreamLink) {
    this.#link = link;
  }

  /** The server's `welcome.mi`. */
  setWindow(window: number): void {
    this.#window = window;
  }

  call(lane: Lane, envelope: CallEnvelope): void {
    const id = this.#link.nextId();
    const tabId = envelope.id;
    let ids = this.#idsOf.get(lane);
    if (ids === undefined) this.#idsOf.set(lane, (ids = new Map<RequestId, number>()));
    ids.set(tabId, id);
    const call: SharedCall = {
      lane,
      tabId,
      idempotent: envelope.ik !== undefined,
      queued: true,
      envelope: { ...envelope, id },
    };
    this.#calls.set(id, call);
    this.#queue.push(id);
    this.#pump();
  }

  /** The tab gave up on a call (its timeout or its signal): tell the server, free the slot. */
  cancel(lane: Lane, tabId: RequestId): void {
    const id = this.#idsOf.get(lane)?.get(tabId);
    if (id === undefined) return;
    const call = this.#calls.get(id)!;
    if (!call.queued) this.#link.send({ t: 'cancel', id });
    this.#forget(id, call);
  }

  /**
   * A `result` or `error` for `id`: the lane and the tab's id to answer, if it is a live call. A
   * refusal for the server's in-flight limit is not an answer: the call goes back to the queue.
   */
  answered(id: number, envelope: ResultEnvelope | ErrorEnvelope): CallOwner | 'retrying' | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    if (isWindowRefusal(envelope)) {
      call.queued = true;
      this.#inFlight--;
      this.#queue.unshift(id);
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.#pump();
      }, WINDOW_RETRY_MS);
      return 'retrying';
    }
    this.#forget(id, call);
    return call;
  }

  /** A frame of a tab's live call (a streaming call's `credit`, `item` or `end`): sent on under its socket id. */
  forward(lane: Lane, envelope: CreditEnvelope | ItemEnvelope | EndEnvelope): void {
    const id = this.#idsOf.get(lane)?.get(envelope.id);
    if (id === undefined || this.#calls.get(id)!.queued) return; // a late frame of a call that ended
    this.#link.send({ ...envelope, id });
  }

  /** The lane and tab id of live call `id` (for a streaming call's `item` or `credit`), without ending it. */
  ownerOf(id: number): CallOwner | undefined {
    return this.#calls.get(id);
  }

  /** The socket is gone: nothing more will be sent. */
  close(): void {
    clearTimeout(this.#retryTimer);
  }

  /**
   * A lane is gone. Its calls are cancelled, except idempotent ones already sent: as with a dropped
   * socket, they run on, so the tab's retry (same idempotency key) gets their answer.
   */
  leave(lane: Lane): void {
    const calls = [...(this.#idsOf.get(lane)?.values() ?? [])].map((id) => this.#calls.get(id)!);
    // Queued ones first: cancelling a sent call frees a slot, which must not send the gone tab's next call.
    for (const call of calls) if (call.queued) this.cancel(lane, call.tabId);
    for (const call of calls) {
      if (call.queued) continue;
      if (call.idempotent) call.lane = undefined;
      else this.cancel(lane, call.tabId);
    }
    this.#idsOf.delete(lane);
  }

  #forget(id: number, call: SharedCall): void {
    this.#calls.delete(id);
    if (call.lane !== undefined) this.#idsOf.get(call.lane)?.delete(call.tabId);
    if (call.queued) {
      this.#queue.splice(this.#queue.indexOf(id), 1);
      return;
    }
    this.#inFlight--;
    this.#pump();
  }

  #pump(): void {
    if (this.#retryTimer !== undefined) return; // the refused call waits first, then the rest in order
    while (this.#inFlight < this.#window && this.#queue.length > 0) {
      const call = this.#calls.get(this.#queue.shift()!)!;
      call.queued = false;
      this.#inFlight++;
      this.#link.send(call.envelope);
    }
  }
}

/**
 * The server's refusal of a call over its `maxInFlightCalls` or `maxStreams`: every tab keeps to
 * those limits alone, but together they can pass them.
 */
function isWindowRefusal(envelope: ResultEnvelope | ErrorEnvelope): boolean {
  if (envelope.t !== 'error' || envelope.e.code !== 'RATE_LIMITED') return false;
  const data = envelope.e.data as { maxInFlightCalls?: unknown; maxStreams?: unknown } | undefined;
  return typeof data?.maxInFlightCalls === 'number' || typeof data?.maxStreams === 'number';
}
