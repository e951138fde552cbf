import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real store server that tests use to make it fail the ways a real one
 * does: go away and come back, drop a request, stop answering without closing anything (as under
 * SIGSTOP), or carry out a request whose reply never comes back.
 */
export interface TcpProxy {
  port: number;
  /** Stops accepting connections and drops the open ones, as a crashed server would. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /** The next request bytes a client sends are swallowed and its connection is dropped. */
  dropNextRequest(): Promise<void>;
  /** Forwards nothing either way, on open connections and new ones, until thaw(). */
  freeze(): void;
  thaw(): void;
  /**
   * The next request holding `marker` reaches the server; its connection is cut as the reply comes
   * back, so the server did the work and the client never hears of it. Resolves once cut.
   */
  loseReplyTo(marker: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let dropArmed: (() => void) | undefined;
  let lose: { marker: string; cut: () => void } | undefined;
  let frozen = false;
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (frozen) socket.pause();
  };

  const handle = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    track(client);
    track(upstream);
    let cutOnReply: (() => void) | undefined;
    client.on('data', (chunk) => {
      if (dropArmed) {
        const dropped = dropArmed;
        dropArmed = undefined;
        client.destroy();
        upstream.destroy();
        dropped();
        return;
      }
      if (lose && chunk.includes(lose.marker)) {
        cutOnReply = lose.cut;
        lose = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cutOnReply) {
        client.destroy();
        upstream.destroy();
        cutOnReply();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer(handle);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });

  const stop = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    down: stop,
    up: listen,
    dropNextRequest: () =>
      new Promise<void>((resolve) => {
        dropArmed = resolve;
      }),
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    loseReplyTo: (marker) =>
      new Promise<void>((resolve) => {
        lose = { marker, cut: resolve };
      }),
    close: stop,
  };
}
