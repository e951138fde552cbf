import { missingPackageError } from './bedrock-converse-errors.js';

export type BedrockSdk = typeof import('@aws-sdk/client-bedrock-runtime');
export type NodeHttpHandlerModule = typeof import('@smithy/node-http-handler');

let bedrockSdk: Promise<BedrockSdk> | undefined;
let nodeHttpHandler: Promise<NodeHttpHandlerModule> | undefined;

/**
 * Loads `@aws-sdk/client-bedrock-runtime` on first use, once, so that importing cloudhop (or
 * creating the runtime) never needs it.
 */
export function loadBedrockSdk(): Promise<BedrockSdk> {
  bedrockSdk ??= import('@aws-sdk/client-bedrock-runtime').catch((error: unknown) => {
    bedrockSdk = undefined;
    throw missingPackageError('@aws-sdk/client-bedrock-runtime', error);
  });
  return bedrockSdk;
}

/** `@smithy/node-http-handler`, needed only for `http://` endpoints (a dependency of the AWS SDK itself). */
export function loadNodeHttpHandler(): Promise<NodeHttpHandlerModule> {
  nodeHttpHandler ??= import('@smithy/node-http-handler').catch((error: unknown) => {
    nodeHttpHandler = undefined;
    throw missingPackageError('@smithy/node-http-handler', error);
  });
  return nodeHttpHandler;
}
