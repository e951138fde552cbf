import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server that tests can take down and bring back, or use to cut a
 * connection in the middle of a request, to see how a store behaves when its server goes away.
 */
export interface TcpProxy {
  port: number;
  /** Stops accepting connections and drops the open ones, as a crashed server would. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /** The next request bytes a client sends are swallowed and its connection is dropped. */
  dropNextRequest(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let dropArmed: (() => void) | undefined;
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };

  const handle = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (dropArmed) {
        const dropped = dropArmed;
        dropArmed = undefined;
        client.destroy();
        upstream.destroy();
        dropped();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
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
    close: stop,
  };
}
