// Run as a separate process that dies of a CloudhopError nobody catches, so that a test can read
// what Node itself prints to stderr: the error and its `[cause]`, rendered by Node, not cloudhop.
import { bedrockConverse } from '../../../src/aws.js';
import { azureChat } from '../../../src/azure.js';
import { registerSecret } from '../../../src/core/secrets.js';
import { CloudhopError, createAgent, type Runtime } from '../../../src/index.js';

export interface Planted {
  apiKey: string;
  storePassword: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const [scenario, echoServer] = process.argv.slice(2) as [string, string];
const planted = JSON.parse(process.env.CLOUDHOP_PLANTED ?? '{}') as Planted;

/** The error Node's URL parser throws for a connection URL with a password and a bad host. */
function urlError(): unknown {
  try {
    new URL(`redis://app:${planted.storePassword}@cache internal:6379`);
  } catch (error) {
    return error;
  }
}

function agentOn(runtime: Runtime) {
  return createAgent({ runtime, retry: { maxRetries: 0 } });
}

switch (scenario) {
  case 'thrown': {
    registerSecret(planted.apiKey);
    const cause = Object.assign(
      new Error(`connection refused for key ${planted.apiKey}`, { cause: urlError() }),
      {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${planted.accessKeyId}/20250101/us-east-1/bedrock/aws4_request`,
        },
        request: { accessKeyId: planted.accessKeyId },
      },
    );
    throw new CloudhopError('store_unavailable', 'The session store failed. Check it is reachable.', {
      cause,
    });
  }
  case 'azure-chat':
    // Not caught: the rejection ends the process.
    await agentOn(
      azureChat({
        endpoint: echoServer,
        deployment: 'gpt-4o',
        apiKey: planted.apiKey,
        apiVersion: '2024-10-21',
      }),
    ).run('Hello', { session: 'crash' });
    break;
  case 'bedrock':
    await agentOn(
      bedrockConverse({
        region: 'us-east-1',
        model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
        endpoint: echoServer,
        credentials: { accessKeyId: planted.accessKeyId, secretAccessKey: planted.secretAccessKey },
      }),
    ).run('Hello', { session: 'crash' });
    break;
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
