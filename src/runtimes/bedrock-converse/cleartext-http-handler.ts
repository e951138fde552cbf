import type { NodeHttpHandlerModule } from './load-bedrock-sdk.js';

type NodeHttpHandler = InstanceType<NodeHttpHandlerModule['NodeHttpHandler']>;
type NodeHttp2Handler = InstanceType<NodeHttpHandlerModule['NodeHttp2Handler']>;
type HandleArguments = Parameters<NodeHttpHandler['handle']>;
type HandleResult = ReturnType<NodeHttpHandler['handle']>;

const HTTP2_SETTINGS_FRAME = 0x04;

/**
 * True when the server answered an HTTP/1.1 request with HTTP/2 frames: an HTTP/2-only server
 * opens with a SETTINGS frame (its connection preface) and never reads the request as HTTP/1.1,
 * so sending it again over HTTP/2 cannot run it twice.
 */
function answeredInHttp2(error: unknown): boolean {
  const { code, rawPacket } = (error ?? {}) as { code?: unknown; rawPacket?: unknown };
  return (
    code === 'HPE_INVALID_CONSTANT' &&
    rawPacket instanceof Uint8Array &&
    rawPacket[3] === HTTP2_SETTINGS_FRAME
  );
}

/** Converse request bodies are JSON text; only such a body can be sent a second time. */
function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

/**
 * The request handler for `http://` endpoints (the emulator, local proxies). The AWS SDK's default
 * handler speaks only HTTP/2 and fails against an HTTP/1.1 server with "Protocol error", while
 * the HTTP/1.1 handler cannot talk to an HTTP/2-only (h2c) server. This one speaks HTTP/1.1,
 * what nearly every local server understands, and switches to HTTP/2 with prior knowledge for
 * good once a server answers in HTTP/2.
 */
export class CleartextHttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly http1: NodeHttpHandler;
  private http2: NodeHttp2Handler | undefined;
  private serverSpeaksHttp2 = false;

  constructor(private readonly handlers: NodeHttpHandlerModule) {
    this.http1 = new handlers.NodeHttpHandler();
  }

  private http2Handler(): NodeHttp2Handler {
    this.http2 ??= new this.handlers.NodeHttp2Handler();
    return this.http2;
  }

  async handle(...[request, options]: HandleArguments): HandleResult {
    if (this.serverSpeaksHttp2) return this.http2Handler().handle(request, options);
    try {
      return await this.http1.handle(request, options);
    } catch (error) {
      if (!answeredInHttp2(error) || !isReplayable(request.body)) throw error;
      const response = await this.http2Handler().handle(request, options);
      this.serverSpeaksHttp2 = true;
      return response;
    }
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler['updateHttpClientConfig']>): void {
    this.http1.updateHttpClientConfig(...args);
  }

  httpHandlerConfigs(): ReturnType<NodeHttpHandler['httpHandlerConfigs']> {
    return this.http1.httpHandlerConfigs();
  }

  destroy(): void {
    this.http1.destroy();
    this.http2?.destroy();
  }
}
