/**
 * The one way tests start a server and connect a typed client, for any contract:
 * {@link startTestServer} and {@link connectClient}. Both results are `AsyncDisposable`, so
 * `await using` closes them even when an assertion fails. What a contract's server runs (the
 * fixtures' handlers) is data beside its contract: `testApiOptions()` in test-handlers.ts,
 * `resilienceHandlers()` in resilience-api.ts, `idempotentHandlers()` in extra-fixtures.ts.
 */
import {
  createClient,
  type ClientLogger,
  type ClientOptions,
  type UrlOption,
  type WirecallClient,
} from '@wirecall/client';
import type { AnyContract } from '@wirecall/core';
import {
  createServer,
  type DefaultContext,
  type Logger,
  type MessagesField,
  type ServerOptions,
  type WirecallServer,
} from '@wirecall/server';

/** Everything the server logged, so tests can assert what stays on the server. */
export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  details: object;
  message: string | undefined;
}

export function recordingLogger(entries: LogEntry[]): Logger {
  const record =
    (level: LogEntry['level']) =>
    (details: object, message?: string): void => {
      entries.push({ level, details, message });
    };
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
}

/** A typed client's logger that records nothing and prints nothing (the setup file fails on console output). */
export const quietClientLogger: ClientLogger = { warn: (): void => {}, error: (): void => {} };

export type TestServerOptions<TContract extends AnyContract, TContext, TAuth> = ServerOptions<
  TContract,
  TContext,
  TAuth
> &
  MessagesField<TContract, TContext> & {
    /** A fixed port, to restart a server where its clients reconnect. @default 0 (any free port) */
    port?: number;
  };

export interface TestServer<
  TContract extends AnyContract,
  TContext = DefaultContext<TContract, undefined>,
  TAuth = undefined,
> extends AsyncDisposable {
  server: WirecallServer<TContract, TContext, TAuth>;
  url: string;
  port: number;
  /** What the server logged (unless the options brought their own logger). */
  logs: LogEntry[];
}

/**
 * Starts a server for any contract on 127.0.0.1 and a free port (or `options.port`), logging into
 * `logs` unless the options bring a logger; dispose it to close it (with no grace period).
 */
export async function startTestServer<
  TContract extends AnyContract,
  TAuth = undefined,
  TContext = DefaultContext<TContract, TAuth>,
>(
  contract: TContract,
  options: TestServerOptions<TContract, TContext, TAuth>,
): Promise<TestServer<TContract, TContext, TAuth>> {
  const { port: wantedPort = 0, ...serverOptions } = options;
  const logs: LogEntry[] = [];
  // Generic here, so the compiler cannot resolve MessagesField: the callers' options were checked.
  const withLogger = { logger: recordingLogger(logs), ...serverOptions } as ServerOptions<TContract, TContext, TAuth> &
    MessagesField<TContract, TContext>;
  const server = createServer<TContract, TAuth, TContext>(contract, withLogger);
  const { url, port } = await server.listen({ port: wantedPort, host: '127.0.0.1' });
  return { server, url, port, logs, [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }) };
}

/** A client's options but its url; optional when the contract requires none of them. */
export type TestClientOptions<TContract extends AnyContract> = Omit<ClientOptions<TContract>, 'url'>;
type OptionsArg<TContract extends AnyContract> =
  Partial<TestClientOptions<TContract>> extends TestClientOptions<TContract>
    ? [options?: TestClientOptions<TContract>]
    : [options: TestClientOptions<TContract>];

/**
 * A typed client of any contract that prints nothing ({@link quietClientLogger} unless the options
 * bring a logger); dispose it (`await using`) to close it. To see its state transitions, pass it
 * to `recordStates` (chaos-kit.ts) right away.
 */
export function connectClient<TContract extends AnyContract>(
  contract: TContract,
  url: UrlOption,
  ...[options]: OptionsArg<TContract>
): WirecallClient<TContract> {
  return createClient(contract, { logger: quietClientLogger, ...options, url } as ClientOptions<TContract>);
}
