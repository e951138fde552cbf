import {
  GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK,
  GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { failover } from '../../src/index.js';
import { cloudsOn, MODELS } from '../integration/helpers.js';

// Only the endpoints are read: no request is sent.
const clouds = cloudsOn({
  azureEndpoint: 'https://myres.openai.azure.com',
  openaiBaseURL: 'https://api.example.com/v1',
  bedrockEndpoint: 'https://bedrock-runtime.us-east-1.amazonaws.com',
} as Emulator);

describe('what each runtime tells a trace about itself', () => {
  it.each([
    ['azureChat', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI, MODELS.azureChat],
    ['azureResponses', GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI, MODELS.azureResponses],
    ['openaiChat', GEN_AI_PROVIDER_NAME_VALUE_OPENAI, MODELS.openaiChat],
    ['openaiResponses', GEN_AI_PROVIDER_NAME_VALUE_OPENAI, MODELS.openaiResponses],
    ['frontier', GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK, MODELS.frontier],
    ['bedrockConverse', GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK, MODELS.bedrockConverse],
  ] as const)('%s names the GenAI provider %s and the model it requests', (name, provider, model) => {
    expect(clouds[name]).toMatchObject({ provider, model });
  });

  it('a failover group names neither: each request is traced under the member that sent it', () => {
    const group = failover([clouds.azureChat, clouds.frontier]);
    expect(group.provider).toBeUndefined();
    expect(group.model).toBeUndefined();
  });
});
