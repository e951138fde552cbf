import { registerSecret } from '../../core/secrets.js';
import { endpointLabel } from '../../runtime/endpoint-label.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../../runtime/runtime.js';
import {
  type BedrockErrorContext,
  malformedAnswerError,
  stopReasonError,
  toCloudhopError,
  truncatedStreamError,
} from './bedrock-converse-errors.js';
import {
  type BedrockConverseOptions,
  type BedrockCredentials,
  type BedrockCredentialsProvider,
  type BedrockRuntimeClientLike,
  type ParsedBedrockConverseOptions,
  parseBedrockConverseOptions,
} from './bedrock-converse-options.js';
import { buildConverseRequest } from './bedrock-converse-request.js';
import { type AnswerContext, answerBlocks, toStepResult } from './bedrock-converse-result.js';
import { readConverseStream } from './bedrock-converse-stream.js';
import { CleartextHttpHandler } from './cleartext-http-handler.js';
import { type BedrockSdk, loadBedrockSdk, loadNodeHttpHandler } from './load-bedrock-sdk.js';

export const BEDROCK_CONVERSE_FAMILY = 'aws-bedrock-converse';

/** Every AWS secret cloudhop is given, including those a provider resolves later, is kept out of messages. */
function registeredCredentials(
  credentials: BedrockCredentials | BedrockCredentialsProvider,
): BedrockCredentials | BedrockCredentialsProvider {
  const register = (resolved: BedrockCredentials) => {
    registerSecret(resolved.secretAccessKey);
    registerSecret(resolved.sessionToken);
    return resolved;
  };
  if (typeof credentials !== 'function') return register(credentials);
  return async () => register(await credentials());
}

/**
 * A client the application built carries its own credentials (`config.credentials`, a provider the
 * SDK memoizes). Resolving them before each request registers the secrets they hold, so an error
 * that echoes them cannot leak them. A provider that fails is left to fail the request itself.
 */
async function registerClientCredentials(client: BedrockRuntimeClientLike): Promise<void> {
  const provider = (client as { config?: { credentials?: unknown } }).config?.credentials;
  if (typeof provider !== 'function') return;
  try {
    const identity = (await provider()) as Partial<BedrockCredentials> | undefined;
    registerSecret(identity?.secretAccessKey);
    registerSecret(identity?.sessionToken);
  } catch {
    // The SDK resolves the credentials again for the request and reports its own error.
  }
}

interface BuiltClient {
  client: BedrockRuntimeClientLike;
  destroy?: () => void;
}

async function buildClient(
  sdk: BedrockSdk,
  options: ParsedBedrockConverseOptions,
  credentials: BedrockCredentials | BedrockCredentialsProvider | undefined,
): Promise<BuiltClient> {
  if (options.client) return { client: options.client };
  const client = new sdk.BedrockRuntimeClient({
    region: options.region,
    // cloudhop retries (with the agent's policy and failover); the SDK must not retry as well.
    maxAttempts: 1,
    // The endpoint is settled (option, environment or regional): the SDK must not pick another
    // from the shared config file, which the runtime id could not name.
    ...(options.endpoint ? { endpoint: options.endpoint } : { ignoreConfiguredEndpointUrls: true }),
    ...(credentials ? { credentials } : {}),
    ...(options.endpoint?.startsWith('http://')
      ? { requestHandler: new CleartextHttpHandler(await loadNodeHttpHandler()) }
      : {}),
  });
  return { client, destroy: () => client.destroy() };
}

/**
 * AWS Bedrock through the Converse API (`ConverseCommand` / `ConverseStreamCommand` of
 * `@aws-sdk/client-bedrock-runtime`, loaded on first use). Stateless: every step sends the
 * whole context. The id is `bedrock-converse:<host>/<model>`, where host is
 * `bedrock-runtime.<region>.amazonaws.com` or the endpoint's host and path (the option, or the
 * AWS SDK's endpoint variables).
 */
export function bedrockConverse(options: BedrockConverseOptions): Runtime {
  const parsed = parseBedrockConverseOptions(options);
  const credentials = parsed.credentials ? registeredCredentials(parsed.credentials) : undefined;
  const host = parsed.endpoint
    ? endpointLabel(parsed.endpoint)
    : `bedrock-runtime.${parsed.region}.amazonaws.com`;
  const id = `bedrock-converse:${host}/${parsed.model}`;
  const errorContext: BedrockErrorContext = {
    runtimeId: id,
    model: parsed.model,
    target: parsed.endpoint ? endpointLabel(parsed.endpoint) : parsed.region,
  };

  let built: Promise<BuiltClient> | undefined;
  const client = async (sdk: BedrockSdk): Promise<BedrockRuntimeClientLike> => {
    built ??= buildClient(sdk, parsed, credentials).catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built).client;
  };

  async function step(request: StepRequest, context: StepContext): Promise<StepResult> {
    const converse = await buildConverseRequest(request, { ...parsed, family: BEDROCK_CONVERSE_FAMILY });
    const answerContext: AnswerContext = {
      ...errorContext,
      family: BEDROCK_CONVERSE_FAMILY,
      ids: converse.ids,
      names: converse.names,
      requestBytes: converse.requestBytes,
      ...(converse.outputToolName === undefined ? {} : { outputToolName: converse.outputToolName }),
    };
    try {
      const sdk = await loadBedrockSdk();
      const bedrock = await client(sdk);
      if (parsed.client) await registerClientCredentials(bedrock);
      const sendOptions = { abortSignal: context.signal };
      if (request.stream) {
        const response = await bedrock.send(new sdk.ConverseStreamCommand(converse.input), sendOptions);
        const answer = await readConverseStream(response.stream ?? [], {
          emit: context.emit,
          ...(converse.outputToolName === undefined ? {} : { outputToolName: converse.outputToolName }),
        });
        if (answer.stopReason === undefined) throw truncatedStreamError(errorContext);
        return toStepResult(answer, answerContext);
      }
      const response = await bedrock.send(new sdk.ConverseCommand(converse.input), sendOptions);
      const content: unknown = response.output?.message?.content;
      if (!Array.isArray(content)) {
        throw stopReasonError(response.stopReason, errorContext) ?? malformedAnswerError(errorContext);
      }
      return toStepResult(
        {
          blocks: answerBlocks(content),
          stopReason: response.stopReason,
          usage: response.usage,
        },
        answerContext,
      );
    } catch (error) {
      throw toCloudhopError(error, errorContext, context.signal);
    }
  }

  return {
    id,
    kind: 'stateless',
    family: BEDROCK_CONVERSE_FAMILY,
    provider: 'aws.bedrock',
    model: parsed.model,
    step,
    async close() {
      const current = built;
      built = undefined;
      (await current?.catch(() => undefined))?.destroy?.();
    },
  };
}
