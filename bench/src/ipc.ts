/**
 * The orchestrator drives its children with requests over the IPC channel ('advanced'
 * serialization, so bigint timestamps travel as they are): `{ rid, op, args }` in,
 * `{ rid, ok, value | error }` out. A child announces `{ ready: true }` once it listens.
 */

export interface IpcRequest {
  rid: number;
  op: string;
  args: unknown;
}

export type IpcReply = { rid: number; ok: true; value: unknown } | { rid: number; ok: false; error: string };

export interface IpcReady {
  ready: true;
}

/** What a child can do, by operation name. */
export type Operations = Record<string, (args: never) => unknown>;

export function isReply(message: unknown): message is IpcReply {
  return typeof message === 'object' && message !== null && 'rid' in message && 'ok' in message;
}

/** Child side: answers the orchestrator's requests with `operations`, then says it is ready. */
export function serveRequests(operations: Operations): void {
  const send = (message: IpcReply | IpcReady): void => {
    process.send?.(message);
  };
  process.on('message', (message: IpcRequest) => {
    // Other messages share the channel in a node:cluster worker (wirecall's workerBroker): not ours.
    if (typeof message?.rid !== 'number' || typeof message.op !== 'string') return;
    const operation = operations[message.op];
    void (async () => {
      try {
        if (operation === undefined) throw new Error(`unknown operation ${message.op}`);
        const value = await operation(message.args as never);
        send({ rid: message.rid, ok: true, value });
      } catch (error) {
        send({
          rid: message.rid,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  send({ ready: true });
}

/** A request waiting for its reply. */
export interface PendingRequest {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Settles (and forgets) the request a reply answers; anything else on the channel is ignored. */
export function settleReply(pending: Map<number, PendingRequest>, message: unknown, label: string): void {
  if (!isReply(message)) return;
  const request = pending.get(message.rid);
  if (request === undefined) return;
  pending.delete(message.rid);
  clearTimeout(request.timer);
  if (message.ok) request.resolve(message.value);
  else request.reject(new Error(`${label}: ${message.error}`));
}

/** Sends request `rid` with `send` and waits for its reply (see {@link settleReply}), at most `timeoutMs`. */
export function awaitReply<T>(
  pending: Map<number, PendingRequest>,
  send: (request: IpcRequest) => void,
  { label, timeoutMs, ...request }: IpcRequest & { label: string; timeoutMs: number },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(request.rid);
      reject(new Error(`${label}: ${request.op} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(request.rid, { resolve: resolve as (value: unknown) => void, reject, timer });
    send(request);
  });
}
