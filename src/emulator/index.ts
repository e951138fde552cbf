import * as z from 'zod/v4';
import { CloudhopError } from '../core/errors.js';
import { describeIssues, type EmulatorFault, FaultController, faultSchema, parseFaults } from './faults.js';
import type { EmulatorRespond } from './model.js';
import { createEmulatorServer } from './server.js';
import { ServerState } from './state.js';
import { type EmulatorRequestRecord, type EmulatorStats, StatsRecorder } from './stats.js';

export type { EmulatorFault, EmulatorRoute } from './faults.js';
export type { JsonSchema } from './json-schema.js';
export type {
  EmulatorContext,
  EmulatorContextEntry,
  EmulatorProtocol,
  EmulatorReply,
  EmulatorRespond,
  EmulatorResponseFormat,
  EmulatorTool,
  EmulatorToolChoice,
} from './model.js';
export type { EmulatorRequestRecord, EmulatorRouteStats, EmulatorStats } from './stats.js';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to bind; 127.0.0.1 by default, so nothing outside this machine can reach it. */
  host?: string;
  /** Scripts replies; return undefined to let the built-in deterministic model answer. */
  respond?: EmulatorRespond;
  /** Faults active from the start (the same shape as `faults.set`). */
  faults?: EmulatorFault[];
  /** Stored responses and conversations vanish this long after creation, as expired vendor state does. */
  expireAfterMs?: number;
}

export interface Emulator {
  /** `http://host:port`, the server root. */
  url: string;
  /** The Azure resource root (`AzureOpenAI({ endpoint })`, which appends `/openai`). */
  azureEndpoint: string;
  /** `url + '/v1'`, for `new OpenAI({ baseURL })`. */
  openaiBaseURL: string;
  /** For `new BedrockRuntimeClient({ endpoint })`; HTTP/1.1 and HTTP/2 both work. */
  bedrockEndpoint: string;
  faults: {
    /** Replaces the active faults; throws `invalid_config` on a bad fault. */
    set(fault: EmulatorFault | EmulatorFault[]): void;
    clear(): void;
    list(): EmulatorFault[];
  };
  /** Requests and request-body bytes received per route. */
  stats(): EmulatorStats;
  /** The last `limit` requests (default: all kept: up to 200, and 64 MB of bodies), oldest first. */
  requests(limit?: number): EmulatorRequestRecord[];
  /** Stops listening and ends open connections (keep-alive and HTTP/2 sessions included). */
  close(): Promise<void>;
}

const optionsSchema = z.strictObject({
  port: z.int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  respond: z
    .custom<EmulatorRespond>((value) => typeof value === 'function', 'expected a function')
    .optional(),
  faults: z.array(faultSchema).optional(),
  expireAfterMs: z.int().min(1).optional(),
});

const OPTIONS_HINT = '(emulator options: port, host, respond, faults, expireAfterMs)';

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a local server that speaks Azure OpenAI chat completions, the OpenAI Responses and
 * Conversations APIs, and Bedrock Converse / ConverseStream, with a deterministic model. Bad
 * options throw `invalid_config` synchronously.
 */
export function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new CloudhopError('invalid_config', `${describeIssues(parsed.error, '')} ${OPTIONS_HINT}`);
  }
  const { port = 0, host = '127.0.0.1', respond, faults: initialFaults = [], expireAfterMs } = parsed.data;

  const faults = new FaultController();
  faults.replace(initialFaults);
  const stats = new StatsRecorder();
  const server = createEmulatorServer({
    services: { state: new ServerState(expireAfterMs), respond },
    faults,
    stats,
  });

  return server.listen(port, host).then((address) => {
    const url = `http://${urlHost(host)}:${address.port}`;
    let closed: Promise<void> | undefined;
    return {
      url,
      azureEndpoint: url,
      openaiBaseURL: `${url}/v1`,
      bedrockEndpoint: url,
      faults: {
        set(fault) {
          const result = parseFaults(fault);
          if (!result.ok) {
            throw new CloudhopError(
              'invalid_config',
              `${result.message} (fault shape: route, status, retryAfterMs, latencyMs, cutAfterChunks, dropStored, count | rate)`,
            );
          }
          faults.replace(result.faults);
        },
        clear: () => faults.clear(),
        list: () => faults.list(),
      },
      stats: () => stats.stats(),
      requests: (limit) => stats.requests(limit),
      close() {
        closed ??= server.close();
        return closed;
      },
    };
  });
}
