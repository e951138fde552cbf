import { messageOf } from '../core/errors.js';
import { type Emulator, startEmulator } from '../emulator/index.js';

const USAGE = `Usage: cloudhop emulator [--port 4010] [--host 127.0.0.1]
  --port <n>        port to listen on (0 picks a free one; default 4010)
  --host <address>  interface to bind (default 127.0.0.1: this machine only)
`;

interface EmulatorCommandOptions {
  port: number;
  host: string;
  help: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new Error(`--port: expected a whole number from 0 to 65535, got '${value}'`);
  }
  return port;
}

function parseArgs(argv: string[]): EmulatorCommandOptions {
  const options: EmulatorCommandOptions = { port: 4010, host: '127.0.0.1', help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      options.help = true;
      continue;
    }
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (flag !== '--port' && flag !== '--host') {
      throw new Error(
        `unknown option '${arg}' for 'cloudhop emulator' (options: --port <n>, --host <address>)`,
      );
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '')
      throw new Error(`${flag}: needs a value, e.g. ${flag} ${flag === '--port' ? '4010' : '127.0.0.1'}`);
    if (flag === '--port') options.port = parsePort(value);
    else options.host = value;
  }
  return options;
}

function listenFailure(error: unknown, options: EmulatorCommandOptions): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new Error(
      `port ${options.port} on ${options.host} is already in use: pick another with --port <n> (0 picks a free one)`,
    );
  }
  const reason = messageOf(error);
  return new Error(`cannot listen on ${options.host}:${options.port}: ${reason}`);
}

function banner(emulator: Emulator): string {
  const { url, azureEndpoint, openaiBaseURL, bedrockEndpoint } = emulator;
  return `cloudhop emulator listening on ${url} (HTTP/1.1 and HTTP/2)

Point the runtimes at it (any non-empty key is accepted). These read the environment:
  azureChat({ deployment: 'gpt-4o' })
    export AZURE_OPENAI_ENDPOINT=${azureEndpoint}
    export AZURE_OPENAI_API_KEY=emulator
  openaiChat({ model: 'gpt-4o' })
    export OPENAI_BASE_URL=${openaiBaseURL}
    export OPENAI_API_KEY=emulator
  bedrockConverse({ region: 'us-east-1', model: 'amazon.nova-lite-v1:0' })
    export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${bedrockEndpoint}
    export AWS_ACCESS_KEY_ID=emulator
    export AWS_SECRET_ACCESS_KEY=emulator
These take the URL as an option:
  azureResponses({ endpoint: '${azureEndpoint}', model: 'gpt-4o', apiKey: 'emulator' })
  openaiResponses({ baseURL: '${openaiBaseURL}', model: 'gpt-5.4', apiKey: 'emulator' })
  frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', baseURL: '${openaiBaseURL}', auth: { apiKey: 'emulator' } })

Stats: GET ${url}/_emulator/stats   Faults: POST/DELETE ${url}/_emulator/faults
Press Ctrl-C to stop.
`;
}

/** `cloudhop emulator`: runs the emulator until SIGINT or SIGTERM, then closes it and resolves. */
export async function runEmulatorCommand(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator({ port: options.port, host: options.host });
  } catch (error) {
    throw listenFailure(error, options);
  }
  process.stdout.write(banner(emulator));
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void emulator.close().then(() => {
        process.stdout.write(`cloudhop emulator stopped (${signal}).\n`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
