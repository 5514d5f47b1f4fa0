import {
  checkSchema,
  encodeFrame,
  itemFrame,
  MAX_CREDITS,
  toWire,
  WirecallError,
  type ErrorCode,
  type ItemEnvelope,
  type ProcedureDef,
  decodeValue,
  encodeValue,
} from '@wirecall/core/internal';
import type { CallRequest, PendingCall } from '../request-manager.js';
import type { StreamCallHost, StreamingCall, StreamSupport } from '../stream-hooks.js';
import { ClientStream } from './call-stream.js';
import { UploadPump } from './upload-pump.js';

/** A WirecallError as is; anything else (a TypeError from encoding) with `code` and its message. */
function asWirecallError(error: unknown, code: 'BAD_REQUEST' | 'INTERNAL', message?: string): WirecallError {
  if (error instanceof WirecallError) return error as WirecallError;
  return new WirecallError(code, message ?? (error instanceof Error ? error.message : String(error)), {
    cause: error,
  });
}

/** The caller's input stream of `call`: each item checked against the contract and the size limit. */
function uploadOf(manager: StreamCallHost, request: CallRequest, call: PendingCall): UploadPump {
  const schema = request.def.inputStream as NonNullable<ProcedureDef['inputStream']>;
  return new UploadPump(request.source!, {
    sendItem: (item) => {
      try {
        const checked = toWire(schema, item);
        if (!checked.ok) {
          throw new WirecallError('BAD_REQUEST', `An item of ${call.procedure}'s input stream is invalid`, {
            data: { issues: checked.issues },
          });
        }
        const frame = manager.frameOf((value) => itemFrame(call.id, value), encodeValue(checked.value));
        const tooLarge = manager.oversized(frame, `An item of ${call.procedure} is larger than the server accepts`);
        if (tooLarge) throw tooLarge;
        manager.sendFrame(frame);
        return true;
      } catch (error) {
        manager.fail(call, asWirecallError(error, 'BAD_REQUEST'), true);
        return false;
      }
    },
    sendEnd: () => {
      manager.sendFrame(encodeFrame({ t: 'end', id: call.id }));
      // Now the answer is what the call waits for.
      if (request.def.stream === undefined) manager.setDeadline(call, Date.now() + call.timeoutMs);
    },
    // An upload's timeout bounds the wait for the server to take more, never the app's own source.
    waiting: (forServer) => {
      if (request.def.stream === undefined) {
        manager.setDeadline(call, forServer ? Date.now() + call.timeoutMs : Infinity);
      }
    },
    sourceFailed: (error) =>
      manager.fail(
        call,
        new WirecallError('CANCELLED', `The input stream of ${call.procedure} threw`, { cause: error }),
        true,
      ),
  });
}

/** Starts a call that answers with items (and a final value), maybe with an input stream too. */
function streamCall(manager: StreamCallHost, request: CallRequest): ClientStream {
  const started: { call?: PendingCall | undefined } = {};
  const stream = new ClientStream(
    {
      grant: (n) => {
        const { call } = started;
        if (call?.where === 'sent') manager.sendFrame(encodeFrame({ t: 'credit', id: call.id, n }));
      },
      cancel: () => {
        if (started.call) manager.fail(started.call, new WirecallError('CANCELLED', 'The stream was cancelled'));
      },
      // The timeout bounds the wait for the next item, not the whole stream.
      waiting: (isWaiting) => {
        const { call } = started;
        if (call) manager.setDeadline(call, isWaiting ? Date.now() + call.timeoutMs : Infinity);
      },
    },
    request.window,
  );
  const { def } = request;
  const schema = def.stream!;
  const resumable = def.resumable === true;
  let lastItemId: string | undefined;
  /** Items travel in the stream schema's input side: parsing here runs its transforms, once. */
  const item = (wire: ItemEnvelope, call: PendingCall): void => {
    if (wire.iid !== undefined) lastItemId = wire.iid;
    try {
      const checked = checkSchema(schema, decodeValue(wire));
      if (!checked.ok) {
        throw new WirecallError('INTERNAL', `An item of ${call.procedure} does not match the contract`, {
          data: { issues: checked.issues },
        });
      }
      if (!stream.push(checked.value)) {
        throw new WirecallError('INTERNAL', `The server sent more items of ${call.procedure} than it was granted`);
      }
    } catch (error) {
      const reason = asWirecallError(error, 'INTERNAL', `The server sent a malformed item of ${call.procedure}`);
      manager.fail(call, reason, true);
    }
  };
  started.call = manager.start(request, {
    resolve: (value) => stream.finish(value),
    reject: (error) => stream.fail(error),
    streaming: (call) => {
      const upload = def.inputStream === undefined ? undefined : uploadOf(manager, request, call);
      return {
        // A resumable stream sent again after a drop goes on after the last item it got.
        open: () => ({ cr: stream.openCredits(), after: resumable ? lastItemId : undefined }),
        received: (envelope) => (envelope.t === 'item' ? item(envelope, call) : upload?.grant(envelope.n)),
        resumable,
        // A stream cut by a drop says how many items arrived.
        cut: (error) =>
          new WirecallError(error.code as ErrorCode, error.message, { data: { received: stream.received } }),
        timedOut: 'sent no item',
        stop: () => upload?.stop(),
      };
    },
  });
  return stream;
}

/** The streaming side of a call whose only stream is its input (it answers with one value). */
function uploadCall(upload: UploadPump): StreamingCall {
  return {
    open: () => ({}),
    // Credits for its input stream; it has no items to receive.
    received: (envelope) => {
      if (envelope.t === 'credit') upload.grant(envelope.n);
    },
    resumable: false,
    cut: (error) => error,
    timedOut: 'timed out',
    stop: () => upload.stop(),
  };
}

/**
 * Streaming procedures for `createClient`: items under credit-based flow control, uploads and
 * duplex calls. Import it where the contract has procedures with a `stream` or an `inputStream`;
 * apps without them do not ship this code.
 *
 * @example
 * import { streams } from '@wirecall/client/streams';
 * const client = createClient(api, { url, streams });
 */
/** Why a streaming call cannot start, or undefined. */
function refusal(request: CallRequest): WirecallError | undefined {
  if (request.def.inputStream !== undefined && request.source === undefined) {
    return new WirecallError('BAD_REQUEST', `${request.procedure} takes an input stream (an iterable)`);
  }
  const { window } = request;
  if (!Number.isSafeInteger(window) || window < 1 || window > MAX_CREDITS) {
    return new WirecallError('BAD_REQUEST', `window must be a whole number from 1 to ${MAX_CREDITS}`);
  }
  return undefined;
}

export const streams: StreamSupport = {
  call(manager, request) {
    const error = refusal(request);
    if (error !== undefined) {
      if (request.def.stream === undefined) return Promise.reject(error);
      const failed = new ClientStream({ grant: () => {}, cancel: () => {}, waiting: () => {} }, 1);
      failed.fail(error);
      return failed;
    }
    if (request.def.stream !== undefined) return streamCall(manager, request);
    return new Promise((resolve, reject) =>
      manager.start(request, { resolve, reject, streaming: (call) => uploadCall(uploadOf(manager, request, call)) }),
    );
  },
};
