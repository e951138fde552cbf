import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real store server for the faults test/stores/helpers/tcp-proxy.ts
 * does not make: a server that stops answering without closing anything (as under SIGSTOP), and a
 * request that the server carries out but whose reply never comes back.
 */
export interface FaultProxy {
  port: number;
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

export async function startFaultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let lose: { marker: string; cut: () => void } | undefined;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (frozen) socket.pause();
  };

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    track(client);
    track(upstream);
    let cutOnReply: (() => void) | undefined;
    client.on('data', (chunk) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    port: (server.address() as { port: number }).port,
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
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
