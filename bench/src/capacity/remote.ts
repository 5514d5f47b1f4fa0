/**
 * The primary's side of its processes: cluster workers (servers) and forked client processes both
 * answer `{ rid, op, args }` requests over their IPC channel (`serveRequests` of ../ipc.ts) and say
 * `{ ready: true }` once they can. One class serves both, since both are an EventEmitter with
 * `send` and `message` / `exit` events.
 */
import { awaitReply, settleReply, type IpcRequest, type PendingRequest } from '../ipc.js';

/** What a cluster `Worker` and a `ChildProcess` have in common, as far as requests go. */
export interface Channel {
  send(message: IpcRequest): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit', listener: (code: number | null, signal: string | null) => void): unknown;
  kill(signal?: NodeJS.Signals): unknown;
  disconnect(): void;
}

export class Remote {
  readonly label: string;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #alive = true;
  #nextRid = 0;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #channel: Channel;

  constructor(label: string, channel: Channel, readyTimeoutMs: number) {
    this.label = label;
    this.#channel = channel;
    let markReady: () => void = () => {};
    let failReady: (error: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    const readyTimer = setTimeout(
      () => failReady(new Error(`${label} was not ready within ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    channel.on('message', (message) => {
      if (typeof message === 'object' && message !== null && 'ready' in message) {
        clearTimeout(readyTimer);
        markReady();
        return;
      }
      settleReply(this.#pending, message, label);
    });
    this.exited = new Promise<void>((resolve) => {
      channel.once('exit', (code, signal) => {
        this.#alive = false;
        clearTimeout(readyTimer);
        const error = new Error(`${label} exited (${String(code ?? signal)})`);
        failReady(error);
        for (const pending of this.#pending.values()) {
          clearTimeout(pending.timer);
          pending.reject(error);
        }
        this.#pending.clear();
        resolve();
      });
    });
    // Nobody may be awaiting `ready` when the process dies early; the exit is reported elsewhere.
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** One request, answered within `timeoutMs` or rejected. */
  call<T>(op: string, args: unknown, timeoutMs: number): Promise<T> {
    if (!this.#alive) return Promise.reject(new Error(`${this.label} is not running`));
    const rid = ++this.#nextRid;
    return awaitReply<T>(this.#pending, (request) => this.#channel.send(request), {
      rid,
      op,
      args,
      label: this.label,
      timeoutMs,
    });
  }

  /** Closes the IPC channel: the process exits by itself when it sees that. */
  disconnect(): void {
    if (this.#alive) this.#channel.disconnect();
  }

  /** SIGKILL: for failures and timeouts, when a clean close is no longer worth waiting for. */
  kill(): void {
    if (this.#alive) this.#channel.kill('SIGKILL');
  }
}
