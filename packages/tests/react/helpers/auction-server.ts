/**
 * A real wirecall server of the auction contract on 127.0.0.1 (any free port), its state, and a
 * client of it: what every @wirecall/react test starts. Dispose it to close both.
 */
import type { WirecallClient } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import type { Caller, WirecallServer } from '@wirecall/server';
import { connectClient, startTestServer, type TestServer } from '../../helpers/test-server.js';
import { auctionApi, type AuctionApi } from './auction-api.js';
import { auctionHandlers, auctionState, type AuctionState } from './auction-handlers.js';

export interface AuctionServer extends AsyncDisposable {
  server: WirecallServer<AuctionApi>;
  url: string;
  port: number;
  state: AuctionState;
  /** A new client of the server (closed with it). */
  connect(): WirecallClient<AuctionApi>;
  /** The server-side caller (the server has no `context` option: its default context). */
  caller(): Caller<AuctionApi>;
}

export async function startAuctionServer(options: { port?: number } = {}): Promise<AuctionServer> {
  const state = auctionState();
  const emitter: { server?: WirecallServer<AuctionApi> } = {};
  const handlers = auctionHandlers(state, async (auction) => {
    await emitter.server!.emit('auctions.changed', auction, { params: { id: auction.id } });
  });
  const started: TestServer<AuctionApi> = await startTestServer(auctionApi, {
    handlers,
    port: options.port ?? 0,
    presence: { graceMs: 0 },
  });
  emitter.server = started.server;
  const clients: WirecallClient<AuctionApi>[] = [];
  return {
    server: started.server,
    url: started.url,
    port: started.port,
    state,
    caller: () => started.server.createCaller({ auth: undefined, connectionParams: undefined }),
    connect() {
      const client = connectClient(auctionApi, started.url, { streams, presence });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((client) => client.close()));
      await started[Symbol.asyncDispose]();
    },
  };
}
