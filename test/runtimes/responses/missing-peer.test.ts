import { describe, expect, it, vi } from 'vitest';
import { frontier } from '../../../src/runtimes/responses/frontier.js';
import { recordingContext, stepRequest } from './responses-test-kit.js';

// As if the optional AWS signing peer were not installed.
vi.mock('@smithy/signature-v4', () => {
  throw Object.assign(new Error("Cannot find package '@smithy/signature-v4'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

describe('a missing optional peer', () => {
  it('fails the step with invalid_config saying what to install', async () => {
    const runtime = frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      service: 'bedrock-runtime',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'missing-peer-secret-key' },
    });
    const error = await runtime.step(stepRequest(), recordingContext()).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'invalid_config', retryable: false });
    expect((error as Error).message).toContain('npm install');
    expect((error as Error).message).toContain('@smithy/signature-v4');
  });
});
