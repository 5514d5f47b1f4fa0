/**
 * The public face of one connection, given to handlers, hooks and `canSubscribe`. `close()` ends it
 * with a close code of the caller's choice: for example `CLOSE_CODES.UNAUTHORIZED` (4401) when its
 * credentials expired, which the client treats as an auth refusal.
 */
export interface ConnectionInfo {
  /** Unique across the nodes of a deployment (a node's random id, then a counter). */
  readonly id: string;
  /**
   * The user this connection belongs to, from the server's `identify` (undefined without it, or
   * for an anonymous connection): what personal events, presence, `disconnectUser` and
   * `connectionsOf` go by.
   */
  readonly user: string | undefined;
  /** The peer's IP address as the socket saw it (behind a proxy, the proxy's). */
  readonly remoteAddress: string | undefined;
  /**
   * The URL of the upgrade request (path and query). The request itself, with its headers, goes to
   * `authenticate` and `context` and is then released (an idle connection should not hold it):
   * copy what handlers need (a user agent, a tenant) into the context.
   */
  readonly url: string | undefined;

  close(code?: number, reason?: string): void;
}
