import { CloudhopError } from '../../core/errors.js';

export type OpenAIModule = typeof import('openai');

/**
 * Loads the optional `openai` peer on first use, so that importing cloudhop (or creating a
 * runtime) never requires it. `factory` names the runtime in the message when it is missing.
 */
export async function loadOpenAI(factory: string): Promise<OpenAIModule> {
  try {
    return await import('openai');
  } catch (error) {
    throw new CloudhopError(
      'invalid_config',
      `${factory} needs the 'openai' package (>= 6.49), which could not be loaded: install it with \`npm install openai\`.`,
      { cause: error, retryable: false },
    );
  }
}
