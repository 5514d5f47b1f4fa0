/**
 * A corporate proxy in miniature: forwards plain HTTP requests (streamed both ways, so Server-Sent
 * Events pass) to a target, and refuses every WebSocket upgrade with 403, as middleboxes that
 * block upgraded connections do. The target can be set after the proxy listens (its address goes
 * into the server's `allowedOrigins`).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export interface BlockingProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** Where requests go (`http://127.0.0.1:<port>`). */
  target: string | undefined;
  /** Upgrades refused so far. */
  refusedUpgrades: number;
  /** Refuse upgrades (true, the default), or tunnel them to the target (the proxy was fixed). */
  blockUpgrades: boolean;
}

export async function startBlockingProxy(target?: string): Promise<BlockingProxy> {
  const proxy: { server?: Server } & Omit<BlockingProxy, 'origin' | 'port' | typeof Symbol.asyncDispose> = {
    target,
    refusedUpgrades: 0,
    blockUpgrades: true,
  };
  const server = createServer((incoming, outgoing) => {
    const to = new URL(incoming.url ?? '/', proxy.target);
    const upstream = httpRequest(
      to,
      { method: incoming.method, headers: { ...incoming.headers, host: to.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        outgoing.on('close', () => answer.destroy());
      },
    );
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  server.on('upgrade', (request, socket, head) => {
    socket.on('error', () => {});
    if (proxy.blockUpgrades) {
      proxy.refusedUpgrades++;
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const to = new URL(proxy.target!);
    const upstream = connect(Number(to.port), to.hostname, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2)
        lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    origin: `http://127.0.0.1:${port}`,
    port,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
