import {
  checkSchema,
  encodeFrame,
  itemFrame,
  MAX_CREDITS,
  toWire,
  WirecallError,
  type ProcedureDef,
} from '@wirecall/core/internal';
import type { CallRequest, PendingCall } from '../request-manager.js';
import type { StreamCallHost, StreamSender, StreamSupport } from '../stream-hooks.js';
import { decodeValue, encodeValue } from '../value-codec.js';
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
function uploadOf(manager: StreamCallHost, request: CallRequest, call: PendingCall): StreamSender {
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
        if (manager.tooLarge(frame)) {
          throw new WirecallError(
            'PAYLOAD_TOO_LARGE',
            `An item of ${call.procedure} is larger than the server accepts`,
            {
              data: { maxPayloadBytes: manager.maxPayloadBytes },
            },
          );
        }
        manager.sendFrame(frame);
        return true;
      } catch (error) {
        manager.failCall(call, asWirecallError(error, 'BAD_REQUEST'), true);
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
      manager.failCall(
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
        if (started.call) manager.failCall(started.call, new WirecallError('CANCELLED', 'The stream was cancelled'));
      },
      // The timeout bounds the wait for the next item, not the whole stream.
      waiting: (isWaiting) => {
        const { call } = started;
        if (call) manager.setDeadline(call, isWaiting ? Date.now() + call.timeoutMs : Infinity);
      },
    },
    request.window,
  );
  const schema = request.def.stream!;
  let lastItemId: string | undefined;
  started.call = manager.start(request, {
    resolve: (value) => stream.finish(value),
    reject: (error) => stream.fail(error),
    stream: {
      get received() {
        return stream.received;
      },
      get lastItemId() {
        return lastItemId;
      },
      openCredits: () => stream.openCredits(),
      // Items travel in the stream schema's input side: parsing here runs its transforms, once.
      item: (wire) => {
        const call = started.call!;
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
          manager.failCall(call, reason, true);
        }
      },
    },
    upload: request.def.inputStream === undefined ? undefined : (call) => uploadOf(manager, request, call),
  });
  return stream;
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
      manager.start(request, { resolve, reject, upload: (call) => uploadOf(manager, request, call) }),
    );
  },
};
