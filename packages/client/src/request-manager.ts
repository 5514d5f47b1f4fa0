import {
  checkSchema,
  encodeFrame,
  fromErrorShape,
  RETRYABLE_CODES,
  toWire,
  WirecallError,
  type CreditEnvelope,
  type ErrorShape,
  type ItemEnvelope,
  type ProcedureDef,
  type RequestId,
  type WireValue,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import type { BinaryFrames } from './binary-hooks.js';
import type { CallParts, StreamingCall } from './stream-hooks.js';
import type { WhenOffline } from './options.js';

/** One call from `client.call.x()` until its promise settles. */
export interface PendingCall {
  id: RequestId;
  procedure: string;
  def: ProcedureDef;
  value: WireValue;
  idempotencyKey: string | undefined;
  /** Epoch ms after which the caller has given up. */
  deadline: number;
  timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (error: WirecallError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Where the call is: waiting to be sent, sent on the current socket, or held for the next socket. */
  where: 'waiting' | 'sent' | 'held';
  /** A streaming call's items and input stream, run by `@wirecall/client/streams`. */
  streaming: StreamingCall | undefined;
  /** Times the server refused it for its in-flight limit (it never ran): bounds its re-sends. */
  refusals: number;
}

export interface CallRequest {
  procedure: string;
  def: ProcedureDef;
  input: unknown;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  whenOffline: WhenOffline;
  /** Credits of a streaming call: items it takes before it grants more. */
  window: number;
  /** The items of the caller's input stream, for a procedure with an `inputStream`. */
  source: AsyncIterable<unknown> | Iterable<unknown> | undefined;
}

export interface RequestManagerOptions {
  /** Sends a frame if the socket is open; false means "not connected, keep it queued". */
  send: (frame: string | Uint8Array) => boolean;
  /** The next correlation id (shared with subscriptions). */
  nextId: () => number;
  /** Whether the client is between sockets (so `whenOffline: 'fail'` applies). */
  isOffline: () => boolean;
  /** Why no call can be made any more (the client closed), or undefined while it can. */
  closedReason: () => WirecallError | undefined;
  maxQueuedCalls: number;
  /** Prefix of idempotency keys: unique per client instance. */
  clientId: string;
}

/**
 * Outgoing calls: in flight on the current socket, or waiting for it. Each settles exactly once:
 * by its result, its error, its deadline, its signal, a drop (non-idempotent calls), or close.
 *
 * At most `window` calls are in flight at once (the server announces its `maxInFlightCalls` in
 * `welcome`); the rest wait in order, so an honest client never meets the server's limit.
 */
export class RequestManager {
  readonly #pending = new Map<RequestId, PendingCall>();
  /** Not sent yet, oldest first. */
  readonly #waiting = new Set<PendingCall>();
  /** Refused with UNAVAILABLE by a server that is going away: sent again on the next socket. */
  readonly #held = new Set<PendingCall>();
  readonly #options: RequestManagerOptions;
  /** One timer for every call's deadline, armed for the earliest one; no timer or entry per call. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #inFlight = 0;
  #window = Infinity;
  #maxPayloadBytes = Infinity;
  /** Streaming calls the server runs at once (`welcome.ms`); more wait here, like calls over `mi`. */
  #maxStreams = Infinity;
  #streamsInFlight = 0;
  /** Binary frames, when the app passed them and the server takes them on this socket (`welcome.bin`). */
  #binary: BinaryFrames | undefined;
  #keySeq = 0;
  /**
   * Armed after the server refused a call for its in-flight limit: nothing is sent until it fires
   * (or an answer frees a slot), then the refused calls go first.
   */
  #windowRetry: ReturnType<typeof setTimeout> | undefined;
  #windowRetryAt = 0;

  constructor(options: RequestManagerOptions) {
    this.#options = options;
  }

  /** Calls not settled yet (in flight and queued). */
  get size(): number {
    return this.#pending.size;
  }

  /** Starts a call whose answer is one value. */
  call(request: CallRequest): Promise<unknown> {
    return new Promise((resolve, reject) => this.start(request, { resolve, reject }));
  }

  /**
   * Queues a call and returns its record, or rejects it at once (and returns undefined). Streaming
   * calls come here through the stream support (`@wirecall/client/streams`) with their parts.
   */
  start(request: CallRequest, { resolve, reject, streaming }: CallParts): PendingCall | undefined {
    const refused = this.#refusal(request);
    if (refused !== undefined) {
      reject(refused);
      return undefined;
    }
    let value: WireValue;
    try {
      // Prepared (codecs encoded) and checked here, as the server would check it, so a bad call
      // fails without a round trip.
      const checked = toWire(request.def.input, request.input);
      if (!checked.ok) {
        reject(
          new WirecallError('BAD_REQUEST', `Invalid input for ${request.procedure}`, {
            data: { issues: checked.issues },
          }),
        );
        return undefined;
      }
      value = encodeValue(checked.value);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reject(new WirecallError('BAD_REQUEST', message, { cause: error }));
      return undefined;
    }
    const { signal, def } = request;
    const id = this.#options.nextId();
    const call: PendingCall = {
      id,
      procedure: request.procedure,
      def,
      value,
      // A stream is never re-sent: its items cannot be replayed by a retry.
      idempotencyKey:
        def.idempotent === true && streaming === undefined ? `${this.#options.clientId}:${++this.#keySeq}` : undefined,
      deadline: Date.now() + request.timeoutMs,
      timeoutMs: request.timeoutMs,
      resolve,
      reject,
      signal,
      onAbort: undefined,
      where: 'waiting',
      streaming: undefined,
      refusals: 0,
    };
    call.streaming = streaming?.(call);
    this.#watchDeadline(call.deadline);
    if (signal) {
      call.onAbort = () => this.fail(call, cancelled(signal));
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    this.#pending.set(id, call);
    this.#waiting.add(call);
    this.#pump();
    return call;
  }

  /** Why a call cannot even be queued, or undefined. */
  #refusal(request: CallRequest): WirecallError | undefined {
    if (request.signal?.aborted) return cancelled(request.signal);
    const closed = this.#options.closedReason();
    if (closed) return closed;
    if (request.whenOffline === 'fail' && this.#options.isOffline()) {
      return new WirecallError('UNAVAILABLE', `Not connected; ${request.procedure} was not sent`);
    }
    if (this.#waiting.size + this.#held.size >= this.#options.maxQueuedCalls) {
      return new WirecallError('UNAVAILABLE', `Call queue is full (${this.#options.maxQueuedCalls} calls)`);
    }
    return undefined;
  }

  /** Sends a frame of a call's own (credits, items, the end of an upload) if the socket is open. */
  sendFrame(frame: string | Uint8Array): boolean {
    return this.#options.send(frame);
  }

  /**
   * The frame that carries `value`, built by `build`: binary when the server takes binary frames
   * and the value holds bytes (they then travel raw, not as base64), text otherwise.
   */
  frameOf(build: (value: WireValue) => string, value: WireValue): string | Uint8Array {
    return this.#binary === undefined ? build(value) : this.#binary.frameOf(build, value);
  }

  /**
   * Rejects a call once. `tellServer`: the caller gave up (timeout, cancel, a stream the client
   * refused), so the server is sent `cancel` and its handler's signal aborts. By default, for a
   * `CANCELLED`, and for a stream's `TIMEOUT`: a call's `TIMEOUT` is the server's own deadline
   * too (`tm`), which aborts the handler with `TIMEOUT`; a `cancel` racing it would say `CANCELLED`.
   */
  fail(call: PendingCall, error: WirecallError, tellServer?: boolean): void {
    tellServer ??= error.code === 'CANCELLED' || (error.code === 'TIMEOUT' && call.streaming !== undefined);
    if (!this.#pending.has(call.id)) return;
    if (tellServer && call.where === 'sent') this.#options.send(encodeFrame({ t: 'cancel', id: call.id }));
    this.#settle(call);
    call.reject(error);
  }

  /** Moves a call's deadline (a stream's timeout bounds each wait, not the whole stream). */
  setDeadline(call: PendingCall, deadline: number): void {
    call.deadline = deadline;
    this.#watchDeadline(deadline);
  }

  /**
   * `PAYLOAD_TOO_LARGE` with `message` when a frame is larger than the server accepts (`welcome.mp`),
   * else undefined. The server would close the whole connection with 1009, taking every other call
   * with it, so the one oversized call (or item) fails here instead.
   */
  oversized(frame: string | Uint8Array, message: string): WirecallError | undefined {
    const max = this.#maxPayloadBytes;
    // UTF-8 takes 1 to 3 bytes per UTF-16 code unit; count exactly only when the bounds disagree.
    const tooLarge =
      typeof frame === 'string' && frame.length * 3 > max && frame.length <= max
        ? new TextEncoder().encode(frame).length > max
        : frame.length > max;
    return tooLarge ? new WirecallError('PAYLOAD_TOO_LARGE', message, { data: { maxPayloadBytes: max } }) : undefined;
  }

  /** An `item` or a `credit` of streaming call `id` arrived. */
  streamFrame(envelope: ItemEnvelope | CreditEnvelope): void {
    this.#pending.get(envelope.id)?.streaming?.received(envelope); // absent: a late frame of a call that gave up
  }

  /** A socket was welcomed: adopt the server's limits and send what waits, oldest first. */
  opened(limits: {
    window: number | undefined;
    maxPayloadBytes: number | undefined;
    maxStreams: number | undefined;
    binary: BinaryFrames | undefined;
  }): void {
    this.#binary = limits.binary;
    this.#window = limits.window ?? Infinity;
    this.#maxPayloadBytes = limits.maxPayloadBytes ?? Infinity;
    this.#maxStreams = limits.maxStreams ?? Infinity;
    this.#stopWindowRetry(); // a new connection: no handler of the old one counts against it
    for (const call of this.#held) {
      call.where = 'waiting';
      this.#waiting.add(call);
    }
    this.#held.clear();
    this.#pump();
  }

  /**
   * The socket dropped. Idempotent calls go back to the queue (same idempotency key, so the server
   * runs them once even if the first attempt arrived); the others fail with `CONNECTION_LOST`,
   * because the library cannot know whether they ran.
   */
  connectionLost(error: WirecallError, final: boolean): void {
    for (const call of [...this.#pending.values()]) {
      const wasSent = call.where === 'sent';
      if (wasSent) call.where = 'waiting'; // no longer on any socket
      // An idempotent call is sent again; so is a resumable stream, which goes on after its last item.
      const retryable =
        (call.idempotencyKey !== undefined || call.streaming?.resumable === true) && RETRYABLE_CODES.has(error.code);
      if (final || (wasSent && !retryable)) this.fail(call, call.streaming?.cut(error) ?? error, false);
      else if (wasSent) this.#waiting.add(call);
    }
    this.#inFlight = 0;
    this.#streamsInFlight = 0;
    this.#stopWindowRetry();
  }

  /** Rejects everything (client closed). */
  rejectAll(error: WirecallError): void {
    this.#stopWindowRetry();
    for (const call of [...this.#pending.values()]) this.fail(call, error);
    // The deadline timer may be armed for a call answered earlier: nothing is left to expire.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** A `result` arrived. Returns false for an unknown id (late answer to a call that gave up). */
  resolve(id: RequestId, wire: WireValue): boolean {
    const call = this.#pending.get(id);
    if (call === undefined) return false;
    let value: unknown;
    try {
      value = decodeValue(wire);
    } catch {
      this.fail(call, new WirecallError('INTERNAL', `The server sent a malformed result for ${call.procedure}`));
      return true;
    }
    // The result travels in its schema's input side: parsing it here is what runs the output's
    // transforms and codecs, once, and checks it against the contract.
    const checked =
      call.def.output === undefined ? { ok: true as const, value: undefined } : checkSchema(call.def.output, value);
    if (!checked.ok) {
      this.fail(
        call,
        new WirecallError('INTERNAL', `The result of ${call.procedure} does not match the contract`, {
          data: { issues: checked.issues },
        }),
      );
      return true;
    }
    value = checked.value;
    this.#answered(call);
    this.#settle(call);
    call.resolve(value);
    return true;
  }

  /**
   * An `error` arrived for `id`. An `UNAVAILABLE` that the server marks `notExecuted` (it is shutting
   * down and never ran the handler) holds the call, idempotent or not, for the next connection. A
   * `RATE_LIMITED` with `data.maxInFlightCalls` (the server's in-flight limit, which also counts the
   * handlers of cancelled calls still winding down, and which it checks before running anything) sends
   * the call again shortly, a bounded number of times within its deadline. Any other error, including
   * an `UNAVAILABLE` a handler threw after running, rejects the call.
   */
  reject(id: RequestId, shape: ErrorShape): boolean {
    const call = this.#pending.get(id);
    if (call === undefined) return false;
    const error = fromErrorShape(shape, call.def.errors, decodeValue);
    if (call.where === 'sent') {
      const data = error.data as { notExecuted?: unknown; maxInFlightCalls?: unknown } | undefined;
      if (error.code === 'UNAVAILABLE' && data?.notExecuted === true) {
        this.#unsend(call);
        call.where = 'held';
        this.#held.add(call);
        this.#pump();
        return true;
      }
      if (error.code === 'RATE_LIMITED' && typeof data?.maxInFlightCalls === 'number' && this.#retryLater(call)) {
        return true;
      }
    }
    // A refusal frees no slot on the server; any other answer comes from a call it took.
    if (error.code !== 'RATE_LIMITED') this.#answered(call);
    this.fail(call, error);
    return true;
  }

  /**
   * Puts a call the server refused for its in-flight limit back at the head of the queue, and holds
   * the queue for a backoff delay. False when the call has been refused too often, or its deadline
   * would pass before the next attempt: it then fails with the refusal.
   */
  #retryLater(call: PendingCall): boolean {
    const delayMs = Math.min(WINDOW_RETRY_MS * 2 ** call.refusals, WINDOW_RETRY_MAX_MS);
    // Another refusal may have armed the wait already: the call goes again when it ends.
    const retryAt = this.#windowRetry === undefined ? Date.now() + delayMs : this.#windowRetryAt;
    if (call.refusals >= WINDOW_RETRIES || retryAt >= call.deadline) return false;
    call.refusals++;
    this.#unsend(call);
    call.where = 'waiting';
    // Back in creation order (ids only grow), ahead of the calls that came after it.
    const queued = [...this.#waiting, call].sort((a, b) => Number(a.id) - Number(b.id));
    this.#waiting.clear();
    for (const each of queued) this.#waiting.add(each);
    if (this.#windowRetry === undefined) {
      this.#windowRetryAt = retryAt;
      this.#windowRetry = setTimeout(() => {
        this.#windowRetry = undefined;
        this.#pump();
      }, delayMs);
      (this.#windowRetry as { unref?: () => void }).unref?.();
    }
    return true;
  }

  /** The server answered a call it ran: its slot is free there, so a held queue may go on at once. */
  #answered(call: PendingCall): void {
    if (call.where === 'sent') this.#stopWindowRetry(); // #settle pumps
  }

  #stopWindowRetry(): void {
    clearTimeout(this.#windowRetry);
    this.#windowRetry = undefined;
  }

  /** A sent call is not on the server after all: it leaves the window. */
  #unsend(call: PendingCall): void {
    this.#inFlight--;
    if (call.streaming !== undefined) this.#streamsInFlight--;
  }

  /** Sends waiting calls while the window has room and the socket takes them. */
  #pump(): void {
    if (this.#windowRetry !== undefined) return; // the server is full: the refused calls wait, then go first
    for (const call of this.#waiting) {
      if (this.#inFlight >= this.#window) return;
      const remaining = call.deadline - Date.now();
      if (remaining <= 0) continue; // its timer fires at once
      const { id, procedure, value, idempotencyKey, streaming } = call;
      if (streaming && this.#streamsInFlight >= this.#maxStreams) continue; // waits for a stream to end
      // The server takes deadlines a timer can hold; a longer one (or Infinity) is sent capped. A
      // stream sends none (its timeout is the client's, per item), but its credits and resume point.
      const { tm, cr, after }: { tm?: number; cr?: number | undefined; after?: string | undefined } =
        streaming?.open() ?? {
          tm: Math.min(remaining, MAX_TIMER_MS),
        };
      const frame = this.frameOf(
        (wire) => encodeFrame({ t: 'call', id, p: procedure, tm, ik: idempotencyKey, cr, after, ...wire }),
        value,
      );
      const tooLarge = this.oversized(frame, `${procedure}: the call is larger than the server accepts`);
      if (tooLarge) {
        this.fail(call, tooLarge);
        continue;
      }
      if (!this.#options.send(frame)) return;
      this.#waiting.delete(call);
      call.where = 'sent';
      this.#inFlight++;
      if (streaming) this.#streamsInFlight++;
    }
  }

  #watchDeadline(deadline: number): void {
    if (deadline >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.min(deadline - Date.now(), MAX_TIMER_MS));
    (this.#timer as { unref?: () => void }).unref?.(); // never keeps a Node process alive
  }

  /**
   * Fails the calls whose deadline has passed and arms the timer for the next one. A scan of the
   * pending calls: it runs about once per timeout, not once per call.
   */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const call of [...this.#pending.values()]) {
      if (call.deadline <= now) {
        const what = call.streaming?.timedOut ?? 'timed out';
        this.fail(call, new WirecallError('TIMEOUT', `${call.procedure} ${what} within ${call.timeoutMs} ms`));
      } else if (call.deadline < next) next = call.deadline;
    }
    if (next !== Infinity) this.#watchDeadline(next);
  }

  #settle(call: PendingCall): void {
    this.#pending.delete(call.id);
    call.streaming?.stop();
    if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
    if (call.where === 'sent') {
      this.#inFlight--;
      if (call.streaming !== undefined) this.#streamsInFlight--;
      this.#pump();
    } else {
      this.#waiting.delete(call);
      this.#held.delete(call);
    }
  }
}

/** The longest delay a timer can hold (~24.8 days); a later deadline is re-checked then. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A call the server refused for its in-flight limit is sent again after this long, doubling on each
 * refusal up to {@link WINDOW_RETRY_MAX_MS}, at most {@link WINDOW_RETRIES} times (about 5.6 s in
 * all): the server counts cancelled calls whose handlers have not returned, which it does not announce.
 */
const WINDOW_RETRY_MS = 25;
const WINDOW_RETRY_MAX_MS = 1_000;
const WINDOW_RETRIES = 10;

function cancelled(signal: AbortSignal): WirecallError {
  return new WirecallError('CANCELLED', 'The call was cancelled', { cause: signal.reason });
}
